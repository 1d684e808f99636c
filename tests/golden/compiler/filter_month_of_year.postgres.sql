WITH q_orders_1 AS (
  SELECT
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  WHERE
    CAST(EXTRACT(MONTH FROM orders.order_date) AS INT) IN (12, 1, 2)
)
SELECT
  q_orders_1.order_count AS orders
FROM q_orders_1

WITH q_orders_1 AS (
  SELECT
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  WHERE
    MONTH(orders.order_date) IN (12, 1, 2)
)
SELECT
  q_orders_1.order_count AS orders
FROM q_orders_1

WITH q_orders_1 AS (
  SELECT
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  WHERE
    customers.region IS NULL
)
SELECT
  q_orders_1.order_count AS orders
FROM q_orders_1

WITH q_orders_1 AS (
  SELECT
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  WHERE
    NOT customers.region IS NULL
    AND orders.channel LIKE 'On%'
    AND NOT customers.region IN ('East')
    AND orders.order_date >= CAST('2024-06-01' AS DATE)
    AND orders.order_date < CAST('2025-01-01' AS DATE)
)
SELECT
  q_orders_1.order_count AS orders
FROM q_orders_1

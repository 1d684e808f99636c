WITH q_orders_1 AS (
  SELECT
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  WHERE
    (
      orders.order_date >= CAST('2024-01-01' AS DATE)
      AND orders.order_date < CAST('2024-02-01' AS DATE)
      OR orders.order_date >= CAST('2024-12-01' AS DATE)
      AND orders.order_date < CAST('2025-01-01' AS DATE)
    )
)
SELECT
  q_orders_1.order_count AS orders
FROM q_orders_1

WITH q_orders_1 AS (
  SELECT
    orders.channel AS order__channel,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  WHERE
    MONTH(orders.order_date) IN (1, 2, 12)
    AND orders.order_date >= CAST('2024-01-01' AS DATE)
    AND orders.order_date < CAST('2025-01-01' AS DATE)
  GROUP BY
    orders.channel
)
SELECT
  q_orders_1.order__channel AS order__channel,
  q_orders_1.order_count AS orders
FROM q_orders_1
ORDER BY
  CASE WHEN q_orders_1.order__channel IS NULL THEN 1 ELSE 0 END, q_orders_1.order__channel ASC

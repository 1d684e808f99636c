WITH q_orders_1 AS (
  SELECT
    orders.channel AS order__channel,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  WHERE
    CAST(EXTRACT(MONTH FROM orders.order_date) AS INT) IN (1, 2, 12)
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
  q_orders_1.order__channel ASC

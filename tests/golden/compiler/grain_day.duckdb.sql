WITH q_orders_1 AS (
  SELECT
    CAST(DATE_TRUNC('DAY', orders.order_date) AS DATE) AS metric_time__day,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  WHERE
    orders.order_date >= CAST('2024-03-01' AS DATE)
    AND orders.order_date < CAST('2024-04-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('DAY', orders.order_date) AS DATE)
)
SELECT
  q_orders_1.metric_time__day AS metric_time__day,
  q_orders_1.order_count AS orders
FROM q_orders_1
ORDER BY
  q_orders_1.metric_time__day ASC

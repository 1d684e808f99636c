WITH q_orders_1 AS (
  SELECT
    DATE(orders.order_date) AS metric_time__day,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  WHERE
    orders.order_date >= CAST('2024-03-01' AS DATE)
    AND orders.order_date < CAST('2024-04-01' AS DATE)
  GROUP BY
    DATE(orders.order_date)
)
SELECT
  q_orders_1.metric_time__day AS metric_time__day,
  q_orders_1.order_count AS orders
FROM q_orders_1
ORDER BY
  CASE WHEN q_orders_1.metric_time__day IS NULL THEN 1 ELSE 0 END, q_orders_1.metric_time__day ASC

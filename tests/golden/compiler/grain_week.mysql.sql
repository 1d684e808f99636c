WITH q_orders_1 AS (
  SELECT
    DATE_SUB(DATE(orders.order_date), INTERVAL (WEEKDAY(orders.order_date)) DAY) AS metric_time__week,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  WHERE
    orders.order_date >= CAST('2024-02-01' AS DATE)
    AND orders.order_date < CAST('2024-04-01' AS DATE)
  GROUP BY
    DATE_SUB(DATE(orders.order_date), INTERVAL (WEEKDAY(orders.order_date)) DAY)
)
SELECT
  q_orders_1.metric_time__week AS metric_time__week,
  q_orders_1.order_count AS orders
FROM q_orders_1
ORDER BY
  CASE WHEN q_orders_1.metric_time__week IS NULL THEN 1 ELSE 0 END, q_orders_1.metric_time__week ASC

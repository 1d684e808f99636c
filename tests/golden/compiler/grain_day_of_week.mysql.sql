WITH q_orders_1 AS (
  SELECT
    WEEKDAY(orders.order_date) + 1 AS metric_time__day_of_week,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  GROUP BY
    WEEKDAY(orders.order_date) + 1
)
SELECT
  q_orders_1.metric_time__day_of_week AS metric_time__day_of_week,
  q_orders_1.order_count AS orders
FROM q_orders_1
ORDER BY
  CASE WHEN q_orders_1.metric_time__day_of_week IS NULL THEN 1 ELSE 0 END, q_orders_1.metric_time__day_of_week ASC

WITH q_orders_1 AS (
  SELECT
    DATE_SUB(DATE(orders.order_date), INTERVAL (
      DAYOFMONTH(orders.order_date) - 1
    ) DAY) AS metric_time__month,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  GROUP BY
    DATE_SUB(DATE(orders.order_date), INTERVAL (
      DAYOFMONTH(orders.order_date) - 1
    ) DAY)
)
SELECT
  q_orders_1.metric_time__month AS metric_time__month,
  q_orders_1.order_count AS orders
FROM q_orders_1
ORDER BY
  CASE WHEN q_orders_1.metric_time__month IS NULL THEN 1 ELSE 0 END, q_orders_1.metric_time__month ASC

WITH q_orders_1 AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE) AS metric_time__month,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  GROUP BY
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE)
)
SELECT
  q_orders_1.metric_time__month AS metric_time__month,
  q_orders_1.order_count AS orders
FROM q_orders_1
ORDER BY
  q_orders_1.metric_time__month ASC

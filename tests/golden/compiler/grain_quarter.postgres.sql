WITH q_orders_1 AS (
  SELECT
    CAST(DATE_TRUNC('QUARTER', orders.order_date) AS DATE) AS metric_time__quarter,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  GROUP BY
    CAST(DATE_TRUNC('QUARTER', orders.order_date) AS DATE)
)
SELECT
  q_orders_1.metric_time__quarter AS metric_time__quarter,
  q_orders_1.order_count AS orders
FROM q_orders_1
ORDER BY
  q_orders_1.metric_time__quarter ASC

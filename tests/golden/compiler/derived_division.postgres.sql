WITH q_orders_1 AS (
  SELECT
    CAST(DATE_TRUNC('YEAR', orders.order_date) AS DATE) AS metric_time__year,
    COUNT(DISTINCT CASE WHEN orders.channel = 'Online' THEN orders.order_id END) AS order_count__online_orders,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  GROUP BY
    CAST(DATE_TRUNC('YEAR', orders.order_date) AS DATE)
)
SELECT
  q_orders_1.metric_time__year AS metric_time__year,
  CAST((
    CAST(q_orders_1.order_count__online_orders AS DOUBLE PRECISION)
  ) AS DOUBLE PRECISION) / NULLIF((
    CAST(q_orders_1.order_count AS DOUBLE PRECISION)
  ), 0) AS online_share
FROM q_orders_1
ORDER BY
  q_orders_1.metric_time__year ASC

WITH q_orders_1 AS (
  SELECT
    CAST(DATE_TRUNC('WEEK', orders.order_date) AS DATE) AS metric_time__week,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  WHERE
    orders.order_date >= CAST('2024-02-01' AS DATE)
    AND orders.order_date < CAST('2024-04-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('WEEK', orders.order_date) AS DATE)
)
SELECT
  q_orders_1.metric_time__week AS metric_time__week,
  q_orders_1.order_count AS orders
FROM q_orders_1
ORDER BY
  q_orders_1.metric_time__week ASC

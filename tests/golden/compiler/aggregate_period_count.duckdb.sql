WITH q_orders_1 AS (
  SELECT
    orders.channel AS order__channel,
    COUNT(DISTINCT CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE)) AS month_count,
    COUNT(DISTINCT DATE_TRUNC('HOUR', orders.ordered_at)) AS hour_count
  FROM orders AS orders
  GROUP BY
    orders.channel
)
SELECT
  q_orders_1.order__channel AS order__channel,
  q_orders_1.month_count AS month_count,
  q_orders_1.hour_count AS hour_count
FROM q_orders_1
ORDER BY
  q_orders_1.order__channel ASC

WITH q_orders_1 AS (
  SELECT
    orders.channel AS order__channel,
    COUNT(
      DISTINCT DATE_SUB(DATE(orders.order_date), INTERVAL (
        DAYOFMONTH(orders.order_date) - 1
      ) DAY)
    ) AS month_count,
    COUNT(DISTINCT CAST(DATE_FORMAT(orders.ordered_at, '%Y-%m-%d %H:00:00') AS DATETIME)) AS hour_count
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
  CASE WHEN q_orders_1.order__channel IS NULL THEN 1 ELSE 0 END, q_orders_1.order__channel ASC

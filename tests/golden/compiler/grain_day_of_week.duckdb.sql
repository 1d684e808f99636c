WITH q_orders_1 AS (
  SELECT
    ISODOW(orders.order_date) AS metric_time__day_of_week,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  GROUP BY
    ISODOW(orders.order_date)
)
SELECT
  q_orders_1.metric_time__day_of_week AS metric_time__day_of_week,
  q_orders_1.order_count AS orders
FROM q_orders_1
ORDER BY
  q_orders_1.metric_time__day_of_week ASC

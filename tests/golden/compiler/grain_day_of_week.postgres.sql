WITH q_orders_1 AS (
  SELECT
    CAST(EXTRACT(ISODOW FROM orders.order_date) AS INT) AS metric_time__day_of_week,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  GROUP BY
    CAST(EXTRACT(ISODOW FROM orders.order_date) AS INT)
)
SELECT
  q_orders_1.metric_time__day_of_week AS metric_time__day_of_week,
  q_orders_1.order_count AS orders
FROM q_orders_1
ORDER BY
  q_orders_1.metric_time__day_of_week ASC

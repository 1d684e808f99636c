WITH q_orders_1 AS (
  SELECT
    DATE_ADD(
      MAKEDATE(YEAR(orders.order_date), 1),
      INTERVAL (
        QUARTER(orders.order_date) - 1
      ) QUARTER
    ) AS metric_time__quarter,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  GROUP BY
    DATE_ADD(
      MAKEDATE(YEAR(orders.order_date), 1),
      INTERVAL (
        QUARTER(orders.order_date) - 1
      ) QUARTER
    )
)
SELECT
  q_orders_1.metric_time__quarter AS metric_time__quarter,
  q_orders_1.order_count AS orders
FROM q_orders_1
ORDER BY
  CASE WHEN q_orders_1.metric_time__quarter IS NULL THEN 1 ELSE 0 END, q_orders_1.metric_time__quarter ASC

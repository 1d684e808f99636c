WITH q_order_items_1_base AS (
  SELECT
    DATE_SUB(DATE(orders.order_date), INTERVAL (
      DAYOFMONTH(orders.order_date) - 1
    ) DAY) AS metric_time__month,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.order_date < CAST('2025-02-01' AS DATE)
  GROUP BY
    DATE_SUB(DATE(orders.order_date), INTERVAL (
      DAYOFMONTH(orders.order_date) - 1
    ) DAY)
), q_order_items_1 AS (
  SELECT
    cur.metric_time__month AS metric_time__month,
    SUM(prev.sales_total) AS sales_total
  FROM q_order_items_1_base AS cur
  JOIN q_order_items_1_base AS prev
    ON prev.metric_time__month <= cur.metric_time__month
  WHERE
    cur.metric_time__month >= CAST('2024-07-01' AS DATE)
  GROUP BY
    cur.metric_time__month
)
SELECT
  q_order_items_1.metric_time__month AS metric_time__month,
  q_order_items_1.sales_total AS sales_running
FROM q_order_items_1
ORDER BY
  CASE WHEN q_order_items_1.metric_time__month IS NULL THEN 1 ELSE 0 END, q_order_items_1.metric_time__month ASC

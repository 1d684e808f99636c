WITH q_order_items_1_base AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE) AS metric_time__month,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.order_date < CAST('2024-09-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE)
), q_order_items_1 AS (
  SELECT
    cur.metric_time__month AS metric_time__month,
    SUM(prev.sales_total) AS sales_total
  FROM q_order_items_1_base AS cur
  JOIN q_order_items_1_base AS prev
    ON prev.metric_time__month <= cur.metric_time__month
    AND prev.metric_time__month > CAST(cur.metric_time__month + INTERVAL '-3' MONTH AS DATE)
  WHERE
    cur.metric_time__month >= CAST('2024-05-01' AS DATE)
  GROUP BY
    cur.metric_time__month
)
SELECT
  q_order_items_1.metric_time__month AS metric_time__month,
  q_order_items_1.sales_total AS sales_3m
FROM q_order_items_1
ORDER BY
  q_order_items_1.metric_time__month ASC

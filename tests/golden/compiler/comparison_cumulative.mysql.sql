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
    orders.order_date < CAST('2025-04-01' AS DATE)
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
    AND prev.metric_time__month >= MAKEDATE(YEAR(cur.metric_time__month), 1)
  WHERE
    cur.metric_time__month >= CAST('2025-01-01' AS DATE)
  GROUP BY
    cur.metric_time__month
), answer AS (
  SELECT
    q_order_items_1.metric_time__month AS metric_time__month,
    q_order_items_1.sales_total AS sales_ytd
  FROM q_order_items_1
), p_order_items_1_base AS (
  SELECT
    DATE_SUB(DATE(orders.order_date), INTERVAL (
      DAYOFMONTH(orders.order_date) - 1
    ) DAY) AS metric_time__month,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.order_date < CAST('2025-01-01' AS DATE)
  GROUP BY
    DATE_SUB(DATE(orders.order_date), INTERVAL (
      DAYOFMONTH(orders.order_date) - 1
    ) DAY)
), p_order_items_1 AS (
  SELECT
    CAST(DATE_ADD(cur.metric_time__month, INTERVAL '3' MONTH) AS DATE) AS metric_time__month,
    SUM(prev.sales_total) AS sales_total
  FROM p_order_items_1_base AS cur
  JOIN p_order_items_1_base AS prev
    ON prev.metric_time__month <= cur.metric_time__month
    AND prev.metric_time__month >= MAKEDATE(YEAR(cur.metric_time__month), 1)
  WHERE
    cur.metric_time__month >= CAST('2024-10-01' AS DATE)
  GROUP BY
    cur.metric_time__month
), previous AS (
  SELECT
    p_order_items_1.metric_time__month AS metric_time__month,
    p_order_items_1.sales_total AS sales_ytd
  FROM p_order_items_1
), final AS (
  SELECT
    answer.metric_time__month AS metric_time__month,
    answer.sales_ytd AS sales_ytd,
    previous.sales_ytd AS sales_ytd__previous,
    answer.sales_ytd - previous.sales_ytd AS sales_ytd__difference,
    (
      CAST(answer.sales_ytd AS DOUBLE) - CAST(previous.sales_ytd AS DOUBLE)
    ) / NULLIF(previous.sales_ytd, 0) AS sales_ytd__change_pct
  FROM answer
  LEFT JOIN previous
    ON previous.metric_time__month <=> answer.metric_time__month
)
SELECT
  final.metric_time__month,
  final.sales_ytd,
  final.sales_ytd__previous,
  final.sales_ytd__difference,
  final.sales_ytd__change_pct
FROM final
ORDER BY
  CASE WHEN final.metric_time__month IS NULL THEN 1 ELSE 0 END, final.metric_time__month ASC

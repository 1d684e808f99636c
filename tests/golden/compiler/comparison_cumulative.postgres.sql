WITH q_order_items_1_base AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE) AS metric_time__month,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.order_date < CAST('2025-04-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE)
), q_order_items_1 AS (
  SELECT
    cur.metric_time__month AS metric_time__month,
    SUM(prev.sales_total) AS sales_total
  FROM q_order_items_1_base AS cur
  JOIN q_order_items_1_base AS prev
    ON prev.metric_time__month <= cur.metric_time__month
    AND prev.metric_time__month >= CAST(DATE_TRUNC('YEAR', cur.metric_time__month) AS DATE)
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
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE) AS metric_time__month,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.order_date < CAST('2025-01-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE)
), p_order_items_1 AS (
  SELECT
    CAST(cur.metric_time__month + INTERVAL '3 MONTH' AS DATE) AS metric_time__month,
    SUM(prev.sales_total) AS sales_total
  FROM p_order_items_1_base AS cur
  JOIN p_order_items_1_base AS prev
    ON prev.metric_time__month <= cur.metric_time__month
    AND prev.metric_time__month >= CAST(DATE_TRUNC('YEAR', cur.metric_time__month) AS DATE)
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
    CAST((
      CAST(answer.sales_ytd AS DOUBLE PRECISION) - CAST(previous.sales_ytd AS DOUBLE PRECISION)
    ) AS DOUBLE PRECISION) / NULLIF(previous.sales_ytd, 0) AS sales_ytd__change_pct
  FROM answer
  LEFT JOIN previous
    ON previous.metric_time__month IS NOT DISTINCT FROM answer.metric_time__month
)
SELECT
  final.metric_time__month,
  final.sales_ytd,
  final.sales_ytd__previous,
  final.sales_ytd__difference,
  final.sales_ytd__change_pct
FROM final
ORDER BY
  final.metric_time__month ASC

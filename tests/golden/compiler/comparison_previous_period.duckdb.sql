WITH q_order_items_1 AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE) AS metric_time__month,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.order_date >= CAST('2025-04-01' AS DATE)
    AND orders.order_date < CAST('2025-07-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE)
), answer AS (
  SELECT
    q_order_items_1.metric_time__month AS metric_time__month,
    q_order_items_1.sales_total AS sales
  FROM q_order_items_1
), p_order_items_1 AS (
  SELECT
    CAST(CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE) + INTERVAL '3' MONTH AS DATE) AS metric_time__month,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.order_date >= CAST('2025-01-01' AS DATE)
    AND orders.order_date < CAST('2025-04-01' AS DATE)
  GROUP BY
    CAST(CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE) + INTERVAL '3' MONTH AS DATE)
), previous AS (
  SELECT
    p_order_items_1.metric_time__month AS metric_time__month,
    p_order_items_1.sales_total AS sales
  FROM p_order_items_1
), final AS (
  SELECT
    answer.metric_time__month AS metric_time__month,
    answer.sales AS sales,
    previous.sales AS sales__previous,
    answer.sales - previous.sales AS sales__difference,
    (
      CAST(answer.sales AS DOUBLE) - CAST(previous.sales AS DOUBLE)
    ) / NULLIF(previous.sales, 0) AS sales__change_pct
  FROM answer
  LEFT JOIN previous
    ON previous.metric_time__month IS NOT DISTINCT FROM answer.metric_time__month
)
SELECT
  final.metric_time__month,
  final.sales,
  final.sales__previous,
  final.sales__difference,
  final.sales__change_pct
FROM final
ORDER BY
  final.metric_time__month ASC

WITH q_order_items_1 AS (
  SELECT
    CAST(DATE_TRUNC('DAY', orders.order_date) AS DATE) AS metric_time__day,
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE) AS metric_time__month,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  GROUP BY
    CAST(DATE_TRUNC('DAY', orders.order_date) AS DATE),
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE)
)
SELECT
  r.metric_time__day,
  r.metric_time__month,
  r.sales
FROM (
  SELECT
    t.metric_time__day,
    t.metric_time__month,
    t.sales,
    ROW_NUMBER() OVER (
      PARTITION BY t.metric_time__month
      ORDER BY t.sales DESC NULLS LAST, t.metric_time__day ASC
    ) AS rank_in_group
  FROM (
    SELECT
      q_order_items_1.metric_time__day AS metric_time__day,
      q_order_items_1.metric_time__month AS metric_time__month,
      q_order_items_1.sales_total AS sales
    FROM q_order_items_1
  ) AS t
) AS r
WHERE
  r.rank_in_group <= 1
ORDER BY
  r.metric_time__month ASC,
  r.rank_in_group

WITH q_order_items_1 AS (
  SELECT
    DATE(orders.order_date) AS metric_time__day,
    DATE_SUB(DATE(orders.order_date), INTERVAL (
      DAYOFMONTH(orders.order_date) - 1
    ) DAY) AS metric_time__month,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  GROUP BY
    DATE(orders.order_date),
    DATE_SUB(DATE(orders.order_date), INTERVAL (
      DAYOFMONTH(orders.order_date) - 1
    ) DAY)
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
      ORDER BY t.sales DESC, CASE WHEN t.metric_time__day IS NULL THEN 1 ELSE 0 END, t.metric_time__day ASC
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
  CASE WHEN r.metric_time__month IS NULL THEN 1 ELSE 0 END, r.metric_time__month ASC,
  CASE WHEN r.rank_in_group IS NULL THEN 1 ELSE 0 END, r.rank_in_group

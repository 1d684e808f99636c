WITH q_order_items_1 AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE) AS metric_time__month,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.order_date >= CAST('2024-01-01' AS DATE)
    AND orders.order_date < CAST('2024-07-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE)
), q_ads_2 AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', ads.month) AS DATE) AS metric_time__month,
    SUM(ads.spend) AS spend_total
  FROM ads AS ads
  WHERE
    ads.month >= CAST('2024-01-01' AS DATE)
    AND ads.month < CAST('2024-07-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', ads.month) AS DATE)
), q_keys AS (
  SELECT
    metric_time__month
  FROM q_order_items_1
  UNION
  SELECT
    metric_time__month
  FROM q_ads_2
)
SELECT
  q_keys.metric_time__month AS metric_time__month,
  CAST(q_order_items_1.sales_total AS DOUBLE PRECISION) / NULLIF(q_ads_2.spend_total, 0) AS roas
FROM q_keys
LEFT JOIN q_order_items_1
  ON q_order_items_1.metric_time__month IS NOT DISTINCT FROM q_keys.metric_time__month
LEFT JOIN q_ads_2
  ON q_ads_2.metric_time__month IS NOT DISTINCT FROM q_keys.metric_time__month
ORDER BY
  q_keys.metric_time__month ASC

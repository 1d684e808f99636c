WITH q_order_items_1 AS (
  SELECT
    DATE_SUB(DATE(orders.order_date), INTERVAL (
      DAYOFMONTH(orders.order_date) - 1
    ) DAY) AS metric_time__month,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.order_date >= CAST('2024-01-01' AS DATE)
    AND orders.order_date < CAST('2024-07-01' AS DATE)
  GROUP BY
    DATE_SUB(DATE(orders.order_date), INTERVAL (
      DAYOFMONTH(orders.order_date) - 1
    ) DAY)
), q_ads_2 AS (
  SELECT
    DATE_SUB(DATE(ads.month), INTERVAL (
      DAYOFMONTH(ads.month) - 1
    ) DAY) AS metric_time__month,
    SUM(ads.spend) AS spend_total
  FROM ads AS ads
  WHERE
    ads.month >= CAST('2024-01-01' AS DATE)
    AND ads.month < CAST('2024-07-01' AS DATE)
  GROUP BY
    DATE_SUB(DATE(ads.month), INTERVAL (
      DAYOFMONTH(ads.month) - 1
    ) DAY)
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
  CAST(q_order_items_1.sales_total AS DOUBLE) / NULLIF(q_ads_2.spend_total, 0) AS roas,
  q_ads_2.spend_total AS ad_spend,
  q_order_items_1.sales_total AS sales
FROM q_keys
LEFT JOIN q_order_items_1
  ON q_order_items_1.metric_time__month <=> q_keys.metric_time__month
LEFT JOIN q_ads_2
  ON q_ads_2.metric_time__month <=> q_keys.metric_time__month
ORDER BY
  CASE WHEN q_keys.metric_time__month IS NULL THEN 1 ELSE 0 END, q_keys.metric_time__month ASC

WITH q_order_items_1 AS (
  SELECT
    DATE(orders.order_date) AS metric_time__day,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.order_date >= CAST('2024-01-01' AS DATE)
    AND orders.order_date < CAST('2024-02-01' AS DATE)
  GROUP BY
    DATE(orders.order_date)
), q_ads_2 AS (
  SELECT
    DATE(ads.month) AS metric_time__day,
    SUM(ads.spend) AS spend_total
  FROM ads AS ads
  WHERE
    ads.month >= CAST('2024-01-01' AS DATE)
    AND ads.month < CAST('2024-02-01' AS DATE)
  GROUP BY
    DATE(ads.month)
), q_keys AS (
  SELECT
    metric_time__day
  FROM q_order_items_1
  UNION
  SELECT
    metric_time__day
  FROM q_ads_2
)
SELECT
  q_keys.metric_time__day AS metric_time__day,
  (
    COALESCE(q_order_items_1.sales_total, 0)
  ) - (
    COALESCE(q_ads_2.spend_total, 0)
  ) AS net
FROM q_keys
LEFT JOIN q_order_items_1
  ON q_order_items_1.metric_time__day <=> q_keys.metric_time__day
LEFT JOIN q_ads_2
  ON q_ads_2.metric_time__day <=> q_keys.metric_time__day
ORDER BY
  CASE WHEN q_keys.metric_time__day IS NULL THEN 1 ELSE 0 END, q_keys.metric_time__day ASC

WITH q_order_items_1 AS (
  SELECT
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.order_date >= CAST('2024-04-01' AS DATE)
    AND orders.order_date < CAST('2024-07-01' AS DATE)
), q_ads_2 AS (
  SELECT
    SUM(ads.spend) AS spend_total
  FROM ads AS ads
  WHERE
    ads.month >= CAST('2024-04-01' AS DATE)
    AND ads.month < CAST('2024-07-01' AS DATE)
), answer AS (
  SELECT
    q_order_items_1.sales_total AS sales,
    q_ads_2.spend_total AS ad_spend
  FROM q_order_items_1
  CROSS JOIN q_ads_2
), p_order_items_1 AS (
  SELECT
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.order_date >= CAST('2024-01-01' AS DATE)
    AND orders.order_date < CAST('2024-04-01' AS DATE)
), p_ads_2 AS (
  SELECT
    SUM(ads.spend) AS spend_total
  FROM ads AS ads
  WHERE
    ads.month >= CAST('2024-01-01' AS DATE)
    AND ads.month < CAST('2024-04-01' AS DATE)
), previous AS (
  SELECT
    p_order_items_1.sales_total AS sales,
    p_ads_2.spend_total AS ad_spend
  FROM p_order_items_1
  CROSS JOIN p_ads_2
), final AS (
  SELECT
    answer.sales AS sales,
    answer.ad_spend AS ad_spend,
    previous.sales AS sales__previous,
    answer.sales - previous.sales AS sales__difference,
    (
      CAST(answer.sales AS DOUBLE) - CAST(previous.sales AS DOUBLE)
    ) / NULLIF(previous.sales, 0) AS sales__change_pct,
    previous.ad_spend AS ad_spend__previous,
    answer.ad_spend - previous.ad_spend AS ad_spend__difference,
    (
      CAST(answer.ad_spend AS DOUBLE) - CAST(previous.ad_spend AS DOUBLE)
    ) / NULLIF(previous.ad_spend, 0) AS ad_spend__change_pct,
    CAST(answer.sales AS DOUBLE) / NULLIF(SUM(answer.sales) OVER (), 0) AS sales__share,
    CAST(answer.ad_spend AS DOUBLE) / NULLIF(SUM(answer.ad_spend) OVER (), 0) AS ad_spend__share
  FROM answer
  LEFT JOIN previous
    ON TRUE
)
SELECT
  final.sales,
  final.ad_spend,
  final.sales__previous,
  final.sales__difference,
  final.sales__change_pct,
  final.ad_spend__previous,
  final.ad_spend__difference,
  final.ad_spend__change_pct,
  final.sales__share,
  final.ad_spend__share
FROM final

WITH q_order_items_1 AS (
  SELECT
    orders.channel AS order__channel,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  GROUP BY
    orders.channel
), answer AS (
  SELECT
    q_order_items_1.order__channel AS order__channel,
    q_order_items_1.sales_total AS sales
  FROM q_order_items_1
), final AS (
  SELECT
    answer.order__channel AS order__channel,
    answer.sales AS sales,
    CAST(answer.sales AS DOUBLE) / NULLIF(SUM(answer.sales) OVER (), 0) AS sales__share
  FROM answer
)
SELECT
  final.order__channel,
  final.sales,
  final.sales__share
FROM final
WHERE
  final.order__channel = 'Online'
ORDER BY
  CASE WHEN final.order__channel IS NULL THEN 1 ELSE 0 END, final.order__channel ASC

WITH q_order_items_1 AS (
  SELECT
    orders.channel AS order__channel,
    order_items.order_id AS order__order_id,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  GROUP BY
    orders.channel,
    order_items.order_id
), per_member AS (
  SELECT
    q_order_items_1.order__channel AS order__channel,
    q_order_items_1.order__order_id AS order__order_id,
    q_order_items_1.sales_total AS sales
  FROM q_order_items_1
)
SELECT
  per_member.order__channel AS order__channel,
  MAX(per_member.sales) AS order_total_max
FROM per_member
GROUP BY
  per_member.order__channel
ORDER BY
  MAX(per_member.sales) DESC,
  CASE WHEN per_member.order__channel IS NULL THEN 1 ELSE 0 END, per_member.order__channel ASC
LIMIT 1

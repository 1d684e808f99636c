WITH q_order_items_1 AS (
  SELECT
    orders.channel AS order__channel,
    MIN(order_items.amount) AS amount_min,
    MAX(order_items.amount) AS amount_max
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  GROUP BY
    orders.channel
)
SELECT
  q_order_items_1.order__channel AS order__channel,
  q_order_items_1.amount_min AS amount_min,
  q_order_items_1.amount_max AS amount_max
FROM q_order_items_1
ORDER BY
  CASE WHEN q_order_items_1.order__channel IS NULL THEN 1 ELSE 0 END, q_order_items_1.order__channel ASC

WITH q_order_items_1 AS (
  SELECT
    orders.channel AS order__channel,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  GROUP BY
    orders.channel
), q_orders_2 AS (
  SELECT
    orders.channel AS order__channel,
    SUM(orders.shipping) AS shipping_total,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  GROUP BY
    orders.channel
), q_keys AS (
  SELECT
    order__channel
  FROM q_order_items_1
  UNION
  SELECT
    order__channel
  FROM q_orders_2
)
SELECT
  q_keys.order__channel AS order__channel,
  q_order_items_1.sales_total AS sales,
  (
    COALESCE(q_order_items_1.sales_total, 0)
  ) + (
    COALESCE(q_orders_2.shipping_total, 0)
  ) AS billed_by_hand,
  CAST((
    CAST(COALESCE(q_order_items_1.sales_total, 0) AS DOUBLE PRECISION)
  ) AS DOUBLE PRECISION) / NULLIF((
    CAST(COALESCE(q_orders_2.order_count, 0) AS DOUBLE PRECISION)
  ), 0) AS per_order
FROM q_keys
LEFT JOIN q_order_items_1
  ON q_order_items_1.order__channel IS NOT DISTINCT FROM q_keys.order__channel
LEFT JOIN q_orders_2
  ON q_orders_2.order__channel IS NOT DISTINCT FROM q_keys.order__channel
ORDER BY
  q_keys.order__channel ASC

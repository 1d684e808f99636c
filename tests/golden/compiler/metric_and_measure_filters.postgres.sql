WITH q_orders_1 AS (
  SELECT
    CAST(DATE_TRUNC('QUARTER', orders.order_date) AS DATE) AS metric_time__quarter,
    COUNT(DISTINCT CASE WHEN orders.channel = 'Online' THEN orders.order_id END) AS order_count__online_orders,
    COUNT(DISTINCT orders.order_id) AS order_count,
    MAX(orders.shipping) AS shipping_max
  FROM orders AS orders
  GROUP BY
    CAST(DATE_TRUNC('QUARTER', orders.order_date) AS DATE)
), q_order_items_2 AS (
  SELECT
    CAST(DATE_TRUNC('QUARTER', orders.order_date) AS DATE) AS metric_time__quarter,
    SUM(order_items.amount) AS big_sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    order_items.amount >= 50
  GROUP BY
    CAST(DATE_TRUNC('QUARTER', orders.order_date) AS DATE)
), q_keys AS (
  SELECT
    metric_time__quarter
  FROM q_orders_1
  UNION
  SELECT
    metric_time__quarter
  FROM q_order_items_2
)
SELECT
  q_keys.metric_time__quarter AS metric_time__quarter,
  q_orders_1.order_count__online_orders AS online_orders,
  q_orders_1.order_count AS orders,
  q_order_items_2.big_sales_total AS big_sales,
  q_orders_1.shipping_max AS max_shipping
FROM q_keys
LEFT JOIN q_orders_1
  ON q_orders_1.metric_time__quarter IS NOT DISTINCT FROM q_keys.metric_time__quarter
LEFT JOIN q_order_items_2
  ON q_order_items_2.metric_time__quarter IS NOT DISTINCT FROM q_keys.metric_time__quarter
ORDER BY
  q_keys.metric_time__quarter ASC

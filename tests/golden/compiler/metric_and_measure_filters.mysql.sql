WITH q_orders_1 AS (
  SELECT
    DATE_ADD(
      MAKEDATE(YEAR(orders.order_date), 1),
      INTERVAL (
        QUARTER(orders.order_date) - 1
      ) QUARTER
    ) AS metric_time__quarter,
    COUNT(DISTINCT CASE WHEN orders.channel = 'Online' THEN orders.order_id END) AS order_count__online_orders,
    COUNT(DISTINCT orders.order_id) AS order_count,
    MAX(orders.shipping) AS shipping_max
  FROM orders AS orders
  GROUP BY
    DATE_ADD(
      MAKEDATE(YEAR(orders.order_date), 1),
      INTERVAL (
        QUARTER(orders.order_date) - 1
      ) QUARTER
    )
), q_order_items_2 AS (
  SELECT
    DATE_ADD(
      MAKEDATE(YEAR(orders.order_date), 1),
      INTERVAL (
        QUARTER(orders.order_date) - 1
      ) QUARTER
    ) AS metric_time__quarter,
    SUM(order_items.amount) AS big_sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    order_items.amount >= 50
  GROUP BY
    DATE_ADD(
      MAKEDATE(YEAR(orders.order_date), 1),
      INTERVAL (
        QUARTER(orders.order_date) - 1
      ) QUARTER
    )
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
  ON q_orders_1.metric_time__quarter <=> q_keys.metric_time__quarter
LEFT JOIN q_order_items_2
  ON q_order_items_2.metric_time__quarter <=> q_keys.metric_time__quarter
ORDER BY
  CASE WHEN q_keys.metric_time__quarter IS NULL THEN 1 ELSE 0 END, q_keys.metric_time__quarter ASC

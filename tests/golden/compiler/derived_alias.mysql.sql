WITH q_order_items_1 AS (
  SELECT
    DATE_ADD(
      MAKEDATE(YEAR(orders.order_date), 1),
      INTERVAL (
        QUARTER(orders.order_date) - 1
      ) QUARTER
    ) AS metric_time__quarter,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  GROUP BY
    DATE_ADD(
      MAKEDATE(YEAR(orders.order_date), 1),
      INTERVAL (
        QUARTER(orders.order_date) - 1
      ) QUARTER
    )
), q_orders_2 AS (
  SELECT
    DATE_ADD(
      MAKEDATE(YEAR(orders.order_date), 1),
      INTERVAL (
        QUARTER(orders.order_date) - 1
      ) QUARTER
    ) AS metric_time__quarter,
    SUM(orders.shipping) AS shipping_total
  FROM orders AS orders
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
  FROM q_order_items_1
  UNION
  SELECT
    metric_time__quarter
  FROM q_orders_2
)
SELECT
  q_keys.metric_time__quarter AS metric_time__quarter,
  (
    q_order_items_1.sales_total
  ) + (
    q_orders_2.shipping_total
  ) AS billed
FROM q_keys
LEFT JOIN q_order_items_1
  ON q_order_items_1.metric_time__quarter <=> q_keys.metric_time__quarter
LEFT JOIN q_orders_2
  ON q_orders_2.metric_time__quarter <=> q_keys.metric_time__quarter
ORDER BY
  CASE WHEN q_keys.metric_time__quarter IS NULL THEN 1 ELSE 0 END, q_keys.metric_time__quarter ASC

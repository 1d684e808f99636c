WITH q_orders_1 AS (
  SELECT
    MAKEDATE(YEAR(orders.order_date), 1) AS metric_time__year,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  GROUP BY
    MAKEDATE(YEAR(orders.order_date), 1)
), q_order_items_2 AS (
  SELECT
    MAKEDATE(YEAR(orders.order_date), 1) AS metric_time__year,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  GROUP BY
    MAKEDATE(YEAR(orders.order_date), 1)
), q_keys AS (
  SELECT
    metric_time__year
  FROM q_orders_1
  UNION
  SELECT
    metric_time__year
  FROM q_order_items_2
)
SELECT
  q_keys.metric_time__year AS metric_time__year,
  q_orders_1.order_count AS orders,
  q_order_items_2.sales_total AS sales
FROM q_keys
LEFT JOIN q_orders_1
  ON q_orders_1.metric_time__year <=> q_keys.metric_time__year
LEFT JOIN q_order_items_2
  ON q_order_items_2.metric_time__year <=> q_keys.metric_time__year
ORDER BY
  CASE WHEN q_keys.metric_time__year IS NULL THEN 1 ELSE 0 END, q_keys.metric_time__year ASC

WITH q_order_items_1 AS (
  SELECT
    customers.region AS customer__region,
    SUM(order_items.amount) AS sales_total__big_sales
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  WHERE
    order_items.quantity >= 3
  GROUP BY
    customers.region
), q_orders_2 AS (
  SELECT
    customers.region AS customer__region,
    COUNT(DISTINCT orders.order_id) AS order_count__online_orders
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  WHERE
    orders.channel = 'Online'
  GROUP BY
    customers.region
), q_keys AS (
  SELECT
    customer__region
  FROM q_order_items_1
  UNION
  SELECT
    customer__region
  FROM q_orders_2
)
SELECT
  q_keys.customer__region AS customer__region,
  (
    CAST(COALESCE(q_order_items_1.sales_total__big_sales, 0) AS DOUBLE)
  ) / NULLIF((
    CAST(COALESCE(q_orders_2.order_count__online_orders, 0) AS DOUBLE)
  ), 0) AS big_sales_per_online_order
FROM q_keys
LEFT JOIN q_order_items_1
  ON q_order_items_1.customer__region <=> q_keys.customer__region
LEFT JOIN q_orders_2
  ON q_orders_2.customer__region <=> q_keys.customer__region
ORDER BY
  CASE WHEN q_keys.customer__region IS NULL THEN 1 ELSE 0 END, q_keys.customer__region ASC

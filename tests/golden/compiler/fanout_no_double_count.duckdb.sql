WITH q_orders_1 AS (
  SELECT
    customers.region AS customer__region,
    SUM(orders.shipping) AS shipping_total
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  GROUP BY
    customers.region
), q_order_items_2 AS (
  SELECT
    customers.region AS customer__region,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  GROUP BY
    customers.region
), q_keys AS (
  SELECT
    customer__region
  FROM q_orders_1
  UNION
  SELECT
    customer__region
  FROM q_order_items_2
)
SELECT
  q_keys.customer__region AS customer__region,
  q_orders_1.shipping_total AS shipping,
  q_order_items_2.sales_total AS sales
FROM q_keys
LEFT JOIN q_orders_1
  ON q_orders_1.customer__region IS NOT DISTINCT FROM q_keys.customer__region
LEFT JOIN q_order_items_2
  ON q_order_items_2.customer__region IS NOT DISTINCT FROM q_keys.customer__region
ORDER BY
  q_keys.customer__region ASC

WITH q_order_items_1 AS (
  SELECT
    orders.customer_id AS customer__customer_id,
    customers.region AS customer__region,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  GROUP BY
    orders.customer_id,
    customers.region
)
SELECT
  q_order_items_1.customer__customer_id AS customer__customer_id,
  q_order_items_1.customer__region AS customer__region,
  q_order_items_1.sales_total AS sales
FROM q_order_items_1
ORDER BY
  q_order_items_1.sales_total DESC,
  q_order_items_1.customer__customer_id ASC,
  q_order_items_1.customer__region ASC
LIMIT 3

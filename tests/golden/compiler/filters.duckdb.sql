WITH q_order_items_1 AS (
  SELECT
    products.category AS product__category,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN products AS products
    ON order_items.product_id = products.product_id
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  WHERE
    customers.region IN ('North', 'South')
    AND orders.channel <> 'Store'
    AND orders.order_date BETWEEN CAST('2024-03-01' AS DATE) AND CAST('2024-12-31' AS DATE)
  GROUP BY
    products.category
)
SELECT
  q_order_items_1.product__category AS product__category,
  q_order_items_1.sales_total AS sales
FROM q_order_items_1
ORDER BY
  q_order_items_1.product__category ASC

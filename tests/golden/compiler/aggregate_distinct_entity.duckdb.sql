WITH q_order_items_1 AS (
  SELECT
    products.category AS product__category,
    COUNT(DISTINCT orders.customer_id) AS buyers
  FROM order_items AS order_items
  LEFT JOIN products AS products
    ON order_items.product_id = products.product_id
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  GROUP BY
    products.category
)
SELECT
  q_order_items_1.product__category AS product__category,
  q_order_items_1.buyers AS buyers
FROM q_order_items_1
ORDER BY
  q_order_items_1.product__category ASC

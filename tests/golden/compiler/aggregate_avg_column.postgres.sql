WITH q_order_items_1 AS (
  SELECT
    products.category AS product__category,
    AVG(CAST(order_items.quantity AS DOUBLE PRECISION)) AS quantity_avg
  FROM order_items AS order_items
  LEFT JOIN products AS products
    ON order_items.product_id = products.product_id
  GROUP BY
    products.category
)
SELECT
  q_order_items_1.product__category AS product__category,
  q_order_items_1.quantity_avg AS quantity_avg
FROM q_order_items_1
ORDER BY
  q_order_items_1.product__category ASC

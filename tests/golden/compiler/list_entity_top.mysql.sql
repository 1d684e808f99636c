SELECT DISTINCT
  order_items.item_id AS item__item_id,
  products.category AS product__category,
  order_items.amount AS item__amount
FROM order_items AS order_items
LEFT JOIN products AS products
  ON order_items.product_id = products.product_id
ORDER BY
  item__amount DESC,
  CASE WHEN order_items.item_id IS NULL THEN 1 ELSE 0 END, order_items.item_id ASC,
  CASE WHEN products.category IS NULL THEN 1 ELSE 0 END, products.category ASC
LIMIT 4

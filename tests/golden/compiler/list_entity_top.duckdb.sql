SELECT DISTINCT
  order_items.item_id AS item__item_id,
  products.category AS product__category,
  order_items.amount AS item__amount
FROM order_items AS order_items
LEFT JOIN products AS products
  ON order_items.product_id = products.product_id
ORDER BY
  item__amount DESC,
  item__item_id ASC,
  product__category ASC
LIMIT 4

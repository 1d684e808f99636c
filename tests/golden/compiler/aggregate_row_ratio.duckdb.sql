WITH q_order_items_1 AS (
  SELECT
    products.category AS product__category,
    AVG(
      CAST(CAST(order_items.amount AS DOUBLE) / NULLIF(CAST(order_items.quantity AS DOUBLE), 0) AS DOUBLE)
    ) AS unit_price_avg
  FROM order_items AS order_items
  LEFT JOIN products AS products
    ON order_items.product_id = products.product_id
  GROUP BY
    products.category
)
SELECT
  q_order_items_1.product__category AS product__category,
  q_order_items_1.unit_price_avg AS unit_price_avg
FROM q_order_items_1
ORDER BY
  q_order_items_1.product__category ASC

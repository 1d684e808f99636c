WITH q_order_items_1 AS (
  SELECT
    customers.region AS customer__region,
    products.category AS product__category,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  LEFT JOIN products AS products
    ON order_items.product_id = products.product_id
  GROUP BY
    customers.region,
    products.category
)
SELECT
  r.customer__region,
  r.product__category,
  r.sales
FROM (
  SELECT
    t.customer__region,
    t.product__category,
    t.sales,
    ROW_NUMBER() OVER (
      PARTITION BY t.customer__region
      ORDER BY t.sales DESC, CASE WHEN t.product__category IS NULL THEN 1 ELSE 0 END, t.product__category ASC
    ) AS rank_in_group
  FROM (
    SELECT
      q_order_items_1.customer__region AS customer__region,
      q_order_items_1.product__category AS product__category,
      q_order_items_1.sales_total AS sales
    FROM q_order_items_1
  ) AS t
) AS r
WHERE
  r.rank_in_group <= 2
ORDER BY
  CASE WHEN r.customer__region IS NULL THEN 1 ELSE 0 END, r.customer__region ASC,
  CASE WHEN r.rank_in_group IS NULL THEN 1 ELSE 0 END, r.rank_in_group

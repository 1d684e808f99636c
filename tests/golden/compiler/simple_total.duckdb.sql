WITH q_order_items_1 AS (
  SELECT
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
)
SELECT
  q_order_items_1.sales_total AS sales
FROM q_order_items_1

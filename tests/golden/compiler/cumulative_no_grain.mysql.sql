WITH q_order_items_1 AS (
  SELECT
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.order_date >= CAST('2025-01-01' AS DATE)
    AND orders.order_date < CAST('2025-04-01' AS DATE)
), q_order_items_2 AS (
  SELECT
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.order_date >= CAST('2025-03-01' AS DATE)
    AND orders.order_date < CAST('2025-04-01' AS DATE)
)
SELECT
  q_order_items_1.sales_total AS sales_ytd,
  q_order_items_2.sales_total AS sales
FROM q_order_items_1
CROSS JOIN q_order_items_2

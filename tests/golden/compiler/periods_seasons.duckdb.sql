WITH q_order_items_1 AS (
  SELECT
    CASE
      WHEN MONTH(orders.order_date) IN (6, 7, 8)
      THEN 'summer'
      WHEN MONTH(orders.order_date) IN (12, 1, 2)
      THEN 'winter'
    END AS period,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    (
      MONTH(orders.order_date) IN (6, 7, 8) OR MONTH(orders.order_date) IN (12, 1, 2)
    )
  GROUP BY
    CASE
      WHEN MONTH(orders.order_date) IN (6, 7, 8)
      THEN 'summer'
      WHEN MONTH(orders.order_date) IN (12, 1, 2)
      THEN 'winter'
    END
)
SELECT
  q_order_items_1.period AS period,
  q_order_items_1.sales_total AS sales
FROM q_order_items_1
ORDER BY
  q_order_items_1.period ASC

WITH q_order_items_1 AS (
  SELECT
    CASE
      WHEN orders.order_date >= CAST('2024-01-01' AS DATE)
      AND orders.order_date < CAST('2024-04-01' AS DATE)
      THEN 'Q1 2024'
      WHEN orders.order_date >= CAST('2025-01-01' AS DATE)
      AND orders.order_date < CAST('2025-04-01' AS DATE)
      THEN 'Q1 2025'
    END AS period,
    CASE
      WHEN orders.order_date >= CAST('2024-01-01' AS DATE)
      AND orders.order_date < CAST('2024-04-01' AS DATE)
      THEN CAST('2024-01-01' AS DATE)
      WHEN orders.order_date >= CAST('2025-01-01' AS DATE)
      AND orders.order_date < CAST('2025-04-01' AS DATE)
      THEN CAST('2025-01-01' AS DATE)
    END AS period_start,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    (
      orders.order_date >= CAST('2024-01-01' AS DATE)
      AND orders.order_date < CAST('2024-04-01' AS DATE)
      OR orders.order_date >= CAST('2025-01-01' AS DATE)
      AND orders.order_date < CAST('2025-04-01' AS DATE)
    )
  GROUP BY
    CASE
      WHEN orders.order_date >= CAST('2024-01-01' AS DATE)
      AND orders.order_date < CAST('2024-04-01' AS DATE)
      THEN 'Q1 2024'
      WHEN orders.order_date >= CAST('2025-01-01' AS DATE)
      AND orders.order_date < CAST('2025-04-01' AS DATE)
      THEN 'Q1 2025'
    END,
    CASE
      WHEN orders.order_date >= CAST('2024-01-01' AS DATE)
      AND orders.order_date < CAST('2024-04-01' AS DATE)
      THEN CAST('2024-01-01' AS DATE)
      WHEN orders.order_date >= CAST('2025-01-01' AS DATE)
      AND orders.order_date < CAST('2025-04-01' AS DATE)
      THEN CAST('2025-01-01' AS DATE)
    END
)
SELECT
  q_order_items_1.period AS period,
  q_order_items_1.period_start AS period_start,
  q_order_items_1.sales_total AS sales
FROM q_order_items_1
ORDER BY
  q_order_items_1.period ASC,
  q_order_items_1.period_start ASC

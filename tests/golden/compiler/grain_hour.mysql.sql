WITH q_orders_1 AS (
  SELECT
    CAST(DATE_FORMAT(orders.ordered_at, '%Y-%m-%d %H:00:00') AS DATETIME) AS order__ordered_at__hour,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  WHERE
    orders.order_date >= CAST('2024-03-01' AS DATE)
    AND orders.order_date < CAST('2024-04-01' AS DATE)
  GROUP BY
    CAST(DATE_FORMAT(orders.ordered_at, '%Y-%m-%d %H:00:00') AS DATETIME)
)
SELECT
  q_orders_1.order__ordered_at__hour AS order__ordered_at__hour,
  q_orders_1.order_count AS orders
FROM q_orders_1
ORDER BY
  CASE WHEN q_orders_1.order__ordered_at__hour IS NULL THEN 1 ELSE 0 END, q_orders_1.order__ordered_at__hour ASC

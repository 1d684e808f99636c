WITH q_orders_1 AS (
  SELECT
    DATE_TRUNC('HOUR', orders.ordered_at) AS order__ordered_at__hour,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  WHERE
    orders.order_date >= CAST('2024-03-01' AS DATE)
    AND orders.order_date < CAST('2024-04-01' AS DATE)
  GROUP BY
    DATE_TRUNC('HOUR', orders.ordered_at)
)
SELECT
  q_orders_1.order__ordered_at__hour AS order__ordered_at__hour,
  q_orders_1.order_count AS orders
FROM q_orders_1
ORDER BY
  q_orders_1.order__ordered_at__hour ASC

WITH q_orders_1 AS (
  SELECT
    customers.region AS customer__region,
    COUNT(
      DISTINCT CASE
        WHEN orders.order_date >= CAST('2025-01-01' AS DATE)
        AND orders.order_date < CAST('2025-04-01' AS DATE)
        THEN orders.order_id
      END
    ) AS order_count__orders_in_1,
    COUNT(
      DISTINCT CASE
        WHEN orders.order_date >= CAST('2024-01-01' AS DATE)
        AND orders.order_date < CAST('2024-04-01' AS DATE)
        THEN orders.order_id
      END
    ) AS order_count__orders_in_2
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  GROUP BY
    customers.region
), answer AS (
  SELECT
    q_orders_1.customer__region AS customer__region,
    (
      q_orders_1.order_count__orders_in_1
    ) AS orders_q1_2025,
    (
      q_orders_1.order_count__orders_in_2
    ) AS orders_q1_2024,
    (
      q_orders_1.order_count__orders_in_1
    ) - (
      q_orders_1.order_count__orders_in_2
    ) AS orders_change
  FROM q_orders_1
), final AS (
  SELECT
    answer.customer__region AS customer__region,
    answer.orders_q1_2025 AS orders_q1_2025,
    answer.orders_q1_2024 AS orders_q1_2024,
    answer.orders_change AS orders_change
  FROM answer
)
SELECT
  final.customer__region,
  final.orders_q1_2025,
  final.orders_q1_2024,
  final.orders_change
FROM final
WHERE
  final.orders_change > 0
ORDER BY
  final.customer__region ASC

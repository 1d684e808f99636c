WITH q_orders_1 AS (
  SELECT
    customers.region AS customer__region,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  WHERE
    DATEDIFF(CAST(orders.order_date AS DATE), CAST(customers.signup_date AS DATE)) > 100
  GROUP BY
    customers.region
)
SELECT
  q_orders_1.customer__region AS customer__region,
  q_orders_1.order_count AS orders
FROM q_orders_1
ORDER BY
  CASE WHEN q_orders_1.customer__region IS NULL THEN 1 ELSE 0 END, q_orders_1.customer__region ASC

WITH q_orders_1 AS (
  SELECT
    customers.region AS customer__region,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  WHERE
    CAST(EXTRACT(epoch FROM CAST(CAST(orders.order_date AS DATE) AS TIMESTAMP) - CAST(CAST(customers.signup_date AS DATE) AS TIMESTAMP)) / 86400 AS BIGINT) > 100
  GROUP BY
    customers.region
)
SELECT
  q_orders_1.customer__region AS customer__region,
  q_orders_1.order_count AS orders
FROM q_orders_1
ORDER BY
  q_orders_1.customer__region ASC

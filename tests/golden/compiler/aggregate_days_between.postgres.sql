WITH q_orders_1 AS (
  SELECT
    orders.channel AS order__channel,
    AVG(
      CAST(CAST(EXTRACT(epoch FROM CAST(CAST(orders.order_date AS DATE) AS TIMESTAMP) - CAST(CAST(customers.signup_date AS DATE) AS TIMESTAMP)) / 86400 AS BIGINT) AS DOUBLE PRECISION)
    ) AS days_avg,
    MAX(
      CAST(EXTRACT(epoch FROM CAST(CAST(orders.order_date AS DATE) AS TIMESTAMP) - CAST(CAST(customers.signup_date AS DATE) AS TIMESTAMP)) / 86400 AS BIGINT)
    ) AS days_max
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  GROUP BY
    orders.channel
)
SELECT
  q_orders_1.order__channel AS order__channel,
  q_orders_1.days_avg AS days_avg,
  q_orders_1.days_max AS days_max
FROM q_orders_1
ORDER BY
  q_orders_1.order__channel ASC

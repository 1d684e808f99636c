WITH q_orders_1 AS (
  SELECT
    orders.channel AS order__channel,
    AVG(
      CAST(DATEDIFF(CAST(orders.order_date AS DATE), CAST(customers.signup_date AS DATE)) AS DOUBLE)
    ) AS days_avg,
    MAX(DATEDIFF(CAST(orders.order_date AS DATE), CAST(customers.signup_date AS DATE))) AS days_max
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
  CASE WHEN q_orders_1.order__channel IS NULL THEN 1 ELSE 0 END, q_orders_1.order__channel ASC

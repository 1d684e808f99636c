SELECT DISTINCT
  orders.order_id AS order__order_id,
  orders.channel AS order__channel,
  CAST(DATE_TRUNC('DAY', orders.order_date) AS DATE) AS order__order_date__day
FROM orders AS orders
LEFT JOIN customers AS customers
  ON orders.customer_id = customers.customer_id
WHERE
  customers.region = 'North'
ORDER BY
  order__order_id ASC,
  order__channel ASC,
  order__order_date__day ASC
LIMIT 5

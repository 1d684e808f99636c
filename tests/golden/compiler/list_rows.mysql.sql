SELECT DISTINCT
  orders.order_id AS order__order_id,
  orders.channel AS order__channel,
  DATE(orders.order_date) AS order__order_date__day
FROM orders AS orders
LEFT JOIN customers AS customers
  ON orders.customer_id = customers.customer_id
WHERE
  customers.region = 'North'
ORDER BY
  CASE WHEN orders.order_id IS NULL THEN 1 ELSE 0 END, orders.order_id ASC,
  CASE WHEN orders.channel IS NULL THEN 1 ELSE 0 END, orders.channel ASC,
  CASE WHEN DATE(orders.order_date) IS NULL THEN 1 ELSE 0 END, DATE(orders.order_date) ASC
LIMIT 5

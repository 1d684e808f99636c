WITH q_order_items_1 AS (
  SELECT
    customers.region AS customer__region,
    orders.channel AS order__channel,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  WHERE
    (customers.region, orders.channel) IN (
      SELECT
        condition_1.customer__region,
        condition_1.order__channel
      FROM (
        WITH condition_1_q_orders_1 AS (
          SELECT
            customers.region AS customer__region,
            orders.channel AS order__channel,
            COUNT(DISTINCT orders.order_id) AS order_count
          FROM orders AS orders
          LEFT JOIN customers AS customers
            ON orders.customer_id = customers.customer_id
          GROUP BY
            customers.region,
            orders.channel
        )
        SELECT
          condition_1_q_orders_1.customer__region AS customer__region,
          condition_1_q_orders_1.order__channel AS order__channel,
          condition_1_q_orders_1.order_count AS orders
        FROM condition_1_q_orders_1
      ) AS condition_1
      WHERE
        condition_1.orders > 24
    )
  GROUP BY
    customers.region,
    orders.channel
)
SELECT
  q_order_items_1.customer__region AS customer__region,
  q_order_items_1.order__channel AS order__channel,
  q_order_items_1.sales_total AS sales
FROM q_order_items_1
ORDER BY
  CASE WHEN q_order_items_1.customer__region IS NULL THEN 1 ELSE 0 END, q_order_items_1.customer__region ASC,
  CASE WHEN q_order_items_1.order__channel IS NULL THEN 1 ELSE 0 END, q_order_items_1.order__channel ASC

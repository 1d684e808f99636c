WITH q_order_items_1 AS (
  SELECT
    customers.region AS customer__region,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  WHERE
    orders.customer_id IN (
      SELECT
        condition_1.customer__customer_id
      FROM (
        WITH condition_1_q_orders_1 AS (
          SELECT
            orders.customer_id AS customer__customer_id,
            COUNT(DISTINCT orders.order_id) AS order_count
          FROM orders AS orders
          GROUP BY
            orders.customer_id
        )
        SELECT
          condition_1_q_orders_1.customer__customer_id AS customer__customer_id,
          condition_1_q_orders_1.order_count AS orders
        FROM condition_1_q_orders_1
      ) AS condition_1
      WHERE
        condition_1.orders > 6
    )
  GROUP BY
    customers.region
)
SELECT
  q_order_items_1.customer__region AS customer__region,
  q_order_items_1.sales_total AS sales
FROM q_order_items_1
ORDER BY
  q_order_items_1.customer__region ASC

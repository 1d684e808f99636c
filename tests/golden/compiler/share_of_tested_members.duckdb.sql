WITH q_orders_1 AS (
  SELECT
    customers.region AS customer__region,
    COUNT(DISTINCT orders.order_id) AS order_count,
    COUNT(
      DISTINCT CASE
        WHEN orders.order_id IN (
          SELECT
            order_count__big_orders_condition_1.order__order_id
          FROM (
            WITH order_count__big_orders_condition_1_q_order_items_1 AS (
              SELECT
                order_items.order_id AS order__order_id,
                SUM(order_items.amount) AS sales_total
              FROM order_items AS order_items
              GROUP BY
                order_items.order_id
            )
            SELECT
              order_count__big_orders_condition_1_q_order_items_1.order__order_id AS order__order_id,
              order_count__big_orders_condition_1_q_order_items_1.sales_total AS sales
            FROM order_count__big_orders_condition_1_q_order_items_1
          ) AS order_count__big_orders_condition_1
          WHERE
            order_count__big_orders_condition_1.sales > 100
        )
        THEN orders.order_id
      END
    ) AS order_count__big_orders
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  GROUP BY
    customers.region
)
SELECT
  q_orders_1.customer__region AS customer__region,
  (
    CAST(q_orders_1.order_count__big_orders AS DOUBLE)
  ) / NULLIF((
    CAST(COALESCE(q_orders_1.order_count, 0) AS DOUBLE)
  ), 0) AS share_of_big_orders
FROM q_orders_1
ORDER BY
  q_orders_1.customer__region ASC

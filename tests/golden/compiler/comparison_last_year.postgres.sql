WITH q_order_items_1 AS (
  SELECT
    orders.channel AS order__channel,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.order_date >= CAST('2025-01-01' AS DATE)
    AND orders.order_date < CAST('2025-07-01' AS DATE)
  GROUP BY
    orders.channel
), q_orders_2 AS (
  SELECT
    orders.channel AS order__channel,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  WHERE
    orders.order_date >= CAST('2025-01-01' AS DATE)
    AND orders.order_date < CAST('2025-07-01' AS DATE)
  GROUP BY
    orders.channel
), q_keys AS (
  SELECT
    order__channel
  FROM q_order_items_1
  UNION
  SELECT
    order__channel
  FROM q_orders_2
), answer AS (
  SELECT
    q_keys.order__channel AS order__channel,
    q_order_items_1.sales_total AS sales,
    q_orders_2.order_count AS orders
  FROM q_keys
  LEFT JOIN q_order_items_1
    ON q_order_items_1.order__channel IS NOT DISTINCT FROM q_keys.order__channel
  LEFT JOIN q_orders_2
    ON q_orders_2.order__channel IS NOT DISTINCT FROM q_keys.order__channel
), p_order_items_1 AS (
  SELECT
    orders.channel AS order__channel,
    SUM(order_items.amount) AS sales_total
  FROM order_items AS order_items
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.order_date >= CAST('2024-01-01' AS DATE)
    AND orders.order_date < CAST('2024-07-01' AS DATE)
  GROUP BY
    orders.channel
), p_orders_2 AS (
  SELECT
    orders.channel AS order__channel,
    COUNT(DISTINCT orders.order_id) AS order_count
  FROM orders AS orders
  WHERE
    orders.order_date >= CAST('2024-01-01' AS DATE)
    AND orders.order_date < CAST('2024-07-01' AS DATE)
  GROUP BY
    orders.channel
), p_keys AS (
  SELECT
    order__channel
  FROM p_order_items_1
  UNION
  SELECT
    order__channel
  FROM p_orders_2
), previous AS (
  SELECT
    p_keys.order__channel AS order__channel,
    p_order_items_1.sales_total AS sales,
    p_orders_2.order_count AS orders
  FROM p_keys
  LEFT JOIN p_order_items_1
    ON p_order_items_1.order__channel IS NOT DISTINCT FROM p_keys.order__channel
  LEFT JOIN p_orders_2
    ON p_orders_2.order__channel IS NOT DISTINCT FROM p_keys.order__channel
), final AS (
  SELECT
    answer.order__channel AS order__channel,
    answer.sales AS sales,
    answer.orders AS orders,
    previous.sales AS sales__previous,
    answer.sales - previous.sales AS sales__difference,
    CAST((
      CAST(answer.sales AS DOUBLE PRECISION) - CAST(previous.sales AS DOUBLE PRECISION)
    ) AS DOUBLE PRECISION) / NULLIF(previous.sales, 0) AS sales__change_pct,
    previous.orders AS orders__previous,
    answer.orders - previous.orders AS orders__difference,
    CAST((
      CAST(answer.orders AS DOUBLE PRECISION) - CAST(previous.orders AS DOUBLE PRECISION)
    ) AS DOUBLE PRECISION) / NULLIF(previous.orders, 0) AS orders__change_pct
  FROM answer
  LEFT JOIN previous
    ON previous.order__channel IS NOT DISTINCT FROM answer.order__channel
)
SELECT
  final.order__channel,
  final.sales,
  final.orders,
  final.sales__previous,
  final.sales__difference,
  final.sales__change_pct,
  final.orders__previous,
  final.orders__difference,
  final.orders__change_pct
FROM final
ORDER BY
  final.order__channel ASC

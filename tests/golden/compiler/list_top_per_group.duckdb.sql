SELECT
  r.order__channel,
  r.order__order_id
FROM (
  SELECT
    t.order__channel,
    t.order__order_id,
    ROW_NUMBER() OVER (PARTITION BY t.order__channel ORDER BY t.order__order_id DESC) AS rank_in_group
  FROM (
    SELECT DISTINCT
      orders.channel AS order__channel,
      orders.order_id AS order__order_id
    FROM orders AS orders
  ) AS t
) AS r
WHERE
  r.rank_in_group <= 2
ORDER BY
  r.order__channel ASC,
  r.rank_in_group

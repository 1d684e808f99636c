WITH q_customers_1 AS (
  SELECT
    MAKEDATE(YEAR(customers.signup_date), 1) AS metric_time__year,
    COUNT(DISTINCT customers.customer_id) AS signups
  FROM customers AS customers
  GROUP BY
    MAKEDATE(YEAR(customers.signup_date), 1)
)
SELECT
  q_customers_1.metric_time__year AS metric_time__year,
  q_customers_1.signups AS new_customers
FROM q_customers_1
ORDER BY
  CASE WHEN q_customers_1.metric_time__year IS NULL THEN 1 ELSE 0 END, q_customers_1.metric_time__year ASC

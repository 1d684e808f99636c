WITH q_customers_1 AS (
  SELECT
    CAST(DATE_TRUNC('YEAR', customers.signup_date) AS DATE) AS metric_time__year,
    COUNT(DISTINCT customers.customer_id) AS signups
  FROM customers AS customers
  GROUP BY
    CAST(DATE_TRUNC('YEAR', customers.signup_date) AS DATE)
)
SELECT
  q_customers_1.metric_time__year AS metric_time__year,
  q_customers_1.signups AS new_customers
FROM q_customers_1
ORDER BY
  q_customers_1.metric_time__year ASC

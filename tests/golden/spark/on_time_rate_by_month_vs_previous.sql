WITH q_flights_1 AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', flights.flight_date) AS DATE) AS metric_time__month,
    COUNT(CASE WHEN flights.arr_delay <= 15 THEN flights.arr_delay END) AS on_time_arrival_count,
    COUNT(flights.arr_delay) AS flights_with_arrival
  FROM flights AS flights
  WHERE
    flights.flight_date >= CAST('2013-07-01' AS DATE)
    AND flights.flight_date < CAST('2013-10-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', flights.flight_date) AS DATE)
), answer AS (
  SELECT
    q_flights_1.metric_time__month AS metric_time__month,
    CAST(q_flights_1.on_time_arrival_count AS DOUBLE) / NULLIF(q_flights_1.flights_with_arrival, 0) AS on_time_rate
  FROM q_flights_1
), p_flights_1 AS (
  SELECT
    CAST(CAST(DATE_TRUNC('MONTH', flights.flight_date) AS DATE) + INTERVAL '3' MONTH AS DATE) AS metric_time__month,
    COUNT(CASE WHEN flights.arr_delay <= 15 THEN flights.arr_delay END) AS on_time_arrival_count,
    COUNT(flights.arr_delay) AS flights_with_arrival
  FROM flights AS flights
  WHERE
    flights.flight_date >= CAST('2013-04-01' AS DATE)
    AND flights.flight_date < CAST('2013-07-01' AS DATE)
  GROUP BY
    CAST(CAST(DATE_TRUNC('MONTH', flights.flight_date) AS DATE) + INTERVAL '3' MONTH AS DATE)
), previous AS (
  SELECT
    p_flights_1.metric_time__month AS metric_time__month,
    CAST(p_flights_1.on_time_arrival_count AS DOUBLE) / NULLIF(p_flights_1.flights_with_arrival, 0) AS on_time_rate
  FROM p_flights_1
), final AS (
  SELECT
    answer.metric_time__month AS metric_time__month,
    answer.on_time_rate AS on_time_rate,
    previous.on_time_rate AS on_time_rate__previous,
    answer.on_time_rate - previous.on_time_rate AS on_time_rate__difference,
    (
      CAST(answer.on_time_rate AS DOUBLE) - CAST(previous.on_time_rate AS DOUBLE)
    ) / NULLIF(previous.on_time_rate, 0) AS on_time_rate__change_pct
  FROM answer
  LEFT JOIN previous
    ON previous.metric_time__month IS NOT DISTINCT FROM answer.metric_time__month
)
SELECT
  final.metric_time__month,
  final.on_time_rate,
  final.on_time_rate__previous,
  final.on_time_rate__difference,
  final.on_time_rate__change_pct
FROM final
ORDER BY
  final.metric_time__month ASC NULLS LAST

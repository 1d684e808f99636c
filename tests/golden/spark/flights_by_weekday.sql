WITH q_flights_1 AS (
  SELECT
    EXTRACT(DAYOFWEEK_ISO FROM flights.flight_date) AS metric_time__day_of_week,
    COUNT(1) AS flight_count
  FROM flights AS flights
  GROUP BY
    EXTRACT(DAYOFWEEK_ISO FROM flights.flight_date)
)
SELECT
  q_flights_1.metric_time__day_of_week AS metric_time__day_of_week,
  q_flights_1.flight_count AS flights
FROM q_flights_1
ORDER BY
  q_flights_1.metric_time__day_of_week ASC NULLS LAST

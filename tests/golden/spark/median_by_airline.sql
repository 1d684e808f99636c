WITH q_flights_1 AS (
  SELECT
    airlines.name AS airline__name,
    PERCENTILE(flights.dep_delay, 0.5) AS dep_delay_median
  FROM flights AS flights
  LEFT JOIN airlines AS airlines
    ON flights.carrier = airlines.carrier
  GROUP BY
    airlines.name
)
SELECT
  q_flights_1.airline__name AS airline__name,
  q_flights_1.dep_delay_median AS median_departure_delay
FROM q_flights_1
ORDER BY
  q_flights_1.dep_delay_median DESC,
  q_flights_1.airline__name ASC NULLS LAST
LIMIT 5

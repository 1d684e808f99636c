WITH q_flights_1 AS (
  SELECT
    origin_airport.name AS origin_airport__name,
    COUNT(1) AS flight_count
  FROM flights AS flights
  LEFT JOIN airports AS origin_airport
    ON flights.origin = origin_airport.faa
  GROUP BY
    origin_airport.name
), answer AS (
  SELECT
    q_flights_1.origin_airport__name AS origin_airport__name,
    q_flights_1.flight_count AS flights
  FROM q_flights_1
), final AS (
  SELECT
    answer.origin_airport__name AS origin_airport__name,
    answer.flights AS flights,
    CAST(answer.flights AS DOUBLE) / NULLIF(SUM(answer.flights) OVER (), 0) AS flights__share
  FROM answer
)
SELECT
  final.origin_airport__name,
  final.flights,
  final.flights__share
FROM final
ORDER BY
  final.origin_airport__name ASC NULLS LAST

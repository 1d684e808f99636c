WITH q_flights_1 AS (
  SELECT
    dest_airport.name AS dest_airport__name,
    COUNT(1) AS flight_count
  FROM flights AS flights
  LEFT JOIN airports AS dest_airport
    ON flights.dest = dest_airport.faa
  WHERE
    dest_airport.name = CONCAT('Martha', CHR(  39), 's Vineyard')
  GROUP BY
    dest_airport.name
)
SELECT
  q_flights_1.dest_airport__name AS dest_airport__name,
  q_flights_1.flight_count AS flights
FROM q_flights_1
ORDER BY
  q_flights_1.dest_airport__name ASC NULLS LAST

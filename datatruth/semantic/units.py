"""Units of measure a dimension may declare (`unit: minutes`) and the conversions between units of one kind.

A question says "more than 3 hours late" and the column holds minutes: the planner converts the number to the
column's unit before it filters. Only units of the same kind convert (hours → minutes, km → miles, percent →
fraction); anything else is refused by the caller with the column's unit named.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    """A unit: its kind (duration, distance, …), its size in the kind's base unit, and how people write it."""

    name: str
    kind: str
    factor: float
    words: tuple[str, ...]
    label: str


UNITS: tuple[Unit, ...] = (
    Unit("seconds", "duration", 1 / 60, ("second", "seconds", "sec", "secs", "s"), "seconds"),
    Unit("minutes", "duration", 1.0, ("minute", "minutes", "min", "mins", "m"), "minutes"),
    Unit("hours", "duration", 60.0, ("hour", "hours", "hr", "hrs", "h"), "hours"),
    Unit("days", "duration", 1440.0, ("day", "days"), "days"),
    Unit("weeks", "duration", 10080.0, ("week", "weeks", "wk", "wks"), "weeks"),
    Unit("miles", "distance", 1.609344, ("mile", "miles", "mi"), "miles"),
    Unit(
        "kilometers",
        "distance",
        1.0,
        ("kilometer", "kilometers", "kilometre", "kilometres", "km", "kms"),
        "km",
    ),
    Unit("feet", "distance", 0.0003048, ("foot", "feet", "ft"), "feet"),
    Unit(
        "percent",
        "share",
        0.01,
        ("percent", "per cent", "pct", "%", "percentage", "percentage points"),
        "percent",
    ),
    Unit("fraction", "share", 1.0, ("fraction",), "as a fraction"),
    Unit(
        "currency",
        "money",
        1.0,
        ("dollar", "dollars", "usd", "$", "bucks", "euro", "euros", "eur"),
        "dollars",
    ),
    Unit("years", "age", 1.0, ("year", "years", "yr", "yrs"), "years"),
    Unit("inches", "length", 1.0, ("inch", "inches"), "inches"),
    Unit("mph", "speed", 1.0, ("mph", "miles per hour"), "mph"),
    Unit("fahrenheit", "temperature", 1.0, ("degree", "degrees", "°f", "fahrenheit", "f"), "°F"),
    Unit("celsius", "temperature", 1.0, ("°c", "celsius", "centigrade", "c"), "°C"),
    Unit("count", "count", 1.0, (), ""),
    # a time of day: questions say "10 pm" (read as minutes after midnight); columns hold it as hhmm (2200)
    Unit("clock", "clock", 1.0, ("am", "pm", "a.m.", "p.m."), "time of day"),
    Unit("hhmm", "clock", 1.0, (), "hhmm"),
)
UNIT_NAMES = tuple(u.name for u in UNITS)
_BY_NAME = {u.name: u for u in UNITS}
_BY_WORD = {w: u for u in UNITS for w in u.words}


def unit(name: str) -> Unit | None:
    """The unit called `name` (a declared unit name), or None."""
    return _BY_NAME.get(name)


def unit_of_word(word: str) -> Unit | None:
    """The unit a word of a question names ("hrs" → hours, "%" → percent), or None."""
    return _BY_WORD.get(word.lower())


# The noun people use for a quantity of each kind: "the distance in miles to the fire station" is a column
# held in miles, "the time in minutes" one held in minutes.
QUANTITY_NOUNS: dict[str, frozenset[str]] = {
    "duration": frozenset({"time", "duration", "length", "wait"}),
    "distance": frozenset({"distance", "length"}),
    "money": frozenset({"amount", "value", "sum"}),
    "temperature": frozenset({"temperature"}),
    "speed": frozenset({"speed"}),
    "age": frozenset({"age"}),
}


def unit_words() -> frozenset[str]:
    """Every word that names a unit."""
    return frozenset(_BY_WORD)


_NAME_UNITS = (
    ("_miles", "miles"),
    ("_mi", "miles"),
    ("_km", "kilometers"),
    ("_minutes", "minutes"),
    ("_mins", "minutes"),
    ("_min", "minutes"),
    ("_hours", "hours"),
    ("_hrs", "hours"),
    ("_days", "days"),
    ("_seconds", "seconds"),
    ("_secs", "seconds"),
    ("_pct", "percent"),
    ("_percent", "percent"),
    ("_usd", "currency"),
    ("_feet", "feet"),
    ("_ft", "feet"),
    ("_mph", "mph"),
)


def unit_from_name(column: str) -> str | None:
    """The unit a column's name ends with ("nearest_firestation_miles" → miles), or None."""
    name = column.lower()
    return next((u for suffix, u in _NAME_UNITS if name.endswith(suffix)), None)


def convert(value: float, source: Unit, target: Unit) -> float | None:
    """`value` in `source` units expressed in `target` units; None when the kinds differ."""
    if source.kind != target.kind:
        return None
    if source.kind == "clock" and source.name != target.name:
        minutes = int(round(value))
        return float(minutes // 60 * 100 + minutes % 60) if target.name == "hhmm" else None
    if source.kind == "temperature" and source.name != target.name:
        # the two scales differ by an offset as well as a size: -10 °C is 14 °F
        return value * 9 / 5 + 32 if source.name == "celsius" else (value - 32) * 5 / 9
    return value * source.factor / target.factor

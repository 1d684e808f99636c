"""Units of measure: conversions within a kind, none across kinds, times of day to hhmm columns."""

from __future__ import annotations

import pytest

from datatruth.semantic.units import convert, unit, unit_from_name, unit_of_word


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (3, "hours", "minutes", 180.0),
        (1, "days", "hours", 24.0),
        (20, "percent", "fraction", 0.2),
        (1000, "miles", "kilometers", 1609.344),
        (22 * 60, "clock", "hhmm", 2200.0),  # 10 pm
        (6 * 60 + 30, "clock", "hhmm", 630.0),
        (24 * 60, "clock", "hhmm", 2400.0),  # the end of the day, as nycflights writes midnight
        (-10, "celsius", "fahrenheit", 14.0),  # the scales differ by an offset as well as a size
        (212, "fahrenheit", "celsius", 100.0),
    ],
)
def test_conversions(value: float, source: str, target: str, expected: float) -> None:
    src, dst = unit(source), unit(target)
    assert src is not None and dst is not None
    assert convert(value, src, dst) == pytest.approx(expected)


def test_no_conversion_across_kinds() -> None:
    assert convert(3, unit("hours"), unit("miles")) is None  # type: ignore[arg-type]
    assert convert(600, unit("clock"), unit("minutes")) is None  # type: ignore[arg-type]


def test_words_and_names() -> None:
    assert unit_of_word("pm") == unit("clock") and unit_of_word("hrs") == unit("hours")
    assert unit_from_name("nearest_firestation_miles") == "miles"
    assert unit_from_name("claim_amount") is None

"""Time phrases resolved against a pinned clock: ranges are half-open, periods calendar-aligned."""

from __future__ import annotations

import datetime as dt

import pytest

from datatruth.ask.timeparse import add_months, parse_time, period_start

D = dt.date
OCT31 = D(2026, 10, 31)  # the retail clock: a Saturday, last day of Q4's first month
FEB10 = D(2025, 2, 10)  # early in a year: "in July" and "Q3" fall in the previous year

RANGES = [
    # text, today, start, end (exclusive)
    ("revenue in 2024", OCT31, D(2024, 1, 1), D(2025, 1, 1)),
    ("revenue during 2023", OCT31, D(2023, 1, 1), D(2024, 1, 1)),
    ("sales Q3 2023", OCT31, D(2023, 7, 1), D(2023, 10, 1)),
    ("sales 2023 Q3", OCT31, D(2023, 7, 1), D(2023, 10, 1)),
    ("sales in q2", OCT31, D(2026, 4, 1), D(2026, 7, 1)),
    ("sales in q3", FEB10, D(2024, 7, 1), D(2024, 10, 1)),
    ("orders between March and May", OCT31, D(2026, 3, 1), D(2026, 6, 1)),
    ("order lines from 2025 orders", OCT31, D(2025, 1, 1), D(2026, 1, 1)),
    ("the lines of 2024 orders", OCT31, D(2024, 1, 1), D(2025, 1, 1)),
    ("orders between November and January", OCT31, D(2025, 11, 1), D(2026, 2, 1)),
    ("orders from Jan 2024 to Mar 2024", OCT31, D(2024, 1, 1), D(2024, 4, 1)),
    ("orders from March to May 2024", OCT31, D(2024, 3, 1), D(2024, 6, 1)),
    ("orders 2022-2024", OCT31, D(2022, 1, 1), D(2025, 1, 1)),
    ("orders from 2024-03-01 to 2024-03-15", OCT31, D(2024, 3, 1), D(2024, 3, 16)),
    ("last 30 days", OCT31, D(2026, 10, 2), D(2026, 11, 1)),
    ("over the past 2 weeks", OCT31, D(2026, 10, 18), D(2026, 11, 1)),
    ("in the last three months", OCT31, D(2026, 8, 1), D(2026, 11, 1)),
    ("this year", OCT31, D(2026, 1, 1), D(2026, 11, 1)),
    ("YTD", OCT31, D(2026, 1, 1), D(2026, 11, 1)),
    ("year to date", OCT31, D(2026, 1, 1), D(2026, 11, 1)),
    ("MTD", OCT31, D(2026, 10, 1), D(2026, 11, 1)),
    ("QTD", OCT31, D(2026, 10, 1), D(2026, 11, 1)),
    ("this week", OCT31, D(2026, 10, 26), D(2026, 11, 1)),
    ("last quarter", OCT31, D(2026, 7, 1), D(2026, 10, 1)),
    ("last quarter", FEB10, D(2024, 10, 1), D(2025, 1, 1)),
    ("last month", OCT31, D(2026, 9, 1), D(2026, 10, 1)),
    ("previous month", D(2026, 1, 15), D(2025, 12, 1), D(2026, 1, 1)),
    ("last year", OCT31, D(2025, 1, 1), D(2026, 1, 1)),
    ("last week", OCT31, D(2026, 10, 19), D(2026, 10, 26)),
    ("in the first quarter", OCT31, D(2026, 1, 1), D(2026, 4, 1)),
    ("first quarter of 2025", OCT31, D(2025, 1, 1), D(2025, 4, 1)),
    ("the fourth quarter", FEB10, D(2024, 10, 1), D(2025, 1, 1)),
    ("second half of the year", OCT31, D(2026, 7, 1), D(2027, 1, 1)),
    ("fewer than 100 flights all year", OCT31, D(2026, 1, 1), D(2026, 11, 1)),
    ("on Christmas Eve last year", OCT31, D(2025, 12, 24), D(2025, 12, 25)),
    ("on Valentine's Day this year", OCT31, D(2026, 2, 14), D(2026, 2, 15)),
    ("over the whole year", OCT31, D(2026, 1, 1), D(2026, 11, 1)),
    ("first half of last year", OCT31, D(2025, 1, 1), D(2025, 7, 1)),
    ("H1 2025", OCT31, D(2025, 1, 1), D(2025, 7, 1)),
    ("in July", OCT31, D(2026, 7, 1), D(2026, 8, 1)),
    ("in July", FEB10, D(2024, 7, 1), D(2024, 8, 1)),
    ("in may", OCT31, D(2026, 5, 1), D(2026, 6, 1)),
    ("December 2024", OCT31, D(2024, 12, 1), D(2025, 1, 1)),
    ("since 2024", OCT31, D(2024, 1, 1), D(2026, 11, 1)),
    ("signups since the start of 2025", OCT31, D(2025, 1, 1), D(2026, 11, 1)),
    ("since the beginning of Q2", OCT31, D(2026, 4, 1), D(2026, 11, 1)),
    ("after the end of June 2026", OCT31, D(2026, 7, 1), D(2026, 11, 1)),
    ("on Labor Day 2013", OCT31, D(2013, 9, 2), D(2013, 9, 3)),
    ("on Memorial Day", OCT31, D(2026, 5, 25), D(2026, 5, 26)),
    ("over Memorial Day weekend 2025", OCT31, D(2025, 5, 24), D(2025, 5, 27)),
    ("on Mother's Day 2026", OCT31, D(2026, 5, 10), D(2026, 5, 11)),
    ("on Columbus Day", OCT31, D(2026, 10, 12), D(2026, 10, 13)),
    ("since March", OCT31, D(2026, 3, 1), D(2026, 11, 1)),
    ("after 2024", OCT31, D(2025, 1, 1), D(2026, 11, 1)),
    ("today", OCT31, D(2026, 10, 31), D(2026, 11, 1)),
    ("yesterday", OCT31, D(2026, 10, 30), D(2026, 10, 31)),
    ("on 2024-02-29", OCT31, D(2024, 2, 29), D(2024, 3, 1)),
]


@pytest.mark.parametrize(("text", "today", "start", "end"), RANGES, ids=[f"{r[0]}@{r[1]}" for r in RANGES])
def test_ranges(text: str, today: dt.date, start: dt.date, end: dt.date) -> None:
    found = parse_time(text, today)
    assert found.time_range is not None
    assert (found.time_range.start, found.time_range.end) == (start, end)
    assert found.time_range.label
    assert found.spans, "the consumed words are reported"


def test_before_leaves_the_start_open() -> None:
    found = parse_time("revenue before 2025", OCT31)
    assert found.time_range is not None
    assert found.time_range.start is None and found.time_range.end == D(2025, 1, 1)


GRAINS = [
    ("revenue by month", "month"),
    ("monthly revenue", "month"),
    ("orders per week", "week"),
    ("daily orders", "day"),
    ("orders by day of week", "day_of_week"),
    ("orders by weekday", "day_of_week"),
    ("flights by hour", "hour"),
    ("quarterly revenue", "quarter"),
    ("revenue by year", "year"),
    ("annual revenue", "year"),
    ("revenue for each month", "month"),
    ("revenue over time", "month"),
    ("revenue over time by quarter", "quarter"),
    ("show the months where revenue was above $1m", "month"),
    ("weeks with more than 500 orders", "week"),
]


def test_periods_named_inside_a_question_are_no_grain() -> None:
    # only the periods the question opens by asking for are one row each
    assert parse_time("flights on days when it rained", OCT31).grain is None


@pytest.mark.parametrize(("text", "grain"), GRAINS)
def test_grains(text: str, grain: str) -> None:
    found = parse_time(text, OCT31)
    assert found.grain == grain and found.time_range is None


def test_hour_of_day_is_not_the_hour_grain() -> None:
    assert parse_time("delay by hour of day", OCT31).grain is None


COMPARISONS = [
    ("revenue vs last year", "same_period_last_year"),
    ("revenue year over year", "same_period_last_year"),
    ("yoy revenue", "same_period_last_year"),
    ("compared to the same period last year", "same_period_last_year"),
    ("order count against the same stretch of last year", "same_period_last_year"),
    ("revenue compared to previous period", "previous_period"),
    ("mom revenue", "previous_period"),
    ("month over month", "previous_period"),
    ("quarter-over-quarter", "previous_period"),
]


@pytest.mark.parametrize(("text", "comparison"), COMPARISONS)
def test_comparisons(text: str, comparison: str) -> None:
    found = parse_time(text, OCT31)
    assert found.comparison == comparison
    assert found.time_range is None, "'last year' inside a comparison is not the range"


def test_periods_side_by_side_are_each_kept() -> None:
    """ "2023 vs 2024", "Q1 2024 vs Q1 2025", "2021 vs 2024": one row per period, no range across them."""
    found = parse_time("revenue 2023 vs 2024", OCT31)
    assert found.time_range is None and found.comparison is None
    assert [(p.start, p.end) for p in found.periods] == [
        (D(2023, 1, 1), D(2024, 1, 1)),
        (D(2024, 1, 1), D(2025, 1, 1)),
    ]
    q = parse_time("Q1 2024 vs Q1 2025", OCT31)
    assert [p.start for p in q.periods] == [D(2024, 1, 1), D(2025, 1, 1)]
    far = parse_time("2021 vs 2024", OCT31)
    assert [p.label for p in far.periods] == ["2021", "2024"]


@pytest.mark.parametrize(
    "text",
    [
        "flights longer than 2000 miles",
        "top 2020 customers",
        "more than 1999 orders",
        "customers with 2025 orders",
        "revenue by region",
        "may I see revenue",
        "orders with a discount",
    ],
)
def test_numbers_and_words_that_are_not_time(text: str) -> None:
    found = parse_time(text, OCT31)
    assert found.time_range is None and found.spans == ()


def test_all_years_together_is_every_day_recorded() -> None:
    found = parse_time("the premium on policy 7, all years together", OCT31)
    assert found.time_range is None and found.spans, "the words are read, and no range is set"


def test_spans_point_at_the_phrase() -> None:
    text = "Revenue by month in 2024 for Texas"
    found = parse_time(text, OCT31)
    assert sorted(text[a:b].lower() for a, b in found.spans) == ["by month", "in 2024"]


def test_two_ranges_are_joined() -> None:
    found = parse_time("revenue in 2023 and in 2024", OCT31)
    assert found.time_range is not None
    assert (found.time_range.start, found.time_range.end) == (D(2023, 1, 1), D(2025, 1, 1))


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2024, 3, 31), -1, D(2024, 2, 29)),
        (D(2024, 12, 15), 1, D(2025, 1, 15)),
        (D(2024, 1, 15), -13, D(2022, 12, 15)),
    ],
)
def test_add_months_clamps_to_month_end(day: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(day, months) == expected


def test_period_start() -> None:
    assert period_start(OCT31, "week") == D(2026, 10, 26)
    assert period_start(OCT31, "quarter") == D(2026, 10, 1)
    assert period_start(D(2026, 5, 20), "quarter") == D(2026, 4, 1)


@pytest.mark.parametrize(
    ("text", "to_date"),
    [
        ("YTD", "year"),
        ("month to date", "month"),
        ("qtd", "quarter"),
        ("this year", None),
        ("so far this month", None),
        ("in 2024", None),
    ],
)
def test_to_date_marks_only_the_explicit_words(text: str, to_date: str | None) -> None:
    assert parse_time(text, OCT31).to_date == to_date

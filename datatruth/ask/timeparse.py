"""Time phrases in a question → a TimeRange, a grain and a comparison, resolved against the workspace clock.

Pure functions: `parse_time(text, today)` finds every time phrase ("in 2024", "Q3 2023", "last 30 days",
"YTD", "between March and May", "by month", "year over year", "2023 vs 2024", …), resolves it against
`today` and reports the character spans it consumed, so the planner can read the remaining words.
Conventions: ranges are half-open [start, end); "last quarter" is the previous complete calendar quarter;
"this year"/"YTD" runs from the start of the period through today; "last 30 days" ends with today; a month or
quarter named without a year is the most recent one that has started.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from datatruth.errors import InternalError
from datatruth.semantic.plan import TimeRange

_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sept": 9,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH_NAMES = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Words that are also ordinary English: they count as a month only with a preposition or a year.
_AMBIGUOUS_MONTHS = {
    "may",
    "mar",
    "jan",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
    "feb",
    "apr",
    "sept",
}
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "sixty": 60,
    "ninety": 90,
    "a": 1,
    "an": 1,
}
_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "last": 4,
}
_UNITS = ("day", "week", "month", "quarter", "year")
# A number followed by one of these is a quantity, not a year ("more than 2000 miles").
_QUANTITY_WORDS = {
    "miles",
    "mile",
    "mi",
    "km",
    "minutes",
    "minute",
    "min",
    "mins",
    "hours",
    "hrs",
    "seconds",
    "dollars",
    "usd",
    "units",
    "items",
    "orders",
    "flights",
    "customers",
    "seats",
    "feet",
    "ft",
    "percent",
    "pct",
    "times",
    "rows",
    "people",
    "passengers",
    "products",
}
_COMPARATOR_WORDS = {
    "than",
    "over",
    "above",
    "under",
    "below",
    "least",
    "most",
    "top",
    "bottom",
    "first",
    "exceeding",
    "exceeds",
    "equals",
    "equal",
    "limit",
    "best",
    "worst",
}

MIN_YEAR, MAX_YEAR = 1900, 2100  # dates outside these years are refused: no warehouse holds them
_MONTH = (
    "(?:january|february|march|april|may|june|july|august|september|october|november|december|"
    "sept|jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec)"
)
_YEAR = r"(?:19|20)\d{2}"
_NUM = r"(?:\d+|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")"
_PREP = r"(?:(?:in|during|for|of|on)\s+(?:the\s+)?)"


def _point(p: str) -> str:
    """A regex for one calendar point (a date, a quarter, a month or a year) with group names prefixed by p."""
    return (
        rf"(?:(?P<{p}iso>\d{{4}}-\d{{2}}-\d{{2}})"
        # "1 June 2019", "June 1st, 2019": a day written out, with its year
        rf"|(?P<{p}dd>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<{p}dm>{_MONTH}),?\s+(?P<{p}dy>{_YEAR})"
        rf"|(?P<{p}md>{_MONTH})\s+(?P<{p}mdd>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<{p}mdy>{_YEAR})"
        rf"|q(?P<{p}q>[1-4])(?:\s+(?:of\s+)?(?P<{p}qy>{_YEAR}))?"
        rf"|(?P<{p}m>{_MONTH})(?:\s+(?P<{p}my>{_YEAR}))?"
        rf"|(?:(?<!by\s)(?<!per\s)(?:calendar\s+)?year\s+)?(?P<{p}y>{_YEAR}))"  # "calendar year 2019" is the year 2019
    )


@dataclass(frozen=True)
class TimeHit:
    """One time phrase: its character span and what it said (a range, months of the year, periods compared)."""

    start: int
    end: int
    phrase: str
    time_range: TimeRange | None = None
    months: tuple[int, ...] = ()
    periods: tuple[TimeRange, ...] = ()
    grain: str | None = None
    comparison: str | None = None
    explicit: bool = False  # the comparison named its other period with a compare word ("vs last year")
    points: tuple[TimeRange, ...] = ()  # "from Q3 to Q4": the two periods a range was built from


@dataclass(frozen=True)
class TimeMatch:
    """The time words of a question: range, grain and comparison, and the character spans they used."""

    time_range: TimeRange | None = None
    grain: str | None = None
    comparison: str | None = None
    spans: tuple[tuple[int, int], ...] = ()
    phrases: tuple[str, ...] = ()
    parts: tuple[tuple[str, str], ...] = ()  # (range | grain | comparison, phrase) in reading order
    to_date: str | None = None  # "YTD"/"month to date" (not "this year"): the unit counted up to today
    hits: tuple[TimeHit, ...] = ()
    months: tuple[int, ...] = ()  # months of every year ("in winter"): a month-of-year filter
    months_label: str = ""
    periods: tuple[TimeRange, ...] = ()  # periods compared side by side ("June vs July")
    explicit_comparison: bool = False
    errors: tuple[str, ...] = ()  # dates that do not exist or lie outside any data ("2024-02-30")

    def phrase_of(self, kind: str) -> str:
        """The words that gave the range, the grain or the comparison (joined by '; ')."""
        return "; ".join(p for k, p in self.parts if k == kind)


@dataclass(frozen=True)
class _Hit:
    """What one rule read from one match."""

    time_range: TimeRange | None = None
    grain: str | None = None
    comparison: str | None = None
    weak_grain: bool = False  # "over time": a grain only when nothing more specific was said
    to_date: str | None = None
    months: tuple[int, ...] = ()
    months_label: str = ""
    periods: tuple[TimeRange, ...] = ()
    explicit: bool = False
    points: tuple[TimeRange, ...] = ()  # "from Q3 to Q4": the two periods the range was built from
    until_now: bool = (
        False  # "to date", "all time": every day recorded (no range), unless another phrase names a period
    )


# -- calendar arithmetic -----------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` shifted by whole months, clamped to the end of the target month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def period_start(day: dt.date, unit: str) -> dt.date:
    """The first day of the calendar `unit` (week = ISO week from Monday) holding `day`."""
    if unit == "day":
        return day
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return dt.date(day.year, 1, 1)


def shift(day: dt.date, unit: str, count: int) -> dt.date:
    """`day` moved by `count` units."""
    if unit == "day":
        return day + dt.timedelta(days=count)
    if unit == "week":
        return day + dt.timedelta(weeks=count)
    return add_months(day, count * {"month": 1, "quarter": 3, "year": 12}[unit])


def _quarter_label(start: dt.date) -> str:
    return f"Q{(start.month - 1) // 3 + 1} {start.year}"


def _unit_label(start: dt.date, unit: str) -> str:
    if unit == "year":
        return str(start.year)
    if unit == "quarter":
        return _quarter_label(start)
    if unit == "month":
        return f"{_MONTH_NAMES[start.month]} {start.year}"
    if unit == "week":
        return f"week of {start.isoformat()}"
    return start.isoformat()


# -- points: a year, a quarter, a month or a date ------------------------------------------------------------


@dataclass(frozen=True)
class _Point:
    """One calendar point read from the text; `year` is None when the words gave none."""

    unit: str
    year: int | None
    index: int = 1  # month or quarter number
    day: dt.date | None = None

    def resolved(self, today: dt.date, year: int | None = None) -> tuple[dt.date, dt.date]:
        """[start, end) of the point; without a year, the most recent one that has started (or `year`)."""
        if self.day is not None:
            return self.day, self.day + dt.timedelta(days=1)
        y = self.year or year
        if self.unit == "year":
            start = dt.date(y or today.year, 1, 1)
            return start, dt.date(start.year + 1, 1, 1)
        month = self.index if self.unit == "month" else (self.index - 1) * 3 + 1
        if y is None:
            y = today.year if dt.date(today.year, month, 1) <= today else today.year - 1
        start = dt.date(y, month, 1)
        return start, shift(start, self.unit, 1)

    def label(self, start: dt.date) -> str:
        return _unit_label(start, self.unit)


def _read_point(m: re.Match[str], p: str) -> _Point | None:
    g = m.groupdict()
    if g.get(p + "iso"):
        try:
            day = dt.date.fromisoformat(g[p + "iso"])
        except ValueError:
            return None
        return _Point("day", None, day=day) if MIN_YEAR <= day.year <= MAX_YEAR else None
    if g.get(p + "dm") or g.get(p + "md"):
        try:
            day = dt.date(
                int(g.get(p + "dy") or g.get(p + "mdy") or 0),
                _MONTHS[g.get(p + "dm") or g.get(p + "md") or ""],
                int(g.get(p + "dd") or g.get(p + "mdd") or 0),
            )
        except ValueError:
            return None
        return _Point("day", None, day=day) if MIN_YEAR <= day.year <= MAX_YEAR else None
    if g.get(p + "q"):
        return _Point("quarter", int(g[p + "qy"]) if g.get(p + "qy") else None, int(g[p + "q"]))
    if g.get(p + "m"):
        return _Point("month", int(g[p + "my"]) if g.get(p + "my") else None, _MONTHS[g[p + "m"]])
    if g.get(p + "y"):
        return _Point("year", int(g[p + "y"]))
    return None


# -- rules ------------------------------------------------------------------------------------------------

Rule = tuple[re.Pattern[str], Callable[[re.Match[str], dt.date, str], "_Hit | None"]]


_COMPARE_RE = re.compile(r"\b(?:vs\.?|versus|compared?|comparing|against|relative)\b")


def _comparison_year(m: re.Match[str], today: dt.date, text: str) -> _Hit:
    return _Hit(comparison="same_period_last_year", explicit=bool(_COMPARE_RE.search(m.group(0))))


def _comparison_previous(m: re.Match[str], today: dt.date, text: str) -> _Hit:
    unit = m.groupdict().get("unit")
    grain = {"mom": "month", "qoq": "quarter", "wow": "week", "dod": "day"}.get(m.group(0).strip(), unit)
    explicit = bool(_COMPARE_RE.search(m.group(0)))
    if grain == "year":
        return _Hit(comparison="same_period_last_year", explicit=explicit)
    return _Hit(comparison="previous_period", grain=None if explicit else grain, explicit=explicit)


def _versus(m: re.Match[str], today: dt.date, text: str) -> _Hit | None:
    """Two calendar points compared ("Q3 2026 vs Q3 2025", "June compared with July"): one row per period."""
    a, b = _read_point(m, "a_"), _read_point(m, "b_")
    if a is None or b is None:
        return None
    (a0, a1), (b0, b1) = a.resolved(today, b.year), b.resolved(today, a.year)
    first, second = TimeRange(a0, a1, a.label(a0), a.unit), TimeRange(b0, b1, b.label(b0), b.unit)
    if a0 < b1 and b0 < a1:
        return None  # overlapping periods compare nothing
    return _Hit(periods=(first, second))


def _between(m: re.Match[str], today: dt.date, text: str) -> _Hit | None:
    a, b = _read_point(m, "a_"), _read_point(m, "b_")
    if a is None or b is None:
        return None
    if a.year is None and b.year is not None:
        b0, b1 = b.resolved(today)
        a0, _ = a.resolved(today, b0.year)
        if a0 > b0:
            a0, _ = a.resolved(today, b0.year - 1)
    else:
        a0, _ = a.resolved(today)
        b0, b1 = b.resolved(today, a0.year if b.unit != "year" else None)
        if b0 < a0 and b.year is None:
            b0, b1 = b.resolved(today, a0.year + 1)
    if b1 <= a0:
        return None
    label = f"{a.label(a0)} to {b.label(b0)}"
    if a.unit == b.unit and a.unit in ("month", "quarter") and a0.year == b0.year:
        label = f"{a.label(a0).rsplit(' ', 1)[0]} to {b.label(b0)}"
    first = TimeRange(a0, a.resolved(today, b0.year if a.year is None else None)[1], a.label(a0), a.unit)
    second = TimeRange(b0, b1, b.label(b0), b.unit)
    return _Hit(
        TimeRange(a0, b1, label, a.unit if a.unit == b.unit else None),
        points=(first, second) if a.unit == b.unit else (),
    )


def _since(m: re.Match[str], today: dt.date, text: str) -> _Hit | None:
    a = _read_point(m, "a_")
    if a is None:
        return None
    a0, a1 = a.resolved(today)
    word = m.group("word")
    inclusive = bool(m.group("on"))  # "on or after 1 Jan 2018" holds the day itself
    end = today + dt.timedelta(days=1)
    if m.group("edge"):  # "since the start of 2025", "until the end of Q2": one boundary of the period
        edge = a1 if m.group("edge") == "end" else a0
        said = f"{word} the {m.group('edge')} of {a.label(a0)}"
        if word in ("since", "after"):
            return _Hit(TimeRange(edge, end, said)) if edge < end else None
        return _Hit(TimeRange(None, edge, said))
    if word in ("before", "until", "till", "prior to"):
        if inclusive:
            return _Hit(TimeRange(None, a1, f"on or before {a.label(a0)}"))
        return _Hit(TimeRange(None, a0, f"before {a.label(a0)}"))
    if inclusive:
        return _Hit(TimeRange(a0, end, f"on or after {a.label(a0)}")) if a0 < end else None
    start = a1 if word == "after" else a0
    if start >= end:
        return None
    return _Hit(TimeRange(start, end, f"{word} {a.label(a0)}"))


def _open_ended(m: re.Match[str], today: dt.date, text: str) -> _Hit | None:
    """ "in 2021 or later", "2021 onwards": from the period on, to today; "in 2021 or earlier": up to its end."""
    a = _read_point(m, "a_")
    if a is None:
        return None
    a0, a1 = a.resolved(today)
    tail = re.sub(r"\s+", " ", m.group("tail"))
    if tail.endswith(("earlier", "before")):
        return _Hit(TimeRange(None, a1, f"{a.label(a0)} {tail}"))
    end = today + dt.timedelta(days=1)
    return _Hit(TimeRange(a0, end, f"{a.label(a0)} {tail}")) if a0 < end else None


def _rolling(m: re.Match[str], today: dt.date, text: str) -> _Hit | None:
    raw = m.group("n") or "1"
    n = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
    unit = m.group("unit")
    days = n * {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}[unit]
    if n < 1 or today.year - days / 366 < MIN_YEAR:
        return None  # "last 100000 years" reaches before any data; reported as an impossible period
    end = today + dt.timedelta(days=1)
    start = shift(end, unit, -n)
    plural = unit + ("s" if n != 1 else "")
    return _Hit(TimeRange(start, end, f"last {n} {plural}", unit))


def _the_year(today: dt.date, text: str) -> _Hit:
    """ "the busiest day of the year": this year so far; with a year named elsewhere ("… of the year in 2025")
    that year says it and these words add nothing."""
    if re.search(r"\b(?:1[89]|2[01])\d{2}\b|\b(?:last|previous|this|next)\s+year\b", text):
        return _Hit(None, until_now=True)
    start = period_start(today, "year")
    return _Hit(
        TimeRange(start, today + dt.timedelta(days=1), f"year to date ({_unit_label(start, 'year')})", "year")
    )


def _to_date(m: re.Match[str], today: dt.date, text: str) -> _Hit:
    word = m.group(0)
    unit = next((u for u in ("year", "month", "quarter", "week") if u in word), None)
    if unit is None:
        unit = {"y": "year", "m": "month", "q": "quarter", "w": "week"}[word[0]]
    start = period_start(today, unit)
    return _Hit(
        TimeRange(start, today + dt.timedelta(days=1), f"{unit} to date ({_unit_label(start, unit)})", unit),
        to_date=unit if "this" not in word and "current" not in word else None,
    )


def _until_now(m: re.Match[str], today: dt.date, text: str) -> _Hit:
    """ "to date", "so far", "all time": every day recorded, which needs no range (a period named elsewhere in the
    question says it). Bounding it at today would only drop the rows without a date: a table whose dates are empty
    would answer nothing."""
    return _Hit(None, until_now=True)


def _previous_period(m: re.Match[str], today: dt.date, text: str) -> _Hit:
    unit = m.group("unit")
    end = period_start(today, unit)
    start = shift(end, unit, -1)
    return _Hit(TimeRange(start, end, f"last {unit} ({_unit_label(start, unit)})", unit))


def _day_word(m: re.Match[str], today: dt.date, text: str) -> _Hit:
    day = today if m.group(0) == "today" else today - dt.timedelta(days=1)
    return _Hit(TimeRange(day, day + dt.timedelta(days=1), f"{m.group(0)} ({day.isoformat()})", "day"))


def _relative_year(word: str | None, today: dt.date) -> int | None:
    if word is None or word in ("the year", "this year"):
        return None
    if word == "last year":
        return today.year - 1
    return int(word)


def _part_of_year(m: re.Match[str], today: dt.date, text: str) -> _Hit | None:
    unit = "quarter" if m.group("kind") == "quarter" else "half"
    index = _ORDINALS[m.group("ord")] if m.group("ord") else int(m.group("num"))
    if unit == "half" and index > 2:
        return None
    year = _relative_year(re.sub(r"\s+", " ", m.group("year")) if m.group("year") else None, today)
    months = 3 if unit == "quarter" else 6
    first_month = (index - 1) * months + 1
    if year is None:
        year = today.year if dt.date(today.year, first_month, 1) <= today else today.year - 1
    start = dt.date(year, first_month, 1)
    label = f"Q{index} {year}" if unit == "quarter" else f"H{index} {year}"
    return _Hit(TimeRange(start, add_months(start, months), label, "quarter" if unit == "quarter" else None))


def _last_of_year(m: re.Match[str], today: dt.date, text: str) -> _Hit:
    """ "the last quarter of 2025" (Q4), "the final half of the year" (H2), "the last month of 2025" (December)."""
    kind = m.group("kind")
    year = _relative_year(re.sub(r"\s+", " ", m.group("year")), today) or today.year
    months = {"quarter": 3, "half": 6, "month": 1}[kind]
    start = dt.date(year, 13 - months, 1)
    label = {"quarter": f"Q4 {year}", "half": f"H2 {year}", "month": f"December {year}"}[kind]
    return _Hit(TimeRange(start, add_months(start, months), label, kind if kind != "half" else None))


def _single_point(m: re.Match[str], today: dt.date, text: str) -> _Hit | None:
    a = _read_point(m, "a_")
    if a is None:
        return None
    before = text[: m.start()].split()[-1:] if not m.group("prep") else []
    after = text[m.end() :].split()[:1]
    if a.unit == "year":
        # "more than 2025 orders" counts; "order lines from 2025 orders" are those of the year's orders
        placed = bool(m.group("prep")) or before[:1] in (["from"], ["of"], ["among"])
        if (before and before[0] in _COMPARATOR_WORDS | {">", "<", ">=", "<=", "="}) or (
            after and after[0] in _QUANTITY_WORDS and not placed
        ):
            return None
    if a.unit == "month" and a.year is None and not m.group("prep") and m.group("a_m") in _AMBIGUOUS_MONTHS:
        return None
    a0, a1 = a.resolved(today)
    return _Hit(TimeRange(a0, a1, a.label(a0), a.unit if a.unit != "day" else "day"))


def _grain(m: re.Match[str], today: dt.date, text: str) -> _Hit:
    word = m.group("g")
    if "week" in word and ("day" in word or "weekday" in word):
        return _Hit(grain="day_of_week")
    if word.startswith("weekday"):
        return _Hit(grain="day_of_week")
    stem = {
        "hourly": "hour",
        "daily": "day",
        "date": "day",
        "weekly": "week",
        "monthly": "month",
        "quarterly": "quarter",
        "yearly": "year",
        "annually": "year",
        "annual": "year",
    }.get(word, word)
    return _Hit(grain=stem.rstrip("s"))


def _weak_grain(m: re.Match[str], today: dt.date, text: str) -> _Hit:
    return _Hit(grain="month", weak_grain=True)


def _year_q(m: re.Match[str], today: dt.date, text: str) -> _Hit | None:
    if m.group("rq"):
        year = int(m.group("ry"))
        start = dt.date(year, (int(m.group("rq")) - 1) * 3 + 1, 1)
        return _Hit(TimeRange(start, add_months(start, 3), _quarter_label(start), "quarter"))
    return _single_point(m, today, text)


def _month_list(m: re.Match[str], today: dt.date, text: str) -> _Hit | None:
    """ "December, January and February (2013)": each month (the most recent one, or of the year given)."""
    names = re.findall(_MONTH, m.group("months"))
    year = int(m.group("ly")) if m.group("ly") else None
    pieces = []
    for name in names:
        start, end = _Point("month", year, _MONTHS[name]).resolved(today)
        pieces.append(TimeRange(start, end, _unit_label(start, "month"), "month"))
    if len(pieces) < 2:
        return None
    return _Hit(_union(pieces))


def _union(pieces: list[TimeRange]) -> TimeRange:
    """One range covering pieces; its parts keep the gaps between pieces that do not touch."""
    ordered = sorted(pieces, key=lambda r: r.start or dt.date.min)
    merged: list[list[dt.date]] = []
    for r in ordered:
        if r.start is None or r.end is None:
            raise InternalError(f"an open-ended time range cannot be joined with others: {r}")
        if merged and r.start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], r.end)
        else:
            merged.append([r.start, r.end])
    label = ", ".join(r.label for r in pieces[:-1]) + " and " + pieces[-1].label
    grains = {r.grain for r in pieces}
    parts = tuple((a, b) for a, b in merged) if len(merged) > 1 else ()
    return TimeRange(merged[0][0], merged[-1][1], label, grains.pop() if len(grains) == 1 else None, parts)


def _day_rule(m: re.Match[str], today: dt.date, text: str) -> _Hit | None:
    """ "31 October 2026", "October 31, 2026", "the 1st of January 2013": one day (a range of days is left to
    the range rules, or unread)."""
    if re.search(r"\b(?:from|between)\s*$", text[: m.start()]):
        return None
    g = m.groupdict()
    if g.get("dd") and _counts_things(m, text):
        return None
    month = _MONTHS[g.get("dm") or g.get("md") or ""]
    day = int(g.get("dd") or g.get("mdd") or 0)
    year_text = g.get("dy") or g.get("mdy")
    year = int(year_text) if year_text else today.year
    try:
        start = dt.date(year, month, day)
    except ValueError:
        return None
    if year_text is None and start > today:
        start = start.replace(year=year - 1)
    return _Hit(TimeRange(start, start + dt.timedelta(days=1), start.strftime("%-d %B %Y"), "day"))


def _counts_things(m: re.Match[str], text: str) -> bool:
    """ "the 10 january flights", "top 5 december orders": a bare number after 'the' or 'top', then a month and a
    plural noun, counts the things of that month; it is no day ("on the 10th of January" is)."""
    said = m.group(0).lower()
    if m.group("dy") or not re.match(r"(?:the\s+)?\d{1,2}\s", said):
        return False  # "on the 10th", "10 January 2013": a day
    before = text[: m.start()].lower().split()[-1:]
    after = text[m.end() :].lower().split()[:1]
    opens = said.startswith("the ") or before == ["top"]
    return opens and bool(after) and after[0].isalpha() and after[0].endswith("s")


def _day_range(m: re.Match[str], today: dt.date, text: str) -> _Hit | None:
    """ "July 1 to 7", "from July 1 to July 7, 2013", "1-7 July": the days from the first through the last."""
    g = m.groupdict()
    if g.get("andc") and not m.group(0).lower().startswith("between"):
        return None  # "on 3 May and 5 May" names two days; "between 3 May and 5 May" the days from one to the other
    first_month = _MONTHS[g.get("m1") or g.get("mb") or g.get("m1c") or ""]
    last_month = _MONTHS[g.get("m2") or g.get("m2c") or ""] if g.get("m2") or g.get("m2c") else first_month
    year_text = g.get("y") or g.get("yb") or g.get("yc")
    year = int(year_text) if year_text else today.year
    try:
        start = dt.date(year, first_month, int(g.get("d1") or g.get("d1b") or g.get("d1c") or 0))
        last = dt.date(year, last_month, int(g.get("d2") or g.get("d2b") or g.get("d2c") or 0))
    except ValueError:
        return None
    if year_text is None and start > today:
        start, last = start.replace(year=year - 1), last.replace(year=year - 1)
    if last < start:
        return None
    label = f"{start.strftime('%-d %B')} to {last.strftime('%-d %B %Y')}"
    return _Hit(TimeRange(start, last + dt.timedelta(days=1), label, "day"))


# named days of the calendar: fixed dates, and days counted from US Thanksgiving (the fourth Thursday of
# November)
_NAMED_DAYS = {
    "christmas day": (12, 25),
    "christmas": (12, 25),
    "christmas eve": (12, 24),
    "new year's day": (1, 1),
    "new years day": (1, 1),
    "new year's eve": (12, 31),
    "new years eve": (12, 31),
    "halloween": (10, 31),
    "valentine's day": (2, 14),
    "valentines day": (2, 14),
    "independence day": (7, 4),
    "the fourth of july": (7, 4),
    "fourth of july": (7, 4),
    "juneteenth": (6, 19),
    "veterans day": (11, 11),
    "veterans' day": (11, 11),
}
# US days that fall on the n-th (or, -1, the last) given weekday of a month: (month, weekday, n, days before)
_NTH_WEEKDAY_DAYS = {
    "martin luther king day": (1, 0, 3, 0),
    "mlk day": (1, 0, 3, 0),
    "presidents day": (2, 0, 3, 0),
    "presidents' day": (2, 0, 3, 0),
    "memorial day": (5, 0, -1, 0),
    "memorial day weekend": (5, 0, -1, 2),  # Saturday through Monday
    "mother's day": (5, 6, 2, 0),
    "mothers day": (5, 6, 2, 0),
    "father's day": (6, 6, 3, 0),
    "fathers day": (6, 6, 3, 0),
    "labor day": (9, 0, 1, 0),
    "labour day": (9, 0, 1, 0),
    "labor day weekend": (9, 0, 1, 2),
    "columbus day": (10, 0, 2, 0),
}
_AFTER_THANKSGIVING = {
    "thanksgiving": 0,
    "thanksgiving day": 0,
    "black friday": 1,
    "cyber monday": 4,
    "thanksgiving weekend": 0,
}
_NAMED_DAYS_LONG = {"thanksgiving weekend": 4}  # Thursday through Sunday


_NAMED_DAY_NAMES = "|".join(
    re.escape(n).replace(r"\ ", r"\s+")
    for n in sorted([*_NAMED_DAYS, *_AFTER_THANKSGIVING, *_NTH_WEEKDAY_DAYS], key=len, reverse=True)
)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th `weekday` (Monday 0) of a month; n = -1 is the month's last one."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = shift(dt.date(year, month, 1), "month", 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _decade(m: re.Match[str], today: dt.date, text: str) -> _Hit | None:
    """ "homes built in the 1990s": the ten years from the decade's first."""
    first = int(m.group("decade"))
    if first < MIN_YEAR or first + 10 > MAX_YEAR:
        return None
    return _Hit(TimeRange(dt.date(first, 1, 1), dt.date(first + 10, 1, 1), f"the {first}s", "year"))


def _named_day(m: re.Match[str], today: dt.date, text: str) -> _Hit | None:
    """ "Christmas Day 2013", "on Halloween": that one day (the most recent one when no year is given);
    "Thanksgiving weekend" runs from the Thursday through the Sunday."""
    name = re.sub(r"\s+", " ", m.group("name").replace("’", "'"))
    year = int(m.group("hy")) if m.group("hy") else today.year
    said = m.group("hy") or m.group("rel")  # "on Christmas Eve last year": that year's, said relatively
    if m.group("rel") in ("last", "previous"):
        year -= 1

    def on(y: int) -> dt.date:
        if name in _NAMED_DAYS:
            return dt.date(y, *_NAMED_DAYS[name])
        if name in _NTH_WEEKDAY_DAYS:
            month, weekday, n, before = _NTH_WEEKDAY_DAYS[name]
            return _nth_weekday(y, month, weekday, n) - dt.timedelta(days=before)
        first = dt.date(y, 11, 1)
        thanksgiving = first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)  # the fourth Thursday
        return thanksgiving + dt.timedelta(days=_AFTER_THANKSGIVING[name])

    start = on(year)
    if not said and start > today:
        start = on(year - 1)
    days = _NAMED_DAYS_LONG.get(name, 1 + _NTH_WEEKDAY_DAYS.get(name, (0, 0, 0, 0))[3])
    end = start + dt.timedelta(days=days)
    last = end - dt.timedelta(days=1)
    label = start.strftime("%-d %B %Y") if days == 1 else f"{start:%-d %B} to {last:%-d %B %Y}"
    return _Hit(TimeRange(start, end, label, "day"))


def _week_of_month(m: re.Match[str], today: dt.date, text: str) -> _Hit | None:
    """ "the first week of July": days 1-7 of the month (the second 8-14, …; the last: its final seven days)."""
    g = m.groupdict()
    month = _MONTHS[g["wm"]]
    year = int(g["wy"]) if g.get("wy") else today.year
    first = dt.date(year, month, 1)
    if not g.get("wy") and first > today:
        first = first.replace(year=year - 1)
    end_of_month = shift(first, "month", 1)
    order = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3}
    start = (
        end_of_month - dt.timedelta(days=7)
        if g["wo"] == "last"
        else first + dt.timedelta(days=7 * order[g["wo"]])
    )
    end = min(start + dt.timedelta(days=7), end_of_month)
    return _Hit(
        TimeRange(
            start, end, f"{start.strftime('%-d')}-{(end - dt.timedelta(days=1)).strftime('%-d %B %Y')}", "day"
        )
    )


_COMPARE_WORDS = r"(?:vs\.?|versus|compared?\s+(?:to|with)|comparing\s+(?:to|with)|against|relative\s+to)"
_RULES: list[Rule] = [
    (
        re.compile(
            r"\b(?:year[\s-]*over[\s-]*year|yoy|y/y|year[\s-]on[\s-]year|"
            + _COMPARE_WORDS
            + r"\s+(?:the\s+)?(?:same\s+(?:period|time|stretch|quarter|month|week|months|weeks)\s+"
            r"(?:of\s+)?)?(?:(?:a|one)\s+year\s+(?:ago|earlier|before)|(?:the\s+)?(?:last|previous|prior|a)\s+year)"
            r"(?:'s)?|(?:than|from)\s+(?:the\s+)?same\s+(?:period|time|stretch|quarter|month|week)\s+last\s+year|"
            r"same\s+(?:period|time|stretch|quarter|month|week)\s+(?:of\s+)?(?:the\s+)?(?:last|previous|prior)\s+year)\b"
        ),
        _comparison_year,
    ),
    (
        re.compile(
            r"\b(?:(?P<unit>month|quarter|week|day)[\s-]*over[\s-]*(?:month|quarter|week|day)|mom|qoq|wow|"
            r"m/m|q/q|period[\s-]*over[\s-]*period|"
            + _COMPARE_WORDS
            + r"\s+(?:the\s+)?(?:(?:previous|prior|preceding|last)\s+(?:period|month|quarter|week)|"
            r"(?:period|month|quarter|week|year)\s+before|(?:previous|prior|preceding)\s+one))\b"
        ),
        _comparison_previous,
    ),
    (re.compile(rf"\b{_point('a_')}\s*,?\s+{_COMPARE_WORDS}\s+(?:the\s+)?{_point('b_')}\b"), _versus),
    # "compare revenue in 2025 and 2024", "comparing June with July": the periods a comparison opens with
    (
        re.compile(
            rf"\b(?:compare|comparing|contrast|contrasting)\b[^.?;]{{0,80}}?(?P<span>(?:between\s+)?{_point('a_')}\s*,?\s+"
            rf"(?:and|with|to)\s+(?:the\s+)?{_point('b_')})\b"
        ),
        _versus,
    ),
    (
        re.compile(
            rf"\b(?:from\s+|between\s+)?(?P<m1>{_MONTH})\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s*"
            rf"(?:-|to|through|thru|until|till|and)\s*(?:(?P<m2>{_MONTH})\s+)?(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?"
            rf"(?:,?\s+(?P<y>{_YEAR}))?\b|\b(?:from\s+|between\s+)?(?:the\s+)?(?P<d1b>\d{{1,2}})(?:st|nd|rd|th)?\s*"
            rf"(?:-|to|through|thru|until|till|and)\s*(?:the\s+)?(?P<d2b>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?"
            rf"(?P<mb>{_MONTH})(?:,?\s+(?P<yb>{_YEAR}))?\b"
            # "28 Nov - 1 Dec": each day before its own month
            rf"|\b(?:from\s+|between\s+)?(?:the\s+)?(?P<d1c>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1c>{_MONTH})"
            rf"\s*(?:-|to|through|thru|until|till|(?P<andc>and))\s*(?:the\s+)?(?P<d2c>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?"
            rf"(?P<m2c>{_MONTH})(?:,?\s+(?P<yc>{_YEAR}))?\b"
        ),
        _day_range,
    ),
    (re.compile(rf"\b{_PREP}?the\s+(?P<decade>(?:19|20)\d0)'?s\b"), _decade),
    (
        re.compile(
            rf"\b(?:on\s+)?(?P<name>{_NAMED_DAY_NAMES})"
            rf"(?:,?\s+(?:(?P<hy>{_YEAR})|(?P<rel>this|last|previous)\s+year))?\b"
        ),
        _named_day,
    ),
    (
        re.compile(
            rf"\b(?:(?:in|during|for|over)\s+)?(?:the\s+)?(?P<wo>first|second|third|fourth|1st|2nd|3rd|4th|last)"
            rf"\s+week\s+of\s+(?P<wm>{_MONTH})(?:\s+(?P<wy>{_YEAR}))?\b"
        ),
        _week_of_month,
    ),
    (
        re.compile(
            rf"\b(?:between|from)\s+{_point('a_')}\s+(?:and|to|through|until|till|-)\s+{_point('b_')}\b"
        ),
        _between,
    ),
    (re.compile(rf"\b{_point('a_')}\s*(?:-|to|through|thru)\s*{_point('b_')}\b"), _between),
    (
        re.compile(
            rf"\b(?:(?:in|during|for|of)\s+)?(?P<months>{_MONTH}(?:\s*(?:,|and|or|&|,\s*and|,\s*or)\s*{_MONTH})+)"
            rf"(?:\s+(?:of\s+)?(?P<ly>{_YEAR}))?\b"
        ),
        _month_list,
    ),
    (
        re.compile(
            rf"\b(?:(?:in|from|during)\s+)?{_point('a_')}\s*,?\s+(?P<tail>(?:or|and)\s+(?:later|after|since|"
            rf"earlier|before)|onwards?|or\s+more\s+recently)\b"
        ),
        _open_ended,
    ),
    (
        re.compile(
            rf"\b(?P<on>on\s+or\s+)?(?P<word>since|after|before|until|till|prior to)\s+"
            rf"(?:(?:the\s+)?(?P<edge>start|beginning|end)\s+of\s+)?{_point('a_')}\b"
        ),
        _since,
    ),
    # "the last quarter of 2025" is Q4 2025, not last quarter and 2025
    (
        re.compile(
            rf"\b(?:{_PREP})?(?:the\s+)?(?:last|final|closing)\s+(?P<kind>quarter|half|month)\s+of\s+"
            rf"(?P<year>{_YEAR}|the\s+year|this\s+year|last\s+year)\b"
        ),
        _last_of_year,
    ),
    (
        re.compile(
            rf"\b(?:{_PREP})?(?:(?P<ord>first|second|third|fourth|1st|2nd|3rd|4th)\s+(?P<kind>quarter|half)"
            rf"|(?P<kind2>h)(?P<num>[12])(?=\s|$))(?:\s+(?:of\s+)?(?P<year>{_YEAR}|the\s+year|this\s+year|"
            rf"last\s+year))?\b"
        ),
        _part_of_year,
    ),
    (
        re.compile(
            rf"\b(?:{_PREP})?(?:last|past|previous|prior|trailing|recent)\s+(?P<n>{_NUM})\s+"
            rf"(?P<unit>day|week|month|quarter|year)s?\b"
        ),
        _rolling,
    ),
    (
        re.compile(
            r"\b(?:(?:in|over|during)\s+)?(?:the\s+)?past\s+(?P<n>)(?P<unit>day|week|month|quarter|year)\b"
        ),
        _rolling,
    ),
    (
        re.compile(
            r"\b(?:ytd|mtd|qtd|wtd|(?:year|month|quarter|week)[\s-]to[\s-]date|"
            r"(?:so\s+far\s+)?(?:this|current)\s+(?:year|month|quarter|week)(?:\s+so\s+far)?)\b"
        ),
        _to_date,
    ),
    (
        re.compile(
            r"\b(?:to[\s-]date|so\s+far|(?:up\s+)?(?:un)?till?\s+(?:now|today)|up\s+to\s+(?:now|today)|"
            r"(?:of\s+)?all[\s-]time|(?:(?:over|in)\s+(?:the|their|its|his|her)\s+)?lifetime|"
            r"(?:(?:across|over|for|in|from)\s+)?all\s+(?:the\s+)?years(?:\s+(?:together|combined))?)\b"
        ),
        _until_now,
    ),
    # "Newark's busiest day of the year": the year the question is about (this one unless it names another)
    (re.compile(r"\bof\s+the\s+year\b(?!\s*\d)"), lambda m, t, x: _the_year(t, x)),
    # "fewer than 100 flights all year": the whole of the year the question is about, as above
    (
        re.compile(
            r"\b(?:all\s+year(?:\s+(?:long|round))?|(?:over|for|during|in|across)?\s*(?:the|this)\s+"
            r"(?:whole|entire|full)\s+year|throughout\s+the\s+year)\b(?!\s*\d)"
        ),
        lambda m, t, x: _the_year(t, x),
    ),
    (
        re.compile(
            r"\b(?:(?:in|during|for|over)\s+)?(?:the\s+)?(?:last|previous|prior)\s+"
            r"(?P<unit>week|month|quarter|year)\b"
        ),
        _previous_period,
    ),
    (re.compile(r"\b(?:today|yesterday)\b"), _day_word),
    (
        re.compile(
            rf"\b(?:on\s+)?(?:the\s+)?(?P<dd>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<dm>{_MONTH})"
            rf"(?:,?\s+(?P<dy>{_YEAR}))?\b|\b(?:on\s+)?(?P<md>{_MONTH})\s+(?P<mdd>\d{{1,2}})(?:st|nd|rd|th)?"
            rf"(?:,?\s+(?P<mdy>{_YEAR}))?\b(?!\s*(?:-|to|through|thru|until|till|and)\b)"
        ),
        _day_rule,
    ),
    (re.compile(rf"\b(?P<prep>{_PREP})?(?:(?P<ry>{_YEAR})\s*-?\s*q(?P<rq>[1-4])|{_point('a_')})\b"), _year_q),
    # "month by month": one row per month
    (re.compile(r"\b(?P<g>day|week|month|quarter|year)\s+by\s+(?P=g)\b"), _grain),
    (
        re.compile(
            r"\b(?:by|per|each|every|for\s+each|for\s+every|across|over)\s+(?:the\s+)?(?:calendar\s+)?"
            r"(?P<g>day\s+of\s+(?:the\s+)?week|weekdays?|week\s*days?|hours?|days?|dates?|weeks?|months?|"
            r"quarters?|years?)\b(?!\s+of\s+(?:the\s+)?(?:day|week|month|year))"
        ),
        _grain,
    ),
    (re.compile(r"\b(?P<g>hourly|daily|weekly|monthly|quarterly|yearly|annually|annual)\b"), _grain),
    # "which month", "busiest day of the week": the grain is asked for; the ranking word stays for the planner
    (
        re.compile(
            r"\b(?:which|what|busiest|best|worst|peak|quietest|slowest|top|highest|lowest|strongest|weakest)"
            r"\s+(?P<span>(?P<g>day\s+of\s+(?:the\s+)?week|weekday|hour|day|week|month|quarter|year)s?)\b"
            r"(?!\s+(?:to\s+date|over))"
        ),
        _grain,
    ),
    # "show the months where the cancellation rate was above 3%": the periods asked for, one row each
    (
        re.compile(
            r"^\s*(?:(?:show|list|give|find)(?:\s+me)?\s+)?(?:all\s+)?(?:the\s+)?"
            r"(?P<span>(?P<g>day|week|month|quarter|year)s)\s+(?=(?:where|when|with|that|in\s+which)\b)"
        ),
        _grain,
    ),
    (re.compile(r"\b(?:over\s+time|trends?|trending|time\s+series)\b"), _weak_grain),
]


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < b and a < span[1] for a, b in taken)


_ISO_LIKE = re.compile(r"\b(\d{3,5})-(\d{1,2})-(\d{1,2})\b")
_YEAR_LIKE = re.compile(r"\b(?:in|during|for|since|before|after|until|of|year)\s+(\d{4,6})\b")
_ROLLING_LIKE = re.compile(
    r"\b(?:last|past|previous|prior|trailing)\s+(\d+)\s+(day|week|month|quarter|year)s?\b"
)


def impossible_dates(text: str, today: dt.date) -> list[str]:
    """Dates and periods in `text` that do not exist or lie outside any data, each as a message."""
    found = []
    for m in _ISO_LIKE.finditer(text):
        try:
            day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            found.append(f"{m.group(0)} is not a date of the calendar")
            continue
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            found.append(f"{m.group(0)} is outside the years {MIN_YEAR}-{MAX_YEAR} any data can hold")
    for m in _YEAR_LIKE.finditer(text):
        year = int(m.group(1))
        if not MIN_YEAR <= year <= MAX_YEAR and not text[m.end() :].lstrip().startswith(
            tuple(_QUANTITY_WORDS)
        ):
            found.append(f"the year {year} is outside the years {MIN_YEAR}-{MAX_YEAR} any data can hold")
    for m in _ROLLING_LIKE.finditer(text):
        n, unit = int(m.group(1)), m.group(2)
        days = n * {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}[unit]
        if n < 1 or today.year - days / 366 < MIN_YEAR:
            found.append(f"'{m.group(0)}' reaches back before {MIN_YEAR}, earlier than any data")
    return found


def straddled_season(
    text: str, today: dt.date, periods: tuple[tuple[str, tuple[int, ...]], ...]
) -> tuple[str, int] | None:
    """ "this winter" said in December: the winter that began this month or the one this year began in; the
    words do not say which. The phrase and the later season's year, or None."""
    names = dict(periods)
    if not names:
        return None
    for m in _season_rule(tuple(names.items())).finditer(text.lower()):
        if (m.group("rel") or "") not in ("this", "current") or m.group("y"):
            continue
        months = names[m.group("season")]
        if months[0] > months[-1] and today.month >= months[0]:
            return m.group(0).strip(), today.year + 1
    return None


_VERB_SEASONS = frozenset({"fall", "spring"})  # season names that are also verbs need a time word around them


@lru_cache(maxsize=64)
def _season_rule(names: tuple[tuple[str, tuple[int, ...]], ...]) -> re.Pattern[str]:
    words = "|".join(sorted((re.escape(n) for n, _ in names), key=len, reverse=True))
    return re.compile(
        rf"\b(?:(?:in|during|for|over|of)\s+)?(?:the\s+)?(?:(?P<rel>last|this|previous|past|current)\s+)?"
        rf"(?P<season>{words})(?P<mw>\s+months?\b)?(?:\s+(?:of\s+)?(?P<y>{_YEAR}))?\b"
    )


def _season(
    m: re.Match[str], today: dt.date, names: dict[str, tuple[int, ...]], text: str = ""
) -> _Hit | None:
    """A named set of months: every year when no year is said, else that year's (winter 2025 = Dec 2024-Feb
    2025); "last winter" is the most recent one that has ended, "this summer" the one of this year."""
    word = m.group("season")
    set_against = re.search(
        rf"\b(?:{_COMPARE_WORDS}|than)\s*$", text[: m.start()], re.I
    )  # "autumn vs spring"
    if word in _VERB_SEASONS and not (
        m.group("y")
        or m.group("rel")
        or re.match(r"(?:in|during|for|over|of|the)\s", m.group(0).lower())
        or set_against
    ):
        return None  # "which policy does claim 12 fall under": a verb, not autumn
    months = names[word]
    label = f"{word} ({', '.join(_MONTH_NAMES[i] for i in months)})"
    year = int(m.group("y")) if m.group("y") else None
    rel = m.group("rel")
    if year is None and rel is None:
        return _Hit(months=months, months_label=f"{label} of every year")
    if year is not None and m.group("mw"):
        # "the winter months of 2013": the season's months inside that year (January, February and December)
        inside = sorted(months)
        names_in = ", ".join(_MONTH_NAMES[i] for i in inside)
        pieces: list[tuple[dt.date, dt.date]] = []
        for month in inside:  # runs of months next to each other are one piece (January–February, December)
            day = dt.date(year, month, 1)
            if pieces and pieces[-1][1] == day:
                pieces[-1] = (pieces[-1][0], add_months(day, 1))
            else:
                pieces.append((day, add_months(day, 1)))
        return _Hit(
            TimeRange(
                pieces[0][0],
                pieces[-1][1],
                f"{word} months of {year} ({names_in})",
                None,
                tuple(pieces) if len(pieces) > 1 else (),
            )
        )
    contiguous = all((b - a) % 12 == 1 for a, b in zip(months, months[1:], strict=False))
    if not contiguous:
        return None
    first = months[0]
    wraps = first > months[-1]  # winter starts in the year before
    if year is None:
        year = today.year + (1 if wraps and today.month >= first else 0)
        end_try = add_months(dt.date(year - (1 if wraps else 0), first, 1), len(months))
        if rel in ("last", "previous", "past") and end_try > today:
            year -= 1
    start = dt.date(year - (1 if wraps else 0), first, 1)
    end = add_months(start, len(months))
    return _Hit(
        TimeRange(
            start,
            end,
            f"{word} {year} ({_unit_label(start, 'month')} to {_unit_label(add_months(end, -1), 'month')})",
            None,
        )
    )


_SHORT = {
    "yr": "year",
    "yrs": "years",
    "qtr": "quarter",
    "qtrs": "quarters",
    "mth": "month",
    "mths": "months",
    "wk": "week",
    "wks": "weeks",
    "ytd": "ytd",
}
_WORD = re.compile(r"[a-z]+")


def _corrected(text: str) -> tuple[str, list[int]]:
    """The text with time shorthands spelled out ("last yr") and month names with typos mended ("Agust"), and
    for each character of the result the index of the character it came from (so spans map back)."""
    from rapidfuzz import fuzz, process
    from rapidfuzz.distance import OSA

    out: list[str] = []
    where: list[int] = []
    last = 0
    months = [m for m in _MONTHS if len(m) > 3]
    for m in _WORD.finditer(text):
        word = m.group(0)
        new = _SHORT.get(word)
        if new is None and len(word) >= 5 and word not in _MONTHS:
            found = process.extractOne(word, months, scorer=fuzz.ratio, score_cutoff=85)
            # two letters swapped ("Marhc") is one slip of the hand, though the ratio counts it as two edits
            swapped = [mo for mo in months if OSA.distance(word, mo, score_cutoff=1) <= 1]
            new = found[0] if found else swapped[0] if len(swapped) == 1 else None
        if new is None:
            continue
        out.append(text[last : m.start()])
        where += range(last, m.start())
        out.append(new)
        where += [m.start() + min(k, len(word) - 1) for k in range(len(new))]
        last = m.end()
    out.append(text[last:])
    where += range(last, len(text))
    where.append(len(text))
    return "".join(out), where


def parse_time(text: str, today: dt.date, periods: tuple[tuple[str, tuple[int, ...]], ...] = ()) -> TimeMatch:
    """Find the time phrases of `text` (lower-cased by the caller or here) and resolve them against `today`.

    `periods` are named month sets ("winter" → (12, 1, 2)), each name lower-case."""
    original = text.lower()
    text, where = _corrected(original)
    match = _parse(text, today, periods)
    if text == original:
        return match
    # spans were found in the mended text: map them back onto the question as written
    spans = tuple((where[a], where[b - 1] + 1) for a, b in match.spans)
    hits = tuple(
        TimeHit(
            where[h.start],
            where[h.end - 1] + 1,
            h.phrase,
            h.time_range,
            h.months,
            h.periods,
            h.grain,
            h.comparison,
            h.explicit,
            h.points,
        )
        for h in match.hits
    )
    return TimeMatch(
        match.time_range,
        match.grain,
        match.comparison,
        spans,
        match.phrases,
        match.parts,
        match.to_date,
        hits,
        match.months,
        match.months_label,
        match.periods,
        match.explicit_comparison,
        tuple(impossible_dates(original, today)),
    )


def _parse(text: str, today: dt.date, periods: tuple[tuple[str, tuple[int, ...]], ...]) -> TimeMatch:
    """parse_time over text already lower-cased and mended."""
    taken: list[tuple[int, int]] = []
    phrases: list[str] = []
    ranges: list[TimeRange] = []
    hits: list[TimeHit] = []
    grain: str | None = None
    weak: str | None = None
    comparison: str | None = None
    to_date: str | None = None
    months: tuple[int, ...] = ()
    months_label = ""
    compared: tuple[TimeRange, ...] = ()
    explicit = False
    parts: list[tuple[int, str, str]] = []
    rules: list[Rule] = list(_RULES)
    if periods:
        names = dict(periods)
        rules.insert(2, (_season_rule(periods), lambda m, t, x: _season(m, t, names, x)))
    for pattern, handler in rules:
        for m in pattern.finditer(text):
            span = m.span("span") if "span" in pattern.groupindex else m.span()
            if span[0] == span[1] or _overlaps(span, taken):
                continue
            hit = handler(m, today, text)
            if hit is None:
                continue
            taken.append(span)
            phrase = text[span[0] : span[1]].strip()
            phrases.append(phrase)
            hits.append(
                TimeHit(
                    span[0],
                    span[1],
                    phrase,
                    hit.time_range,
                    hit.months,
                    hit.periods,
                    hit.grain,
                    hit.comparison,
                    hit.explicit,
                    hit.points,
                )
            )
            if hit.until_now:
                parts.append((span[0], "range", phrase))
            elif hit.time_range is not None:
                ranges.append(hit.time_range)
                parts.append((span[0], "range", phrase))
                to_date = to_date or hit.to_date
            if hit.months:
                months, months_label = hit.months, hit.months_label
                parts.append((span[0], "range", phrase))
            if hit.periods:
                compared = compared or hit.periods
                parts.append((span[0], "range", phrase))
            if hit.grain and hit.weak_grain:
                weak = weak or hit.grain
                parts.append((span[0], "grain", phrase))
            elif hit.grain:
                grain = grain or hit.grain
                parts.append((span[0], "grain", phrase))
            if hit.comparison:
                comparison = comparison or hit.comparison
                explicit = explicit or hit.explicit
                parts.append((span[0], "comparison", phrase))
    hits.sort(key=lambda h: h.start)
    _drop_restated(hits, ranges, text)
    compared, ranges, hits = _set_against(text, hits, ranges, taken, comparison, compared)
    months, months_label = _months_left(compared, months, months_label)
    ordered = tuple((kind, phrase) for _, kind, phrase in sorted(parts))
    return TimeMatch(
        combine_ranges(ranges),
        grain or weak,
        comparison,
        tuple(sorted(taken)),
        tuple(phrases),
        ordered,
        to_date,
        tuple(sorted(hits, key=lambda h: h.start)),
        months,
        months_label,
        compared,
        explicit,
        tuple(impossible_dates(text, today)),
    )


def _drop_restated(hits: list[TimeHit], ranges: list[TimeRange], text: str) -> None:
    """Of two phrases that say one period twice, keep one: "summer 2025 (june-august)" is summer 2025; "over
    Christmas, Dec 24 to 26" is the days written out, which the holiday's name stood for. The words of both stay
    placed."""
    for k, said in enumerate(hits):
        before = hits[k - 1].time_range if k else None
        if (
            k
            and said.time_range is not None
            and said.time_range in ranges
            and _restates(hits[k - 1], said, text)
        ):
            ranges.remove(said.time_range)
            hits[k] = replace(said, time_range=None, points=())
        elif before is not None and before in ranges and _spells_out(hits[k - 1], said, text):
            ranges.remove(before)
            hits[k - 1] = replace(hits[k - 1], time_range=None, points=())


def _set_against(
    text: str,
    hits: list[TimeHit],
    ranges: list[TimeRange],
    taken: list[tuple[int, int]],
    comparison: str | None,
    compared: tuple[TimeRange, ...],
) -> tuple[tuple[TimeRange, ...], list[TimeRange], list[TimeHit]]:
    """Two periods set against each other become compared periods (their compare word is taken); otherwise
    (or when the question already compares with another period) nothing changes."""
    if comparison or compared:
        return compared, ranges, hits
    pair = _compared_ranges(text, hits, ranges)
    if pair is None:
        seasons = None if ranges else _compared_seasons(text, hits)
        if seasons is None:
            return compared, ranges, hits
        (a, b), cue = seasons
        if cue is not None:
            taken.append(cue)
        periods = (_season_period(a), _season_period(b))
        return periods, ranges, [replace(h, months=(), periods=periods) if h in (a, b) else h for h in hits]
    periods, cue = pair
    if cue is not None:
        taken.append(cue)
    return (
        periods,
        [],
        [replace(h, time_range=None, periods=periods) if h.time_range in periods else h for h in hits],
    )


def _months_left(
    compared: tuple[TimeRange, ...], months: tuple[int, ...], label: str
) -> tuple[tuple[int, ...], str]:
    """The months of every year that filter the question: none once seasons are compared instead."""
    return ((), "") if any(p.months for p in compared) else (months, label)


def _season_period(hit: TimeHit) -> TimeRange:
    """A season of every year as a compared period, labelled with its name ("summer")."""
    label = re.sub(r"^(?:(?:in|during|over|for|of|the)\s+)+", "", hit.phrase.strip(), flags=re.I)
    return TimeRange(label=label, months=hit.months)


def _compared_seasons(
    text: str, hits: list[TimeHit]
) -> tuple[tuple[TimeHit, TimeHit], tuple[int, int] | None] | None:
    """ "summer vs winter", "compare summer with winter": two seasons of every year set against each other are
    compared, one row each; seasons that share a month compare nothing."""
    said = [h for h in hits if h.months and h.time_range is None]
    if len(said) != 2:
        return None
    a, b = sorted(said, key=lambda h: h.start)
    if set(a.months) & set(b.months):
        return None
    cue = _cue_between(text, a, b)
    return ((a, b), cue[1]) if cue is not None else None


# the words between two compared periods: a compare word, or 'with'/'and'/'to' after an opening 'compare'
# a comparative asks which of two periods joined by 'or' is bigger ("more flights in March or in April?")
_COMPARATIVES = r"(?:more|fewer|less|higher|lower|better|worse|bigger|smaller|busier|quieter|longer|shorter)"
_COMPARATIVE = re.compile(rf"\b{_COMPARATIVES}\b", re.I)
# ("more in June than in July": 'than' sets two periods against each other too)
_COMPARING_VERB = re.compile(
    r"^\W*(?:stack(?:s|ed)?|measure(?:s|d)?|hold(?:s)?|held|line(?:s|d)?)\s+up\b", re.I
)
# ("revenue in 2025 was higher than in 2024": the comparative and its verb stand before 'than')
_CUE_BETWEEN = re.compile(
    rf"^\W*(?:(?:(?:was|were|is|are)\s+)?(?:{_COMPARATIVES}\s+)?(?P<cue>{_COMPARE_WORDS}|than)|with|and|to)\W",
    re.I,
)


def _compared_ranges(
    text: str, hits: list[TimeHit], ranges: list[TimeRange]
) -> tuple[tuple[TimeRange, TimeRange], tuple[int, int] | None] | None:
    """ "the first half of the year vs the second half", "compare March with April": two periods set against each
    other are compared, one row each, never added up. Returns the periods and the span of the compare word
    between them (None when 'compare' opened the question and 'with'/'and' joins them)."""
    said = [h for h in hits if h.time_range is not None and h.time_range in ranges]
    if len(ranges) != 2 or len(said) != 2:
        return None
    a, b = sorted(said, key=lambda h: h.start)
    first, second = a.time_range, b.time_range
    if first is None or second is None or first.start is None or first.end is None:
        return None
    if second.start is None or second.end is None:
        return None
    if first.start < second.end and second.start < first.end:
        return None  # overlapping periods compare nothing
    cue = _cue_between(text, a, b)
    return ((first, second), cue[1]) if cue is not None else None


def _cue_between(text: str, a: TimeHit, b: TimeHit) -> tuple[bool, tuple[int, int] | None] | None:
    """What sets two time phrases against each other: a compare word between them (its span), or 'with' /
    'and' / 'to' after an opening 'compare' (no span); None when nothing does."""
    raw = text[a.end : b.start]
    # "how did Q3 stack up against Q2": the verb of the comparison stands before its compare word
    between = _COMPARING_VERB.sub(" ", raw)
    m = _CUE_BETWEEN.match(re.sub(r"\b(?:in|during|for|of|the)\b", " ", between) + " ")
    if (
        m is None
        and _COMPARATIVE.search(text)
        and re.fullmatch(r"\W*or\W*", re.sub(r"\b(?:in|during|for|of|the)\b", " ", between))
    ):
        return True, None  # "did we have more flights in March or in April?": which of the two
    if m is None or len(between.split()) > 4:
        return None
    if m.group("cue"):
        at = a.end + raw.lower().index(m.group("cue").lower().split()[0])
        return True, (at, at + len(m.group("cue")))
    if re.search(r"\b(?:compare|compared|comparing|contrast|contrasting)\b", text[: a.start], re.I):
        return True, None
    return None


def _piece_label(day: dt.date) -> str:
    """A piece of a range as text: its year when it starts one, else its first day."""
    return str(day.year) if (day.month, day.day) == (1, 1) else day.isoformat()


def _restates(before: TimeHit, last: TimeHit, text: str) -> bool:
    """True when `last`, in parentheses and without a year, names the months of the period written just before
    it: "summer 2025 (june-august)" is one period, not summer 2025 and June to August of this year."""
    if before.time_range is None or last.time_range is None:
        return False
    if not re.fullmatch(r"\s*\(\s*", text[before.end : last.start]) or re.search(r"\d{4}", last.phrase):
        return False
    return _months_of(before.time_range) == _months_of(last.time_range)


def _spells_out(named: TimeHit, days: TimeHit, text: str) -> bool:
    """True when `days`, written right after a named day ("Christmas, Dec 24 to 26", "Thanksgiving (Nov 28 -
    Dec 1)"), is a span of days holding it: the holiday's name is loose, the days are what the question means."""
    a, b = named.time_range, days.time_range
    if a is None or b is None or not all((a.start, a.end, b.start, b.end)):
        return False
    if not re.search(rf"\b(?:{_NAMED_DAY_NAMES})\b", named.phrase):
        return False
    if not re.fullmatch(r"[\s,(:–—-]*(?:i\.?e\.?,?\s*)?", text[named.end : days.start]):
        return False
    return b.start <= a.start and a.end <= b.end and (b.end - b.start).days > 1  # type: ignore[operator]


def _months_of(r: TimeRange) -> list[int] | None:
    """The months of the year a range covers, in order (None for an open range or one over a year long)."""
    if r.start is None or r.end is None or (r.end - r.start).days > 366:
        return None
    out, day = [], r.start.replace(day=1)
    while day < r.end:
        out.append(day.month)
        day = shift(day, "month", 1)
    return out


def combine_ranges(ranges: list[TimeRange]) -> TimeRange | None:
    """One range from several phrases: their union ("in 2023 and 2024"), with gaps kept ("January and March")."""
    if not ranges:
        return None
    if len(ranges) == 1:
        return ranges[0]
    if all(r.start and r.end and not r.parts for r in ranges):
        inner = [r for r in ranges if all(o.start <= r.start and r.end <= o.end for o in ranges)]  # type: ignore[operator]
        if inner:
            return inner[0]  # "year to date … in 2026": the narrower phrase restates the wider one
        return _union(ranges)
    pieces = [(r, a, b) for r in ranges for a, b in r.pieces()]
    if all(a and b for _, a, b in pieces):
        # "1999, 2000 or 2016" read as "1999" and "2000 or 2016": the union of every piece, gaps kept
        return _union(
            [
                TimeRange(a, b, r.label if len(r.pieces()) == 1 else _piece_label(a), r.grain)
                for r, a, b in pieces
                if a and b
            ]
        )
    starts = [r.start for r in ranges]
    ends = [r.end for r in ranges]
    start = None if None in starts else min(s for s in starts if s)
    end = None if None in ends else max(e for e in ends if e)
    grains = {r.grain for r in ranges}
    return TimeRange(
        start, end, " and ".join(r.label for r in ranges), grains.pop() if len(grains) == 1 else None
    )

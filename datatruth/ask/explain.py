"""A plain-words explanation of a result, built only from the numbers and labels in the result itself."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from datatruth.ask.answer import AnswerColumn
from datatruth.ask.rows import Rows, cell, cells_at, is_missing, is_nat
from datatruth.semantic.labels import in_sentence

if TYPE_CHECKING:
    import pandas as pd

# Every function here reads a result as a DataFrame or as Rows (datatruth.ask.rows), cell by cell.

GRAIN_SUFFIXES = ("hour", "day", "week", "month", "quarter", "year", "day_of_week")
_MAX_LISTED = 3


def as_number(value: Any) -> float | None:
    """A cell as a float, or None when it is missing or not a number."""
    if value is None or isinstance(value, bool | np.bool_ | str):
        return None
    if isinstance(value, decimal.Decimal | int | float | np.integer | np.floating):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else number
    return None


def metric_values(frame: pd.DataFrame | Rows, column: str) -> np.ndarray:
    """A metric column as floats (NaN where missing or not a number), without per-cell pandas overhead."""
    if isinstance(frame, Rows):
        return np.array(
            [np.nan if (n := as_number(v)) is None else n for v in frame.column(column)], dtype=float
        )
    import pandas as pd

    series = frame[column]
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float, na_value=np.nan)
    return np.array([np.nan if (n := as_number(v)) is None else n for v in series.tolist()], dtype=float)


def format_value(value: Any, fmt: str | None = None) -> str:
    """A number in the metric's format: currency $1,234.50, percent 12.5% (from a fraction), number 1,234."""
    number = as_number(value)
    if number is None:
        return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    if fmt == "currency":
        sign = "-" if number < 0 else ""
        return f"{sign}${abs(number):,.2f}"
    if fmt == "percent":
        return f"{number * 100:,.2f}%"
    if float(number).is_integer():
        return f"{int(number):,}"
    return f"{number:,.2f}"


def grain_of(column: AnswerColumn) -> str | None:
    """The time grain encoded in a column name such as metric_time__month."""
    for grain in sorted(GRAIN_SUFFIXES, key=len, reverse=True):
        if column.name.endswith(f"__{grain}"):
            return grain
    return None


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def weekday_name(value: Any) -> str | None:
    """The name of an ISO day of week (1 = Monday … 7 = Sunday), or None when `value` is not one."""
    number = as_number(value)
    if number is None or not float(number).is_integer() or not 1 <= number <= 7:
        return None
    return WEEKDAYS[int(number) - 1]


def format_label(value: Any, column: AnswerColumn) -> str:
    """A dimension value as text; time values at the grain of their column (2025, 2025-Q1, 2025-03, 2025-03-01),
    days of the week by name."""
    if value is None or is_nat(value) or (isinstance(value, float) and math.isnan(value)):
        return "(blank)"
    grain = grain_of(column)
    if grain == "day_of_week":
        return weekday_name(value) or str(value)
    if isinstance(value, dt.date):  # pd.Timestamp is a datetime, and so a date
        # a date reads as its midnight, like pd.Timestamp(date); pandas is not needed for that
        stamp = value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day)
        if grain == "year":
            return f"{stamp.year}"
        if grain == "quarter":
            return f"{stamp.year}-Q{(stamp.month - 1) // 3 + 1}"
        if grain == "month":
            return f"{stamp.year}-{stamp.month:02d}"
        if grain == "hour" or _has_time(stamp):
            return stamp.isoformat(sep=" ", timespec="minutes")
        return stamp.date().isoformat()
    return str(value)


def _has_time(stamp: dt.datetime) -> bool:
    """True when the stamp is not at midnight (to the nanosecond for a pd.Timestamp)."""
    normalize = getattr(stamp, "normalize", None)  # pd.Timestamp
    if normalize is not None:
        return bool(stamp != normalize())
    return stamp != stamp.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Shape:
    """How a result is laid out: its dimension, time and metric columns."""

    dimensions: tuple[AnswerColumn, ...]
    times: tuple[AnswerColumn, ...]
    metrics: tuple[AnswerColumn, ...]

    @property
    def labels(self) -> tuple[AnswerColumn, ...]:
        """Every non-metric column, time first."""
        return self.times + self.dimensions


def shape_of(frame: pd.DataFrame | Rows, columns: tuple[AnswerColumn, ...]) -> Shape:
    """Split the columns of a result by role (only columns present in the frame)."""
    present = [c for c in columns if c.name in frame.columns]
    return Shape(
        tuple(c for c in present if c.role == "dimension"),
        tuple(c for c in present if c.role == "time"),
        tuple(c for c in present if c.role == "metric"),
    )


def _row_label(frame: pd.DataFrame | Rows, pos: int, shape: Shape) -> str:
    return " / ".join(format_label(cell(frame, c.name, pos), c) for c in shape.labels)


def explain(frame: pd.DataFrame | Rows, columns: tuple[AnswerColumn, ...], subject: str = "") -> str:
    """Describe the result in a few sentences; every number quoted is a cell of the frame."""
    if frame.empty:
        return "No rows matched this question."
    shape = shape_of(frame, columns)
    if not shape.metrics:
        return (
            f"The result lists {_plural(frame, shape)}."
            if shape.labels
            else "The query returned rows but no measures."
        )
    prefix = f"{subject[:1].upper()}{subject[1:]}: " if subject else ""
    if not shape.labels:
        parts = [f"{m.title} is {format_value(cell(frame, m.name, 0), m.format)}" for m in shape.metrics]
        return prefix + "; ".join(parts) + "."
    if len(frame) == 1:
        parts = [f"{m.title} is {format_value(cell(frame, m.name, 0), m.format)}" for m in shape.metrics]
        return f"{prefix}for {_row_label(frame, 0, shape)}, " + "; ".join(parts) + "."
    sentences = []
    for metric in shape.metrics:
        if metric.name.endswith(("__previous", "__difference")):
            continue  # the previous period and the difference are in the table; the change says how they compare
        sentences.append(_describe_metric(frame, shape, metric))
    return prefix + " ".join(s for s in sentences if s)


def _plural(frame: pd.DataFrame | Rows, shape: Shape) -> str:
    names = ", ".join(c.title for c in shape.labels)
    return f"values of {names}"


def _describe_metric(frame: pd.DataFrame | Rows, shape: Shape, metric: AnswerColumn) -> str:
    values = metric_values(frame, metric.name)
    valid = np.flatnonzero(~np.isnan(values))
    if valid.size == 0:
        return f"{metric.title} is blank in every row."
    fmt = metric.format
    at = cells_at(frame, metric.name)

    def quoted(pos: int) -> str:
        return format_value(at(pos), fmt)

    hi = int(valid[np.argmax(values[valid])])
    lo = int(valid[np.argmin(values[valid])])
    time = shape.times[0] if shape.times and not shape.dimensions else None
    stamp = cells_at(frame, time.name) if time is not None else None
    order = (
        []
        if stamp is None
        else sorted((pos for pos in valid.tolist() if not is_missing(stamp(pos))), key=stamp)
    )
    if time is not None and stamp is not None and len(order) >= 2:
        first, last = order[0], order[-1]
        text = (
            f"{metric.title} went from {quoted(first)} in {format_label(stamp(first), time)}"
            f" to {quoted(last)} in {format_label(stamp(last), time)}"
        )
        if len(order) > 2:
            text += (
                f"; the highest was {quoted(hi)} in {_row_label(frame, hi, shape)} and the lowest "
                f"{quoted(lo)} in {_row_label(frame, lo, shape)}"
            )
        return text + "."
    # Stable descending order: ties keep the row order of the result.
    ranked = valid[np.argsort(-values[valid], kind="stable")]
    listed = ", ".join(
        f"{_row_label(frame, int(pos), shape)} ({quoted(int(pos))})" for pos in ranked[:_MAX_LISTED]
    )
    # every row listed ("bottom 2 stores"): their order, not a claim that they are the highest
    text = f"{metric.title}, highest first: {listed}"
    if len(ranked) > _MAX_LISTED:
        text = f"Highest {in_sentence(metric.title)}: {listed}"
        bottom = int(ranked[-1])
        text += f"; lowest: {_row_label(frame, bottom, shape)} ({quoted(bottom)})"
    return text + "."

"""Insights computed from a result's rows: change vs the previous period, trend, outliers, share of total."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from datatruth.ask.answer import AnswerColumn, Insight
from datatruth.ask.explain import Shape, format_label, format_value, metric_values, shape_of
from datatruth.ask.rows import Rows, cell, cells_at, is_missing
from datatruth.semantic.labels import in_sentence
from datatruth.semantic.model import SEPARATOR

if TYPE_CHECKING:
    import pandas as pd

MAX_OUTLIERS = 3
# A trend must move the series by at least this share of its mean from the first to the last point.
TREND_MIN_MOVE = 0.05
OUTLIER_MIN_ROWS = 8
OUTLIER_Z = 2.0
# Columns a comparison adds next to each metric: they restate it, so they get no insights of their own.
_HELPER_SUFFIXES = (f"{SEPARATOR}previous", f"{SEPARATOR}difference", f"{SEPARATOR}change_pct")


def is_helper_column(column: AnswerColumn) -> bool:
    """True for a comparison's previous-period and change columns."""
    return column.name.endswith(_HELPER_SUFFIXES)


def is_additive(column: AnswerColumn) -> bool:
    """True when the values of separate rows add up to a total (sums and counts; never percents or averages)."""
    if column.format == "percent" or column.name.endswith(f"{SEPARATOR}share"):
        return False
    return column.additive if column.additive is not None else True


def find_insights(frame: pd.DataFrame | Rows, columns: tuple[AnswerColumn, ...]) -> tuple[Insight, ...]:
    """All insights that the shape of the result supports, metric by metric."""
    if frame.empty or len(frame) < 2:
        return ()
    shape = shape_of(frame, columns)
    found: list[Insight] = []
    for metric in shape.metrics:
        if is_helper_column(metric):
            continue
        values = metric_values(frame, metric.name)
        if np.count_nonzero(~np.isnan(values)) < 2:
            continue
        if shape.times and not shape.dimensions:
            found += _time_insights(frame, shape, metric, values)
        found += _outliers(frame, shape, metric, values)
        if shape.dimensions and not shape.times:
            found += _share(frame, shape, metric, values)
    return tuple(found)


def _label(frame: pd.DataFrame | Rows, shape: Shape, pos: int) -> str:
    return " / ".join(format_label(cell(frame, c.name, pos), c) for c in shape.labels) or f"row {pos + 1}"


def _time_insights(
    frame: pd.DataFrame | Rows, shape: Shape, metric: AnswerColumn, values: np.ndarray
) -> list[Insight]:
    time = shape.times[0]
    stamp = cells_at(frame, time.name)
    order = sorted(
        (pos for pos in range(len(values)) if not np.isnan(values[pos]) and not is_missing(stamp(pos))),
        key=stamp,
    )
    if len(order) < 2:
        return []
    series = values[order]
    prev, last = order[-2], order[-1]
    out = []
    quoted = (
        f"({format_value(cell(frame, metric.name, last), metric.format)} vs "
        f"{format_value(cell(frame, metric.name, prev), metric.format)})"
    )
    periods = f"in {format_label(stamp(last), time)} vs {format_label(stamp(prev), time)}"
    if metric.format == "percent":
        # A rate moves by percentage points; "down 95%" of a percent reads as nonsense.
        points = (series[-1] - series[-2]) * 100
        word = "up" if points > 0 else "down" if points < 0 else "unchanged"
        amount = f" {abs(points):.1f} percentage points" if points else ""
        out.append(Insight("change", f"{metric.title} is {word}{amount} {periods} {quoted}.", metric.name))
    elif series[-2]:
        change = (series[-1] - series[-2]) / abs(series[-2])
        word = "up" if change > 0 else "down" if change < 0 else "unchanged"
        amount = f" {abs(change) * 100:.1f}%" if change else ""
        out.append(Insight("change", f"{metric.title} is {word}{amount} {periods} {quoted}.", metric.name))
    if len(order) >= 3:
        slope = float(np.polyfit(np.arange(len(series)), series, 1)[0])
        mean = float(np.abs(series).mean())
        move = slope * (len(series) - 1) / mean if mean else 0.0
        if abs(move) < TREND_MIN_MOVE:
            text = f"{metric.title} is roughly flat over the {len(series)} periods shown."
        else:
            direction = "an upward" if move > 0 else "a downward"
            text = (
                f"{metric.title} has {direction} trend over the {len(series)} periods shown "
                f"(about {abs(move) * 100:.0f}% of its average from first to last by a linear fit)."
            )
        out.append(Insight("trend", text, metric.name))
    return out


def _outliers(
    frame: pd.DataFrame | Rows, shape: Shape, metric: AnswerColumn, values: np.ndarray
) -> list[Insight]:
    present = np.flatnonzero(~np.isnan(values))
    data = values[present]
    if data.size < OUTLIER_MIN_ROWS or data.std() == 0:
        return []
    q1, q3 = np.percentile(data, [25, 75])
    iqr = q3 - q1
    z = (data - data.mean()) / data.std()
    median = float(np.median(data))
    # Both tests must agree: Tukey fences alone flag too much in skewed data, z alone misses in small sets.
    flagged = np.flatnonzero(((data < q1 - 1.5 * iqr) | (data > q3 + 1.5 * iqr)) & (np.abs(z) >= OUTLIER_Z))
    out = []
    for k in flagged[np.argsort(-np.abs(z[flagged]), kind="stable")][:MAX_OUTLIERS]:
        pos = int(present[k])
        side = "unusually high" if data[k] > median else "unusually low"
        out.append(
            Insight(
                "outlier",
                f"{_label(frame, shape, pos)} is {side} for {metric.title}: "
                f"{format_value(cell(frame, metric.name, pos), metric.format)} "
                f"(z-score {z[k]:.1f}, outside the interquartile fences).",
                metric.name,
            )
        )
    return out


def _share(
    frame: pd.DataFrame | Rows, shape: Shape, metric: AnswerColumn, values: np.ndarray
) -> list[Insight]:
    data = np.nan_to_num(values, nan=0.0)
    if not is_additive(metric) or (data < 0).any():
        return []  # shares of an average, a ratio, a distinct count or of signed values are meaningless
    total = float(data.sum())
    if total <= 0:
        return []
    top = int(np.argmax(data))
    return [
        Insight(
            "share",
            f"{_label(frame, shape, top)} accounts for {data[top] / total * 100:.1f}% of the "
            f"total {in_sentence(metric.title)} shown ({format_value(cell(frame, metric.name, top), metric.format)} of "
            f"{format_value(total, metric.format)}).",
            metric.name,
        )
    ]

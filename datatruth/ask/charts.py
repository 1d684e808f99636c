"""Pick a chart from the shape of a result and return it as a plotly figure spec (a plain dict).

The spec is written by hand rather than through plotly.graph_objects because building a Figure costs
milliseconds per answer and the warm (cached) path must stay fast; `plotly.graph_objects.Figure(spec)`
accepts it unchanged and the tests check that it validates.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from datatruth.ask.answer import ColumnInfo, json_value
from datatruth.ask.explain import Shape, format_label, shape_of

MAX_BAR_CATEGORIES = 50
MAX_SERIES = 12


def _values(frame: pd.DataFrame, column: str) -> list[Any]:
    return [json_value(v) for v in frame[column].tolist()]


def _labels(frame: pd.DataFrame, column: ColumnInfo) -> list[str]:
    return [format_label(v, column) for v in frame[column.name].tolist()]


def _axis_format(metric: ColumnInfo) -> dict[str, Any]:
    if metric.format == "currency":
        return {"tickprefix": "$", "tickformat": ",.0f"}
    if metric.format == "percent":
        return {"tickformat": ".1%"}
    return {"tickformat": ","}


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title}, "margin": {"l": 40, "r": 20, "t": 50, "b": 40}, **extra}


def choose_chart(frame: pd.DataFrame, columns: tuple[ColumnInfo, ...], title: str = "") -> dict[str, Any] | None:
    """A KPI card, line, bar or grouped chart for the result, or None when a table says it better."""
    if frame.empty:
        return None
    shape = shape_of(frame, columns)
    if not shape.metrics:
        return None
    if not shape.labels:
        return kpi(frame, shape, title) if len(frame) == 1 else None
    if shape.times and len(shape.times) == 1 and len(shape.dimensions) <= 1:
        return line(frame, shape, title)
    if not shape.times and len(shape.dimensions) in (1, 2) and len(frame) <= MAX_BAR_CATEGORIES * MAX_SERIES:
        return bars(frame, shape, title)
    return None


def kpi(frame: pd.DataFrame, shape: Shape, title: str) -> dict[str, Any]:
    """One number card per metric (plotly indicator), side by side."""
    row = frame.iloc[0]
    count = len(shape.metrics)
    data = []
    for i, metric in enumerate(shape.metrics):
        number: dict[str, Any] = {"valueformat": ",.2f" if metric.format == "currency" else
                                  ".2%" if metric.format == "percent" else ","}
        if metric.format == "currency":
            number["prefix"] = "$"
        data.append({"type": "indicator", "mode": "number", "value": json_value(row[metric.name]),
                     "title": {"text": metric.title}, "number": number,
                     "domain": {"x": [i / count, (i + 1) / count], "y": [0, 1]}})
    return {"data": data, "layout": _layout(title, height=220)}


def line(frame: pd.DataFrame, shape: Shape, title: str) -> dict[str, Any] | None:
    """A line per metric (or per category of the one dimension) over time."""
    time = shape.times[0]
    ordered = frame.sort_values(time.name)
    x = _labels(ordered, time)
    data = []
    if shape.dimensions:
        dim, metric = shape.dimensions[0], shape.metrics[0]
        groups = ordered.groupby(dim.name, sort=True, dropna=False)
        if groups.ngroups > MAX_SERIES:
            return None
        for key, part in groups:
            data.append({"type": "scatter", "mode": "lines+markers", "name": format_label(key, dim),
                         "x": _labels(part, time), "y": _values(part, metric.name)})
    else:
        for metric in shape.metrics:
            data.append({"type": "scatter", "mode": "lines+markers", "name": metric.title, "x": x,
                         "y": _values(ordered, metric.name)})
    metric = shape.metrics[0]
    layout = _layout(title, xaxis={"title": {"text": time.title}, "type": "category"},
                     yaxis={"title": {"text": metric.title if len(shape.metrics) == 1 else ""}, **_axis_format(metric)})
    return {"data": data, "layout": layout}


def bars(frame: pd.DataFrame, shape: Shape, title: str) -> dict[str, Any] | None:
    """Bars per category; grouped bars for several metrics or for a second dimension."""
    first = shape.dimensions[0]
    data = []
    if len(shape.dimensions) == 2:
        second, metric = shape.dimensions[1], shape.metrics[0]
        groups = frame.groupby(second.name, sort=True, dropna=False)
        if groups.ngroups > MAX_SERIES or frame[first.name].nunique() > MAX_BAR_CATEGORIES:
            return None
        for key, part in groups:
            data.append({"type": "bar", "name": format_label(key, second), "x": _labels(part, first),
                         "y": _values(part, metric.name)})
    else:
        if len(frame) > MAX_BAR_CATEGORIES:
            return None
        for metric in shape.metrics[:MAX_SERIES]:
            data.append({"type": "bar", "name": metric.title, "x": _labels(frame, first),
                         "y": _values(frame, metric.name)})
    metric = shape.metrics[0]
    layout = _layout(title, barmode="group", xaxis={"title": {"text": first.title}, "type": "category"},
                     yaxis={"title": {"text": metric.title if len(data) == 1 else ""}, **_axis_format(metric)},
                     showlegend=len(data) > 1)
    return {"data": data, "layout": layout}

"""Pick a chart from the shape of a result and return it as a plotly figure spec (a plain dict).

The spec is written by hand rather than through plotly.graph_objects because building a Figure costs
milliseconds per answer and the warm (cached) path must stay fast; `plotly.graph_objects.Figure(spec)`
accepts it unchanged and the tests check that it validates.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from datatruth.ask.answer import AnswerColumn, json_value
from datatruth.ask.explain import Shape, format_label, shape_of
from datatruth.ask.formats import NumberStyle, number_style
from datatruth.semantic.model import SEPARATOR

if TYPE_CHECKING:
    import pandas as pd  # charts are drawn from DataFrames; the module is imported before any exists

MAX_BAR_CATEGORIES = 50
MAX_SERIES = 12


def _values(frame: pd.DataFrame, column: str) -> list[Any]:
    return [json_value(v) for v in frame[column].tolist()]


def _labels(frame: pd.DataFrame, column: AnswerColumn) -> list[str]:
    return [format_label(v, column) for v in frame[column.name].tolist()]


def _style(frame: pd.DataFrame, metric: AnswerColumn) -> NumberStyle:
    return number_style(metric.format, frame[metric.name].tolist() if metric.name in frame.columns else ())


def _axis_format(style: NumberStyle) -> dict[str, Any]:
    return {"tickformat": style.tick, **({"tickprefix": style.prefix} if style.prefix else {})}


def _hover(x_title: str, series: str, style: NumberStyle) -> str:
    return f"{x_title}: %{{x}}<br>{series}: {style.prefix}%{{y:{style.d3}}}<extra></extra>"


def _axes(
    frame: pd.DataFrame, metrics: tuple[AnswerColumn, ...]
) -> dict[str, tuple[str, NumberStyle, list[str]]]:
    """One y axis per metric format (money, percent, count…): {format: (axis id, style, metric titles)}.

    A percent drawn on a dollar axis is a flat line at $0, so each format gets its own scale; the first
    format is on the left, the others on the right.
    """
    axes: dict[str, tuple[str, NumberStyle, list[str]]] = {}
    for metric in metrics:
        key = metric.format or "number"
        if key not in axes:
            axes[key] = ("y" if not axes else f"y{len(axes) + 1}", _style(frame, metric), [])
        axes[key][2].append(metric.title)
    return axes


def _axis_layout(
    axes: dict[str, tuple[str, NumberStyle, list[str]]], single_title: str = ""
) -> dict[str, Any]:
    layout: dict[str, Any] = {}
    extra = len(axes) - 2  # axes beyond the second sit further right, each offset a little
    for i, (_axis_id, style, titles) in enumerate(axes.values()):
        key = "yaxis" if i == 0 else f"yaxis{i + 1}"
        title = single_title if single_title and len(axes) == 1 else ", ".join(titles)
        spec: dict[str, Any] = {"title": {"text": title}, **_axis_format(style)}
        if i > 0:
            spec.update(overlaying="y", side="right", showgrid=False)
            if i > 1:
                spec.update(anchor="free", position=1.0 - 0.08 * (i - 1))
        layout[key] = spec
    if len(axes) > 1:
        layout["xaxis_domain"] = [0, 1.0 - 0.08 * max(0, extra)]
        # Below the plot: above it, the legend ran into the title.
        layout["legend"] = {"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0}
    return layout


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    domain = extra.pop("xaxis_domain", None)
    if domain is not None:
        extra["xaxis"] = {**extra.get("xaxis", {}), "domain": domain}
    margin = {"l": 60, "r": 60 if "yaxis2" in extra else 20, "t": 60, "b": 90 if "legend" in extra else 50}
    return {"title": {"text": title}, "margin": margin, **extra}


def untitled(spec: dict[str, Any]) -> dict[str, Any]:
    """The chart without its own title (a tile or card already shows one), with less room above it."""
    layout = {**spec.get("layout", {})}
    layout.pop("title", None)
    margin = {**layout.get("margin", {})}
    margin["t"] = 20
    layout["margin"] = margin
    return {**spec, "layout": layout}


def choose_chart(
    frame: pd.DataFrame, columns: tuple[AnswerColumn, ...], title: str = ""
) -> dict[str, Any] | None:
    """A KPI card, line, bar or grouped chart for the result, or None when a table says it better."""
    if frame.empty:
        return None
    shape = shape_of(frame, columns)
    # a comparison's difference is the gap between two series already drawn: a third line says nothing more
    drawn = tuple(m for m in shape.metrics if not m.name.endswith(f"{SEPARATOR}difference"))
    shape = replace(shape, metrics=drawn)
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
    """One number card per metric (plotly indicator), side by side, each in its metric's format."""
    row = frame.iloc[0]
    count = len(shape.metrics)
    data = []
    for i, metric in enumerate(shape.metrics):
        style = _style(frame, metric)
        number: dict[str, Any] = {"valueformat": style.d3, "font": {"size": 40 if count == 1 else 30}}
        if style.prefix:
            number["prefix"] = style.prefix
        data.append(
            {
                "type": "indicator",
                "mode": "number",
                "value": json_value(row[metric.name]),
                "title": {"text": metric.title, "font": {"size": 15}},
                "number": number,
                "domain": {"x": [i / count + 0.02, (i + 1) / count - 0.02], "y": [0, 1]},
            }
        )
    return {"data": data, "layout": _layout(title, height=220)}


def line(frame: pd.DataFrame, shape: Shape, title: str) -> dict[str, Any] | None:
    """A line per metric (or per category of the one dimension) over time; one y axis per number format."""
    time = shape.times[0]
    ordered = frame.sort_values(time.name)
    x = _labels(ordered, time)
    data = []
    if shape.dimensions:
        dim, metric = shape.dimensions[0], shape.metrics[0]
        style = _style(frame, metric)
        groups = ordered.groupby(dim.name, sort=True, dropna=False)
        if groups.ngroups > MAX_SERIES:
            return None
        for key, part in groups:
            name = format_label(key, dim)
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": name,
                    "x": _labels(part, time),
                    "y": _values(part, metric.name),
                    "hovertemplate": _hover(time.title, name, style),
                }
            )
        axes = _axes(frame, (metric,))
    else:
        axes = _axes(frame, shape.metrics)
        for metric in shape.metrics:
            axis_id, style, _ = axes[metric.format or "number"]
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": metric.title,
                    "x": x,
                    "y": _values(ordered, metric.name),
                    "yaxis": axis_id,
                    "hovertemplate": _hover(time.title, metric.title, style),
                }
            )
    single = shape.metrics[0].title if len(shape.metrics) == 1 or shape.dimensions else ""
    layout = _layout(
        title, xaxis={"title": {"text": time.title}, "type": "category"}, **_axis_layout(axes, single)
    )
    return {"data": data, "layout": layout}


def bars(frame: pd.DataFrame, shape: Shape, title: str) -> dict[str, Any] | None:
    """Bars per category; grouped bars for several metrics (one y axis per format) or for a second dimension."""
    first = shape.dimensions[0]
    data = []
    if len(shape.dimensions) == 2:
        second, metric = shape.dimensions[1], shape.metrics[0]
        style = _style(frame, metric)
        groups = frame.groupby(second.name, sort=True, dropna=False)
        if groups.ngroups > MAX_SERIES or frame[first.name].nunique() > MAX_BAR_CATEGORIES:
            return None
        for key, part in groups:
            name = format_label(key, second)
            data.append(
                {
                    "type": "bar",
                    "name": name,
                    "x": _labels(part, first),
                    "y": _values(part, metric.name),
                    "hovertemplate": _hover(first.title, f"{name} · {metric.title}", style),
                }
            )
        axes = _axes(frame, (metric,))
    else:
        if len(frame) > MAX_BAR_CATEGORIES:
            return None
        shown = shape.metrics[:MAX_SERIES]
        axes = _axes(frame, shown)
        for i, metric in enumerate(shown):
            axis_id, style, _ = axes[metric.format or "number"]
            bar = {
                "type": "bar",
                "name": metric.title,
                "x": _labels(frame, first),
                "y": _values(frame, metric.name),
                "yaxis": axis_id,
                "hovertemplate": _hover(first.title, metric.title, style),
            }
            if len(axes) > 1:
                bar["offsetgroup"] = str(
                    i
                )  # bars on different axes stand side by side, not on top of each other
            data.append(bar)
    single = shape.metrics[0].title if len(data) == 1 or len(shape.dimensions) == 2 else ""
    layout = _layout(
        title,
        barmode="group",
        xaxis={"title": {"text": first.title}, "type": "category"},
        showlegend=len(data) > 1,
        **_axis_layout(axes, single),
    )
    return {"data": data, "layout": layout}

"""Small charts the pages share: a 0-100 gauge and a value-over-runs trend with readable ticks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import plotly.graph_objects as go

from datatruth.quality.overview import Gauge

GAUGE_COLOURS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828", "grey": "#9e9e9e"}


def gauge_figure(gauge: Gauge) -> go.Figure:
    """A 0-100 gauge without a title (the page writes the title above it, where it is never cut)."""
    value = gauge.shown
    fig = go.Figure(
        go.Indicator(
            mode="gauge+number",
            value=value if value is not None else 0,
            number={
                "suffix": "" if value is not None else " n/a",
                "valueformat": ".1f",
                "font": {"color": GAUGE_COLOURS["red"] if gauge.critical_failed else "#1f2933"},
            },
            gauge={
                "axis": {"range": [0, 100], "tickvals": [0, 50, 100]},
                "bar": {"color": GAUGE_COLOURS[gauge.colour]},
            },
        )
    )
    fig.update_layout(height=150, margin={"l": 18, "r": 18, "t": 10, "b": 0})
    return fig


def _stamp(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def trend_figure(
    points: Sequence[tuple[dt.datetime, float | None]],
    title: str,
    y_title: str,
    y_range: tuple[float, float] | None = None,
) -> go.Figure:
    """Values over runs, one marker per run, labelled by the minute the run started.

    The x axis is categorical: runs are events, and a date axis zooms a single run (or two a second
    apart) down to millisecond ticks.
    """
    labels: list[str] = []
    for at, _ in points:
        label = _stamp(at)
        while label in labels:  # two runs in the same minute stay two points
            label += "\u200b"
        labels.append(label)
    fig = go.Figure(
        go.Scatter(
            x=labels,
            y=[v for _, v in points],
            mode="lines+markers",
            hovertemplate="%{x}<br>%{y:,.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        title={"text": title},
        height=300,
        margin={"l": 50, "r": 20, "t": 50, "b": 60},
        xaxis={"type": "category", "title": {"text": "run"}},
        yaxis={"title": {"text": y_title}, **({"range": list(y_range)} if y_range else {})},
    )
    return fig

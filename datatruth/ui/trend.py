"""Small charts the pages share: a row of 0-100 gauges and a value-over-runs trend with readable ticks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import plotly.graph_objects as go

from datatruth.quality.overview import Gauge

GAUGE_COLOURS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828", "grey": "#9e9e9e"}


def gauges_figure(gauges: Sequence[Gauge]) -> go.Figure:
    """0-100 gauges side by side in one figure, without titles (the page writes each title above its gauge).

    One figure rather than one per gauge: each plotly chart is serialised by the server and mounted and laid out
    by the browser on its own, and seven of them cost the page more than the drawing itself.
    """
    count = max(len(gauges), 1)
    pad = 0.025  # room for the tick labels between gauges; each gauge stays under its title
    fig = go.Figure()
    for i, gauge in enumerate(gauges):
        value = gauge.shown
        fig.add_trace(
            go.Indicator(
                mode="gauge+number",
                value=value if value is not None else 0,
                domain={"x": [i / count + pad, (i + 1) / count - pad], "y": [0, 1]},
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
    fig.update_layout(height=150, margin={"l": 0, "r": 0, "t": 10, "b": 0})
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

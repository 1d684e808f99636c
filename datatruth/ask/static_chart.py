"""A still picture (PNG) of an answer's chart spec, for places that cannot run plotly.js.

A notebook exported with nbconvert, a notebook viewer on a code host or an e-mail keep images but drop
interactive charts. The specs drawn here are the ones `datatruth.ask.charts` builds (number cards, lines
over time, grouped bars, one y axis per number format), so only that vocabulary is covered.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

PNG_DPI = 100
_FIGSIZE = (9.0, 4.2)
_KPI_FIGSIZE = (9.0, 2.0)
_PALETTE = (
    "#636efa",
    "#ef553b",
    "#00cc96",
    "#ab63fa",
    "#ffa15a",
    "#19d3f3",
    "#ff6692",
    "#b6e880",
    "#ff97ff",
    "#fecb52",
    "#1f77b4",
    "#8c564b",
)


def _number(tickformat: str, prefix: str) -> Callable[..., str]:
    """A tick formatter for the d3 formats the charts use: ',.0f', ',.2f', ',.2~f', '.1%', '.2%'."""

    def fmt(value: float, _pos: Any = None) -> str:
        if tickformat.endswith("%"):
            digits = int(tickformat.strip(".%~") or 0)
            return f"{value * 100:.{digits}f}%"
        digits = 0
        if "." in tickformat:
            digits = int("".join(ch for ch in tickformat.split(".")[1] if ch.isdigit()) or 0)
        text = f"{abs(value):,.{digits}f}"
        if "~" in tickformat and "." in text:
            text = text.rstrip("0").rstrip(".")
        return f"{'-' if value < 0 else ''}{prefix}{text}"

    return fmt


def _title(layout: dict[str, Any], key: str = "title") -> str:
    title = layout.get(key) or {}
    return str(title.get("text", "")) if isinstance(title, dict) else str(title)


def _seq(values: Any) -> list[Any]:
    """A trace's x or y as a list (plotly figures built by plotly express hold numpy arrays)."""
    if values is None:
        return []
    if isinstance(values, dict):
        # plotly packs numeric arrays as {"dtype": "f8", "bdata": base64}; only flat ones are drawn here.
        if "bdata" not in values or "," in str(values.get("shape", "")):
            raise _Undrawable
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(str(values["dtype"]))).tolist()
    return values.tolist() if hasattr(values, "tolist") else list(values)


class _Undrawable(Exception):
    """A spec this renderer does not draw."""


def _axis_key(trace: dict[str, Any]) -> str:
    axis = str(trace.get("yaxis") or "y")
    return "yaxis" if axis == "y" else f"yaxis{axis[1:]}"


def render_png(spec: dict[str, Any]) -> bytes | None:
    """The chart as PNG bytes, or None for a spec this renderer does not draw (the interactive chart stays)."""
    try:
        return _render(spec)
    except _Undrawable:
        return None


def _render(spec: dict[str, Any]) -> bytes | None:  # noqa: C901 - one step per plotly trace kind and axis, as the spec lists them
    import matplotlib

    matplotlib.use("Agg")  # no display: a kernel or a server
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    data = spec.get("data") or []
    layout = spec.get("layout") or {}
    kinds = {trace.get("type", "scatter") for trace in data}
    if not data or not kinds <= {"indicator", "scatter", "bar"} or ("indicator" in kinds and len(kinds) > 1):
        return None
    if any(
        t.get("orientation") == "h" or len(_seq(t.get("x"))) != len(_seq(t.get("y")))
        for t in data
        if t.get("type") != "indicator"
    ):
        return None  # horizontal bars, histograms and the like: the interactive chart only
    if kinds == {"indicator"}:
        figure = _kpi(plt, data, layout)
    else:
        figure, axes = plt.subplots(figsize=_FIGSIZE, dpi=PNG_DPI)
        by_axis = {"yaxis": axes}
        categories: list[str] = []
        for trace in data:
            for x in _seq(trace.get("x")):
                if str(x) not in categories:
                    categories.append(str(x))
        position = {c: i for i, c in enumerate(categories)}
        bars = [t for t in data if t.get("type") == "bar"]
        width = 0.8 / max(1, len(bars))
        bar_index = 0
        for number, trace in enumerate(data):
            key = _axis_key(trace)
            if key not in by_axis:
                twin = axes.twinx()
                if len(by_axis) > 1:
                    twin.spines["right"].set_position(("axes", 1.0 + 0.12 * (len(by_axis) - 1)))
                by_axis[key] = twin
            target = by_axis[key]
            colour = _PALETTE[number % len(_PALETTE)]
            xs = [position[str(x)] for x in _seq(trace.get("x"))]
            ys = [float("nan") if y is None else y for y in _seq(trace.get("y"))]
            name = str(trace.get("name") or "")
            if trace.get("type") == "bar":
                offset = (bar_index - (len(bars) - 1) / 2) * width
                target.bar([x + offset for x in xs], ys, width=width, color=colour, label=name)
                bar_index += 1
            elif trace.get("fill") == "toself":
                target.fill(xs, ys, color=colour, alpha=0.2, label=name, linewidth=0)
            else:
                mode = str(trace.get("mode") or "lines")
                style = "--" if (trace.get("line") or {}).get("dash") else "-"
                target.plot(
                    xs,
                    ys,
                    style,
                    marker="o" if "markers" in mode else None,
                    markersize=4,
                    color=colour,
                    label=name,
                )
        for key, target in by_axis.items():
            spec_axis = layout.get(key) or {}
            target.yaxis.set_major_formatter(
                FuncFormatter(
                    _number(
                        str(spec_axis.get("tickformat") or ",.2~f"), str(spec_axis.get("tickprefix") or "")
                    )
                )
            )
            target.set_ylabel(_title(spec_axis))
        step = max(1, len(categories) // 14)  # at most ~14 labels under the axis
        axes.set_xticks(range(0, len(categories), step))
        axes.set_xticklabels(
            categories[::step],
            rotation=30 if len(categories) > 6 else 0,
            ha="right" if len(categories) > 6 else "center",
            fontsize=8,
        )
        axes.set_xlabel(_title(layout.get("xaxis") or {}))
        axes.grid(axis="y", alpha=0.3)
        if len(data) > 1:
            handles, labels = [], []
            for target in by_axis.values():
                h, ll = target.get_legend_handles_labels()
                handles += h
                labels += ll
            # Below the plot: inside it, a legend covers bars or points of the other axis.
            figure.legend(
                handles, labels, fontsize=8, loc="lower center", ncol=min(4, len(labels)), frameon=False
            )
        if _title(layout):
            axes.set_title(_title(layout), fontsize=11)
        rows = 0 if len(data) < 2 else (len(data) + 3) // 4
        figure.tight_layout(rect=(0, 0.05 * rows, 1, 1))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI)
    plt.close(figure)
    return buffer.getvalue()


def _kpi(plt: Any, data: list[dict[str, Any]], layout: dict[str, Any]) -> Any:
    figure = plt.figure(figsize=_KPI_FIGSIZE, dpi=PNG_DPI)
    count = len(data)
    for i, trace in enumerate(data):
        number = trace.get("number") or {}
        value = trace.get("value")
        text = (
            "n/a"
            if value is None
            else _number(str(number.get("valueformat") or ",.2~f"), str(number.get("prefix") or ""))(
                float(value)
            )
        )
        x = (i + 0.5) / count
        figure.text(
            x, 0.58, text, ha="center", va="center", fontsize=26 if count == 1 else 20, color="#2a3f5f"
        )
        figure.text(x, 0.2, _title(trace), ha="center", va="center", fontsize=11, color="#506784")
    if _title(layout) and _title(layout) != ", ".join(_title(t) for t in data):
        figure.suptitle(_title(layout), fontsize=11, x=0.02, ha="left")
    return figure

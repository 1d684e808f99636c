"""Render answers and reports inline in a notebook: explanation, chart, SQL and plan, widgets."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

from IPython.display import HTML, Markdown, display

from datatruth.ask.answer import Answer
from datatruth.errors import PlanningError

MAX_TABLE_ROWS = 50


def show_answer(answer: Answer, *, chart: bool = True, sql: bool = False, plan: bool = False) -> None:
    """Display the explanation, chart and an expandable SQL/plan block for one answer."""
    source = "" if answer.from_semantic_layer else " · <b>not from the semantic layer</b>"
    cached = " · cached" if answer.cached else ""
    read = f"<br><i>Read as: {html.escape(answer.interpretation)}</i>" if answer.interpretation else ""
    display(
        HTML(
            f"<div><b>{html.escape(answer.question)}</b>{read}<br>{html.escape(answer.explanation)}"
            f"<br><small>{answer.row_count:,} row(s) · {answer.elapsed_ms:.0f} ms{cached}{source}</small></div>"
        )
    )
    for insight in answer.insights:
        display(Markdown(f"- {insight.text}"))
    if chart and answer.chart:
        display(chart_bundle(answer.chart), raw=True)
    plan_text = json.dumps(answer.plan.to_dict(), indent=2, default=str) if answer.plan else ""
    if sql or plan:
        if sql:
            display(Markdown(f"```sql\n{answer.sql}\n```"))
        if plan and plan_text:
            display(Markdown(f"```json\n{plan_text}\n```"))
    else:
        block = f"<details><summary>SQL</summary><pre>{html.escape(answer.sql)}</pre></details>"
        if plan_text:
            block += f"<details><summary>Plan</summary><pre>{html.escape(plan_text)}</pre></details>"
        display(HTML(block))
    if answer.row_count > MAX_TABLE_ROWS:
        display(
            Markdown(
                f"_The table below shows the first rows; the returned DataFrame holds all "
                f"{answer.row_count:,}._"
            )
        )


def chart_bundle(spec: dict) -> dict:
    """The chart for Jupyter: interactive (plotly's MIME type) with a PNG of it beside, which front ends
    without plotly.js (nbconvert's HTML, notebook viewers) show instead of nothing."""
    import base64

    import plotly.graph_objects as go

    from datatruth.ask.static_chart import render_png

    figure = go.Figure(spec).to_plotly_json()
    bundle: dict = {
        "application/vnd.plotly.v1+json": {**figure, "config": {"displaylogo": False}},
        "text/plain": f"<chart: {((spec.get('layout') or {}).get('title') or {}).get('text', '')}>",
    }
    png = render_png(spec)
    if png is not None:
        bundle["image/png"] = base64.b64encode(png).decode("ascii")
    return bundle


STATIC_RENDERER = "datatruth_png"


def register_static_fallback(ipython: Any = None) -> None:
    """Make every plotly figure the notebook shows carry a PNG beside plotly's JSON: nbconvert's HTML and
    notebook viewers cannot run plotly.js and would show nothing. Figures this renderer cannot draw keep only
    the interactive form. Uses plotly's own renderer registry (plotly.io.renderers)."""
    import plotly.io as pio
    from plotly.io.base_renderers import MimetypeRenderer

    from datatruth.ask.static_chart import render_png

    class StaticFallback(MimetypeRenderer):
        """A plotly renderer that adds image/png (drawn with matplotlib, no browser or kaleido needed)."""

        def to_mimebundle(self, fig_dict: dict) -> dict:
            import base64

            png = render_png(fig_dict)
            return {"image/png": base64.b64encode(png).decode("ascii")} if png else {}

    pio.renderers[STATIC_RENDERER] = StaticFallback()
    current = pio.renderers.default or "plotly_mimetype"
    if STATIC_RENDERER not in current.split("+"):
        pio.renderers.default = f"{current}+{STATIC_RENDERER}"


def suggestion_buttons(err: PlanningError, on_pick: Callable[[str], None]) -> None:
    """Show "did you mean" options as buttons; a click re-asks with the choice (and teaches a synonym)."""
    import ipywidgets as widgets

    understood = f"<br>I understood: {html.escape(err.interpretation)}" if err.interpretation else ""
    display(HTML(f"<b>{html.escape(err.message)}</b>{understood}<br><small>{html.escape(err.hint)}</small>"))
    buttons = []
    for option in (err.choices or err.suggestions)[:8]:
        button = widgets.Button(description=str(option)[:40], tooltip=f"ask: {option}")
        button.on_click(lambda _b, o=option: on_pick(o))
        buttons.append(button)
    if buttons:
        display(widgets.HBox(buttons))


def feedback_buttons(on_feedback: Callable[[str], str | None]) -> None:
    """Thumbs up / down, recorded like the app's feedback; the label shows what the click did."""
    import ipywidgets as widgets

    up = widgets.Button(description="right", icon="thumbs-up", layout=widgets.Layout(width="90px"))
    down = widgets.Button(description="wrong", icon="thumbs-down", layout=widgets.Layout(width="90px"))
    note = widgets.Label("")

    def click(kind: str) -> None:
        note.value = on_feedback(kind) or "thanks, recorded"

    up.on_click(lambda _b: click("right"))
    down.on_click(lambda _b: click("wrong"))
    display(widgets.HBox([up, down, note]))

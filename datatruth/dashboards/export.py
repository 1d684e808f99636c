"""Export a dashboard to one self-contained HTML file, and a tile's data to CSV or Excel; every export is audited."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pandas as pd

from datatruth import access
from datatruth.ask.answer import AnswerColumn
from datatruth.ask.charts import untitled
from datatruth.ask.present import as_text, csv_bytes, excel_bytes, file_stem
from datatruth.ask.rows import as_frame
from datatruth.dashboards.run import DashboardRun, Filters, TileRun, run_dashboard
from datatruth.errors import UserError
from datatruth.semantic.labels import humanize
from datatruth.store import audit
from datatruth.store import dashboards as repo
from datatruth.store.engine import Store
from datatruth.workspace.registry import Workspace

DATA_FORMATS = ("csv", "xlsx")
MAX_HTML_ROWS = 200
CHART_HEIGHT = 380  # px: tiles hold a chart of this height unless its layout names one
_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1f2933;background:#f7f8fa}
h1{margin:0 0 4px} .meta{color:#616e7c;font-size:13px;margin-bottom:16px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:16px}
.tile{background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:12px;overflow:auto}
.tile h2{font-size:16px;margin:0 0 6px} .note{color:#616e7c;font-size:12px} .stale{color:#b44d12}
table{border-collapse:collapse;font-size:12px} td,th{border-bottom:1px solid #e4e7eb;padding:3px 8px;text-align:left}
"""


def safe_name(text: str) -> str:
    """A file-name-safe version of a title (letters, digits, - and _)."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")  # a file name, not SQL
    return cleaned[:60] or "export"


def data_bytes(
    frame: pd.DataFrame, fmt: str, columns: tuple[AnswerColumn, ...] = (), title: str = ""
) -> bytes:
    """A frame as CSV or .xlsx bytes: labelled headers; in Excel numeric cells in their metric's format."""
    if fmt == "csv":
        return csv_bytes(frame, columns)
    if fmt == "xlsx":
        return excel_bytes(frame, columns, sheet=title or "data", title=title)
    raise UserError(f"unknown export format '{fmt}'", f"use one of {', '.join(DATA_FORMATS)}")


def record_export(
    store: Store, ws_name: str, user: str, target: str, fmt: str, rows: int | None = None
) -> None:
    """Check the user may export, then write the export to the audit log."""
    access.require(store, ws_name, user, "export")
    audit.record(store, ws_name, user, "dashboard.export", target, {"format": fmt, "rows": rows})


def export_tile_data(ws: Workspace, store: Store, user: str, tile_id: int, fmt: str) -> tuple[str, bytes]:
    """One tile's current data (with the dashboard's saved filters) as (file name, bytes); audited."""
    access.require(store, ws.name, user, "export")
    tile = repo.get_tile(store, ws.name, tile_id)
    board_run = run_dashboard(ws, store, user, tile.dashboard_id)
    found = next(r for r in board_run.tiles if r.tile.id == tile_id)
    if found.answer is None:
        raise UserError(f"tile {tile_id} has no data to export: {found.error}", found.hint)
    payload = data_bytes(found.answer.frame, fmt, found.answer.columns, tile.title)
    record_export(store, ws.name, user, f"tile:{tile_id}", fmt, found.answer.row_count)
    return f"{file_stem(tile.title)}.{fmt}", payload


def export_dashboard_html(
    ws: Workspace, store: Store, user: str, dashboard_id: int, refresh: bool = False
) -> str:
    """The dashboard as one HTML file with plotly.js inlined (opens offline); audited."""
    access.require(store, ws.name, user, "export")
    run = run_dashboard(ws, store, user, dashboard_id, refresh=refresh)
    page = dashboard_html(run, ws.config.title)
    record_export(
        store,
        ws.name,
        user,
        f"dashboard:{dashboard_id}",
        "html",
        sum(t.answer.row_count for t in run.tiles if t.answer is not None),
    )
    return page


def chart_height(spec: dict[str, Any]) -> int:
    """The pixel height a chart is drawn at: its own layout height, else CHART_HEIGHT."""
    height = (spec.get("layout") or {}).get("height")
    return int(height) if isinstance(height, int | float) and height > 0 else CHART_HEIGHT


def _figure_html(spec: dict[str, Any], with_library: bool, div_id: str) -> str:
    import plotly.graph_objects as go

    height = chart_height(spec)
    figure = go.Figure(spec)
    figure.update_layout(height=height, autosize=True)
    # The div gets a height in pixels: "100%" of a tile that has no height of its own collapses the chart.
    # plotly.js is inlined once, with the first chart; later charts reuse it. No CDN, no network.
    return figure.to_html(
        full_html=False,
        include_plotlyjs=True if with_library else False,
        div_id=div_id,
        default_height=f"{height}px",
        default_width="100%",
        config={"displaylogo": False, "responsive": True},
    )


def _tile_html(run: TileRun, with_library: bool) -> tuple[str, bool]:
    """One tile's HTML and whether it used (inlined) plotly.js."""
    title = html.escape(run.tile.title)
    parts = [f'<section class="tile"><h2>{title}</h2>']
    used = False
    if run.answer is None:
        css = "stale" if run.stale else "note"
        parts.append(f'<p class="{css}">{html.escape(run.error)}</p>')
    else:
        answer = run.answer
        if run.tile.kind != "table" and answer.chart is not None:
            parts.append(_figure_html(untitled(answer.chart), with_library, f"tile-{run.tile.id}"))
            used = with_library
        else:
            # to_html escapes cell text; a table never carries script.
            parts.append(
                as_text(as_frame(answer.frame).head(MAX_HTML_ROWS), answer.columns).to_html(
                    index=False, border=0, escape=True
                )
            )
            if answer.row_count > MAX_HTML_ROWS:
                parts.append(f'<p class="note">First {MAX_HTML_ROWS} of {answer.row_count:,} rows.</p>')
        if answer.explanation:
            parts.append(f'<p class="note">{html.escape(answer.explanation)}</p>')
    notes = [*(f"filter: {a}" for a in run.applied), *(f"not applied: {s}" for s in run.skipped)]
    if notes:
        parts.append(f'<p class="note">{html.escape("; ".join(notes))}</p>')
    parts.append("</section>")
    return "".join(parts), used


def filters_text(filters: Filters) -> str:
    """Dashboard filters in words: 'dates 2026-01-01 to 2026-03-31; Customer region is West or South'."""
    parts = []
    if filters.start or filters.end:
        parts.append(f"dates {filters.start or '…'} to {filters.end or '…'}")
    for cat in filters.categories:
        values = list(cat.values)
        shown = values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]
        parts.append(f"{humanize(cat.dimension)} is {shown}")
    return "; ".join(parts)


def dashboard_html(run: DashboardRun, workspace_title: str) -> str:
    """A standalone HTML document for a rendered dashboard."""
    tiles_html = []
    need_library = True
    for tile_run in run.tiles:
        block, used = _tile_html(tile_run, need_library)
        need_library = need_library and not used
        tiles_html.append(block)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = f"{html.escape(workspace_title)} · exported {stamp}"
    if not run.filters.empty:
        meta += f" · filters: {html.escape(filters_text(run.filters))}"
    name = html.escape(run.dashboard.name)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{name}</title><style>{_STYLE}</style></head><body>"
        f'<h1>{name}</h1><div class="meta">{meta}</div>'
        f'<div class="grid">{"".join(tiles_html) or "<p>No tiles yet.</p>"}</div></body></html>'
    )

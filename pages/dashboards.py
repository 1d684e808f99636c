"""Dashboards page: pinned answers as a grid of tiles, with filters, ordering, refresh, share links and exports."""

from __future__ import annotations

import datetime as dt
import functools

import streamlit as st

from datatruth.ask.charts import untitled
from datatruth.ask.present import file_stem, present
from datatruth.dashboards import alerts, export, service
from datatruth.dashboards.run import CategoryFilter, Filters, TileRun
from datatruth.dashboards.tiles import render_dashboard
from datatruth.errors import UserError
from datatruth.insights.forecast import add_forecast
from datatruth.semantic.labels import column_label, label_words
from datatruth.ui.context import page_context
from datatruth.ui.render import column_config, empty_state, lazy_expander, show_error

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _int_param(name: str) -> int | None:
    raw = st.query_params.get(name)
    return int(raw) if raw and str(raw).isdigit() else None


def _filters_panel(ctx, board, saved: Filters) -> Filters:
    """Date range and categorical filters; 'Apply' is for this session, 'Save' for everyone (editors)."""
    key = f"dash-filters-{board.id}"
    current = Filters.from_dict(st.session_state.get(key)) if key in st.session_state else saved
    box = lazy_expander("Filters" + ("" if current.empty else " (active)"), f"{key}-panel", not current.empty)
    if box is None:
        return current
    with box:
        from datatruth.ask.pipeline import workspace_resources

        layer = workspace_resources(ctx.workspace, ctx.store).layer
        categorical = [d.name for d in layer.dimensions() if not d.dimension.is_time] if layer else []
        use_dates = st.checkbox(
            "Limit dates", value=current.start is not None or current.end is not None, key=f"{key}-use-dates"
        )
        left, right = st.columns(2)
        today = ctx.workspace.config.today()
        start = left.date_input(
            "From", value=current.start or today.replace(month=1, day=1), key=f"{key}-start"
        )
        end = right.date_input("To (inclusive)", value=current.end or today, key=f"{key}-end")
        dims = st.multiselect(
            "Filter by",
            categorical,
            default=[c.dimension for c in current.categories if c.dimension in categorical],
            key=f"{key}-dims",
            format_func=lambda d: column_label(layer, d),
        )
        cats = []
        for dim in dims:
            before = next((", ".join(c.values) for c in current.categories if c.dimension == dim), "")
            text = st.text_input(
                f"{column_label(layer, dim)} is one of (comma-separated)", value=before, key=f"{key}-{dim}"
            )
            values = tuple(v.strip() for v in text.split(",") if v.strip())
            if values:
                cats.append(CategoryFilter(dim, values))
        chosen = Filters(start if use_dates else None, end if use_dates else None, tuple(cats))
        a, b, c = st.columns(3)
        if a.button("Apply", key=f"{key}-apply"):
            Filters.from_dict(chosen.to_dict())  # the same checks as saved filters (end after start)
            st.session_state[key] = chosen.to_dict()
            current = chosen
        if b.button("Clear", key=f"{key}-clear"):
            st.session_state[key] = Filters().to_dict()
            current = Filters()
        if ctx.can("edit_dashboard") and c.button("Save for everyone", key=f"{key}-save"):
            service.save_filters(ctx.store, ctx.workspace.name, ctx.user, board.id, chosen)
            st.session_state[key] = chosen.to_dict()
            current = chosen
            st.toast("Filters saved on the dashboard")
    return current


def _tile(ctx, run: TileRun, index: int, count: int, can_edit: bool, rendered_at: float | None) -> None:  # noqa: C901 - one tile drawn top to bottom: stale, failed or answered
    tile, answer = run.tile, run.answer
    from datatruth.ask.pipeline import workspace_resources

    layer = workspace_resources(ctx.workspace, ctx.store).layer
    with st.container(border=True):
        st.subheader(tile.title)
        if run.stale:
            st.warning(f"This tile no longer matches the semantic model: {run.error}")
            st.caption(run.hint)
            if can_edit and tile.question and st.button("Re-plan from its question", key=f"replan-{tile.id}"):
                service.replan(ctx.store, ctx.workspace, ctx.user, tile.id)
                st.rerun()
        elif answer is None:
            st.error(run.error)
            if run.hint:
                st.caption(f":material/lightbulb: {run.hint}")
        else:
            forecast = None
            if tile.kind != "table" and answer.chart is not None:
                # A forecast needs a series over time; a number card or bars have none.
                over_time = any(t.get("type") == "scatter" for t in answer.chart.get("data", []))
                if over_time and st.toggle(
                    "Forecast", key=f"fc-{tile.id}", help="exponential smoothing, 80/95% interval"
                ):
                    forecast = add_forecast(answer)
                    if forecast is None:
                        st.caption("Not enough history for a forecast (needs 2 seasons or 24 periods).")
                st.plotly_chart(
                    untitled(forecast or answer.chart), key=f"chart-{tile.id}", config={"displaylogo": False}
                )
            else:
                shown = present(answer.frame.head(1000), answer.columns)
                st.dataframe(
                    shown.frame, hide_index=True, width="stretch", column_config=column_config(shown.styles)
                )
            st.caption(answer.explanation)
            left, right = st.columns(2)
            name = file_stem(tile.title, tile.question or "")
            for col, fmt, mime, label in ((left, "csv", "text/csv", "CSV"), (right, "xlsx", XLSX, "Excel")):
                # built when clicked: an Excel workbook per tile would cost ~0.1 s of every page load
                col.download_button(
                    label,
                    functools.partial(export.data_bytes, answer.frame, fmt, answer.columns, tile.title),
                    f"{name}.{fmt}",
                    mime,
                    icon=":material/download:",
                    key=f"dl-{fmt}-{tile.id}",
                    on_click=export.record_export,
                    args=(ctx.store, ctx.workspace.name, ctx.user, f"tile:{tile.id}", fmt, answer.row_count),
                )
        notes = [f"model {tile.model_version or '?'}"]
        if answer is not None:
            notes.append("cached" if answer.cached else f"ran in {answer.elapsed_ms:,.0f} ms")
        if rendered_at is not None:
            notes.append(f"as of {dt.datetime.fromtimestamp(rendered_at, dt.UTC):%H:%M:%S} UTC")
        notes += [f"filter: {label_words(layer, a)}" for a in run.applied]
        st.caption(" · ".join(notes))
        for skipped in run.skipped:
            st.caption(f":material/warning: not applied: {label_words(layer, skipped)}")
        if tile.alert:
            st.caption(
                f":material/notifications: alert when {alerts.AlertRule.from_dict(tile.alert).describe()}"
            )
        st.caption(
            f"Link: `{service.share_link(ctx.workspace.name, tile.dashboard_id, tile.id, ctx.settings.base_url)}`"
        )
        if can_edit:
            up, down, remove = st.columns(3)
            if up.button(
                "Up", icon=":material/arrow_upward:", key=f"up-{tile.id}", disabled=index == 0, help="move up"
            ):
                service.move_tile(ctx.store, ctx.workspace.name, ctx.user, tile.id, -1)
                st.rerun()
            if down.button(
                "Down",
                icon=":material/arrow_downward:",
                key=f"down-{tile.id}",
                disabled=index == count - 1,
                help="move down",
            ):
                service.move_tile(ctx.store, ctx.workspace.name, ctx.user, tile.id, +1)
                st.rerun()
            if remove.button("Remove", icon=":material/delete:", key=f"rm-{tile.id}", help="remove the tile"):
                service.remove_tile(ctx.store, ctx.workspace.name, ctx.user, tile.id)
                st.rerun()
            box = lazy_expander("Alert", f"alert-box-{tile.id}")
            if box is None:
                return
            with box:
                rule_text = st.text_input(
                    "Alert when", key=f"alert-{tile.id}", placeholder="on_time_rate < 75%"
                )
                a, b = st.columns(2)
                if a.button("Set alert", key=f"set-alert-{tile.id}") and rule_text.strip():
                    service.set_alert(
                        ctx.store, ctx.workspace.name, ctx.user, tile.id, alerts.parse_rule(rule_text)
                    )
                    st.rerun()
                if tile.alert and b.button("Remove alert", key=f"del-alert-{tile.id}"):
                    service.set_alert(ctx.store, ctx.workspace.name, ctx.user, tile.id, None)
                    st.rerun()


def main() -> None:
    """Render the page."""
    ctx = page_context()
    st.caption(f"Workspace: {ctx.workspace.config.title}")
    link_ws = st.query_params.get("ws")
    link_board, link_tile = _int_param("dashboard"), _int_param("tile")
    if link_board is not None and link_ws and link_ws != ctx.workspace.name:
        # The link belongs to another workspace: check membership there, then ask to switch.
        service.open_shared(ctx.store, link_ws, ctx.user, link_board)
        st.warning(
            f"This link opens a dashboard of workspace '{link_ws}'; pick that workspace in the sidebar."
        )
    boards = service.list_dashboards(ctx.store, ctx.workspace.name, ctx.user)
    can_edit = ctx.can("edit_dashboard")
    if can_edit:
        with st.sidebar.form("new-dashboard", clear_on_submit=True):
            new_name = st.text_input("New dashboard")
            if st.form_submit_button("Create") and new_name.strip():
                board = service.create_dashboard(ctx.store, ctx.workspace.name, ctx.user, new_name)
                st.session_state["dash-new"] = board.id
                st.rerun()
    if st.session_state.get("dash-new") is not None:
        # Select the new dashboard before the selector is drawn (its state cannot change afterwards).
        st.session_state["dash-select"] = st.session_state.pop("dash-new")
    if not boards:
        empty_state(
            "No dashboards yet.",
            "Ask a question on the Ask page and pin the answer, or run "
            f'`datatruth dashboards pin -w {ctx.workspace.name} "Sales" "revenue by month"`.',
        )
        return
    ids = [b.id for b in boards]
    names = {b.id: b.name for b in boards}
    link = f"{link_board}:{link_tile}"
    if link_board is not None and link_board not in ids and link_ws in (None, ctx.workspace.name):
        st.warning(f"The shared dashboard {link_board} does not exist (any more) in this workspace.")
    if link_board in ids and st.session_state.get("dash-link") != link:
        # A shared link picks the dashboard once; after that the selector is the user's again.
        st.session_state["dash-link"] = link
        st.session_state["dash-select"] = link_board
    if st.session_state.get("dash-select") not in ids:
        st.session_state["dash-select"] = ids[0]
    chosen = st.selectbox("Dashboard", ids, format_func=lambda i: names[i], key="dash-select")
    single = link_tile if link_board == chosen else None
    view = service.open_shared(ctx.store, ctx.workspace.name, ctx.user, chosen, single)
    if single is not None:
        st.caption("Showing one shared tile.")
        if st.button("Show the whole dashboard"):
            del st.query_params["tile"]
            st.rerun()
    filters = _filters_panel(ctx, view.dashboard, Filters.from_dict(view.dashboard.filters))
    top = st.columns([1, 1, 2])
    refresh = top[0].button(
        "Refresh",
        icon=":material/refresh:",
        help="re-run every tile on the warehouse (tiles otherwise show their last render)",
    )
    if top[1].button("Prepare HTML export"):
        st.session_state[f"html-{chosen}"] = export.export_dashboard_html(
            ctx.workspace, ctx.store, ctx.user, chosen
        )
    if f"html-{chosen}" in st.session_state:
        top[1].download_button(
            "HTML",
            st.session_state[f"html-{chosen}"],
            f"{file_stem(names[chosen])}.html",
            "text/html",
            on_click="ignore",
            key=f"dl-html-{chosen}",
            icon=":material/download:",
        )
    top[2].caption(
        f"Share: `{service.share_link(ctx.workspace.name, chosen, base_url=ctx.settings.base_url)}` "
        "(members of this workspace only)"
    )
    run, rendered = render_dashboard(ctx.workspace, ctx.store, ctx.user, chosen, filters, refresh=refresh)
    shown = [t for t in run.tiles if t.tile.id in {v.id for v in view.tiles}]
    if not shown:
        empty_state("This dashboard has no tiles yet.", "Pin an answer from the Ask page.")
        return
    columns = st.columns(2)
    for i, tile_run in enumerate(shown):
        with columns[i % 2]:
            _tile(ctx, tile_run, i, len(shown), view.can_edit, rendered.get(tile_run.tile.id))


st.title("Dashboards")
try:
    main()
except UserError as err:
    show_error(err)

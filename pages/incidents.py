"""Incident board: filter, inspect the timeline and metric, act (acknowledge, assign, resolve, comment)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from datatruth.errors import NotFound, UserError
from datatruth.incidents import service
from datatruth.store import incidents as repo
from datatruth.store.engine import utcnow
from datatruth.ui.context import page_context
from datatruth.ui.render import empty_state, show_error, table
from datatruth.ui.trend import trend_figure

st.title("Incidents")
PICK_KEY = "incident-pick"
FOCUS_KEY = "incident-focus"  # the incident just acted on: it stays open even when it leaves the filters
FLASH_KEY = "incident-flash"  # the confirmation of the last action, shown after the rerun
SELECT_NEXT_KEY = "incident-select-next"  # set by an action: select the focused incident on the next run
SHOWN_ROWS = 500  # the board lists the newest matches; the filters narrow it
DONE = {
    "comment": "Comment added to",
    "acknowledge": "Acknowledged",
    "resolve": "Resolved",
    "assign": "Assigned",
    "expected": "Marked as expected:",
    "false_positive": "Marked as a false positive:",
    "wont_fix": "Marked won't fix:",
}


def board() -> None:
    ctx = page_context()
    ws = ctx.workspace.name
    stats = service.board_stats(ctx.store, ws)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Active", stats.active)
    c2.metric("Critical (active)", stats.by_severity.get("critical", 0))
    c3.metric(
        "Mean time to acknowledge",
        f"{stats.mean_minutes_to_ack:.0f} min" if stats.mean_minutes_to_ack is not None else "—",
    )
    c4.metric(
        "Mean time to resolve",
        f"{stats.mean_minutes_to_resolve:.0f} min" if stats.mean_minutes_to_resolve is not None else "—",
    )

    if not sum(stats.by_status.values()):
        empty_state(
            "No incidents yet",
            "Failed quality checks, schema breaks and critical slow queries open incidents "
            "here. Run the checks on the Quality page or with `datatruth quality run -w " + ws + "`.",
        )
        return
    facets = repo.facets(ctx.store, ws)
    f1, f2, f3, f4, f5 = st.columns(5)
    status = f1.multiselect("Status", repo.STATUSES, default=list(repo.ACTIVE))
    severity = f2.multiselect("Severity", service.SEVERITY_ORDER, default=[])
    table_pick = f3.multiselect("Dataset", facets.tables, default=[])
    owner_pick = f4.multiselect("Owner", facets.owners, default=[])
    max_age = f5.number_input("Max age (days)", min_value=0, value=0, help="0 shows every age")
    now = utcnow()
    # The filters run in the store's SQL (as `datatruth incidents list` does); only the rows shown are read.
    filters = {
        "status": status,
        "severity": severity,
        "table": table_pick,
        "owner": owner_pick,
        "opened_since": now - dt.timedelta(days=int(max_age) + 1) if max_age else None,
    }
    shown = repo.search(ctx.store, ws, limit=SHOWN_ROWS, with_detail=False, **filters)
    matching = repo.count(ctx.store, ws, **filters) if len(shown) == SHOWN_ROWS else len(shown)
    frame = pd.DataFrame(
        [
            {
                "id": i.id,
                "title": i.title,
                "severity": i.severity,
                "status": i.status,
                "dataset": i.table_name,
                "owner": i.owner,
                "occurrences": i.occurrences,
                "age (h)": round((now - i.opened_at).total_seconds() / 3600, 1),
                "opened": i.opened_at,
            }
            for i in shown
        ]
    )
    focus = st.session_state.get(FOCUS_KEY)
    if frame.empty and focus is None:
        st.info("No incident matches these filters. Clear a filter to see more.")
        return
    if not frame.empty:
        if matching > len(shown):
            st.caption(
                f"The newest {len(shown):,} of {matching:,} matching incidents; narrow the filters to see others."
            )
        table(frame, f"incidents-{ws}", key="incidents-table")
    else:
        st.info("No incident matches these filters; the one you just changed stays open below.")

    if ctx.can("incident_ack"):
        with st.expander("Bulk acknowledge"):
            open_ids = [i.id for i in shown if i.status == "open"]
            picked = st.multiselect("Incidents", open_ids, default=open_ids, key="bulk-ids")
            note = st.text_input("Comment (required)", key="bulk-comment")
            if st.button("Acknowledge selected", disabled=not picked):
                done = service.bulk_acknowledge(ctx.store, ws, picked, ctx.user, note)
                st.success(f"Acknowledged {len(done)} incident(s).")
                st.rerun()

    options = [i.id for i in shown]
    titles = {i.id: f"#{i.id} {i.title}" for i in shown}
    kept = _focused(ctx, focus) if focus is not None and focus not in options else None
    if kept is not None:  # after "resolve" the incident leaves the active filter; it stays selected
        options.insert(0, kept.id)
        titles[kept.id] = f"#{kept.id} {kept.title} (no longer matches the filters)"
    if st.session_state.pop(SELECT_NEXT_KEY, None) is not None and focus in options:
        st.session_state[PICK_KEY] = focus
    elif st.session_state.get(PICK_KEY) not in options:
        st.session_state.pop(PICK_KEY, None)
    if not options:
        return
    chosen = st.selectbox(
        "Open an incident", options, format_func=lambda x: titles.get(x, f"#{x}"), key=PICK_KEY
    )
    detail(ctx, chosen)


def _focused(ctx, incident_id: int) -> repo.Incident | None:
    try:
        return repo.get(ctx.store, ctx.workspace.name, incident_id)
    except NotFound:  # the incident acted on belongs to the workspace shown before
        return None


def detail(ctx, incident_id: int) -> None:
    ws = ctx.workspace.name
    inc = repo.get(ctx.store, ws, incident_id)
    st.subheader(f"#{inc.id} {inc.title}")
    st.caption(
        f"{inc.severity.upper()} · {inc.status} · {inc.table_name or 'no dataset'} · owner "
        f"{inc.owner or 'unassigned'} · {inc.occurrences} occurrence(s) · opened {inc.opened_at:%Y-%m-%d %H:%M} UTC"
    )
    timeline = repo.events(ctx.store, ws, incident_id)
    points = [
        {"at": e.at, "value": (e.detail or {}).get("metric_value")}
        for e in timeline
        if e.kind in ("opened", "occurrence", "reopened") and (e.detail or {}).get("metric_value") is not None
    ]
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash and flash[0] == inc.id:
        st.success(flash[1], icon=":material/check_circle:")
    left, right = st.columns([3, 2])
    with left:
        if len(points) > 1:
            st.plotly_chart(
                trend_figure(
                    [(p["at"], p["value"]) for p in points], "Failing metric over time", "measured value"
                ),
                width="stretch",
            )
        elif points:  # one measurement is a number, not a trend
            st.caption(
                f"Measured {points[0]['value']:,.4g} at {points[0]['at']:%Y-%m-%d %H:%M} UTC; a chart "
                "appears once the check has failed again."
            )
        rows = (inc.detail or {}).get("example_rows") or []
        if rows:
            st.markdown("**Example rows** (sensitive columns masked)")
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    with right:
        st.markdown("**Timeline**")
        for e in timeline:
            note = f" — {e.comment}" if e.comment else ""
            st.markdown(f"- `{e.at:%m-%d %H:%M}` **{e.kind}** {e.username or ''}{note}")
    actions(ctx, inc)


def actions(ctx, inc: repo.Incident) -> None:
    ws = ctx.workspace.name
    if not ctx.can("incident_comment"):
        st.caption("You can read incidents; reviewers, maintainers and owners can act on them.")
        return
    with st.form(f"act-{inc.id}", clear_on_submit=True):
        comment = st.text_area("Comment")
        choices = ["comment"]
        if inc.status == "open":
            choices.append("acknowledge")
        if ctx.can("incident_manage"):
            choices += ["resolve", "assign", "expected", "false_positive", "wont_fix"]
        action = st.radio(
            "Action",
            choices,
            horizontal=True,
            format_func=lambda c: {"false_positive": "false positive", "wont_fix": "won't fix"}.get(c, c),
        )
        owner = st.text_input("Assign to (user name)") if "assign" in choices else ""
        if st.form_submit_button("Apply"):
            if action == "comment":
                service.add_comment(ctx.store, ws, inc.id, ctx.user, comment)
            elif action == "acknowledge":
                service.acknowledge(ctx.store, ws, inc.id, ctx.user, comment)
            elif action == "resolve":
                service.resolve(ctx.store, ws, inc.id, ctx.user, comment)
            elif action == "assign":
                service.assign(ctx.store, ws, inc.id, owner, ctx.user)
            else:
                service.set_outcome(ctx.store, ws, inc.id, action, ctx.user, comment)
            after = repo.get(ctx.store, ws, inc.id)
            to = f" to {after.owner}" if action == "assign" else ""
            st.session_state[FOCUS_KEY] = inc.id
            st.session_state[SELECT_NEXT_KEY] = inc.id
            st.session_state[FLASH_KEY] = (
                inc.id,
                f"{DONE.get(action, 'Updated')} incident #{inc.id}{to}; status now {after.status}.",
            )
            st.rerun()


try:
    board()
except UserError as err:
    show_error(err)

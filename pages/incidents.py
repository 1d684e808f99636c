"""Incident board: filter, inspect the timeline and metric, act (acknowledge, assign, resolve, comment)."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from datatruth.errors import UserError
from datatruth.incidents import service
from datatruth.store import incidents as repo
from datatruth.store.engine import utcnow
from datatruth.ui.context import page_context
from datatruth.ui.render import empty_state, show_error, table

st.title("🚨 Incidents")


def board() -> None:
    ctx = page_context()
    ws = ctx.workspace.name
    stats = service.board_stats(ctx.store, ws)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Active", stats.active)
    c2.metric("Critical (active)", stats.by_severity.get("critical", 0))
    c3.metric("Mean time to acknowledge", f"{stats.mean_minutes_to_ack:.0f} min" if stats.mean_minutes_to_ack is not None else "—")
    c4.metric("Mean time to resolve", f"{stats.mean_minutes_to_resolve:.0f} min" if stats.mean_minutes_to_resolve is not None else "—")

    items = repo.search(ctx.store, ws, limit=2000)
    if not items:
        empty_state("No incidents yet", "Failed quality checks, schema breaks and critical slow queries open incidents "
                    "here. Run the checks on the Quality page or with `datatruth quality run -w " + ws + "`.")
        return
    f1, f2, f3, f4, f5 = st.columns(5)
    status = f1.multiselect("Status", repo.STATUSES, default=list(repo.ACTIVE))
    severity = f2.multiselect("Severity", service.SEVERITY_ORDER, default=[])
    tables = sorted({i.table_name for i in items if i.table_name})
    table_pick = f3.multiselect("Dataset", tables, default=[])
    owners = sorted({i.owner for i in items if i.owner})
    owner_pick = f4.multiselect("Owner", owners, default=[])
    max_age = f5.number_input("Max age (days)", min_value=0, value=0, help="0 shows every age")
    now = utcnow()
    shown = [i for i in items if (not status or i.status in status) and (not severity or i.severity in severity)
             and (not table_pick or i.table_name in table_pick) and (not owner_pick or i.owner in owner_pick)
             and (not max_age or (now - i.opened_at).days <= max_age)]
    frame = pd.DataFrame([{"id": i.id, "title": i.title, "severity": i.severity, "status": i.status,
                           "dataset": i.table_name, "owner": i.owner, "occurrences": i.occurrences,
                           "age (h)": round((now - i.opened_at).total_seconds() / 3600, 1),
                           "opened": i.opened_at} for i in shown])
    if frame.empty:
        st.info("No incident matches these filters. Clear a filter to see more.")
        return
    table(frame, f"incidents-{ws}", key="incidents-table")

    if ctx.can("incident_ack"):
        with st.expander("Bulk acknowledge"):
            open_ids = [i.id for i in shown if i.status == "open"]
            picked = st.multiselect("Incidents", open_ids, default=open_ids, key="bulk-ids")
            note = st.text_input("Comment (required)", key="bulk-comment")
            if st.button("Acknowledge selected", disabled=not picked):
                done = service.bulk_acknowledge(ctx.store, ws, picked, ctx.user, note)
                st.success(f"Acknowledged {len(done)} incident(s).")
                st.rerun()

    chosen = st.selectbox("Open an incident", [i.id for i in shown],
                          format_func=lambda x: next(f"#{i.id} {i.title}" for i in shown if i.id == x))
    detail(ctx, chosen)


def detail(ctx, incident_id: int) -> None:
    ws = ctx.workspace.name
    inc = repo.get(ctx.store, ws, incident_id)
    st.subheader(f"#{inc.id} {inc.title}")
    st.caption(f"{inc.severity.upper()} · {inc.status} · {inc.table_name or 'no dataset'} · owner "
               f"{inc.owner or 'unassigned'} · {inc.occurrences} occurrence(s) · opened {inc.opened_at:%Y-%m-%d %H:%M} UTC")
    timeline = repo.events(ctx.store, ws, incident_id)
    points = [{"at": e.at, "value": (e.detail or {}).get("metric_value")} for e in timeline
              if e.kind in ("opened", "occurrence", "reopened") and (e.detail or {}).get("metric_value") is not None]
    left, right = st.columns([3, 2])
    with left:
        if points:
            fig = px.line(pd.DataFrame(points), x="at", y="value", markers=True, title="Failing metric over time")
            st.plotly_chart(fig, use_container_width=True)
        rows = (inc.detail or {}).get("example_rows") or []
        if rows:
            st.markdown("**Example rows** (sensitive columns masked)")
            st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True)
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
        action = st.radio("Action", choices, horizontal=True)
        owner = st.text_input("Assign to (user name)") if "assign" in choices else ""
        if st.form_submit_button("Apply"):
            if action == "comment":
                service.add_comment(ctx.store, ws, inc.id, ctx.user, comment)
            elif action == "acknowledge":
                service.acknowledge(ctx.store, ws, inc.id, ctx.user, comment)
            elif action == "resolve":
                service.resolve(ctx.store, ws, inc.id, ctx.user, comment)
            elif action == "assign":
                service.assign(ctx.store, ws, inc.id, owner.strip(), ctx.user)
            else:
                service.set_outcome(ctx.store, ws, inc.id, action, ctx.user, comment)
            st.success("Done.")
            st.rerun()


try:
    board()
except UserError as err:
    show_error(err)

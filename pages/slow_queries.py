"""Slow queries: upload a log or run a collector, rank query classes, inspect findings, plans and index proofs."""

from __future__ import annotations

import os

import pandas as pd
import plotly.express as px
import streamlit as st

from datatruth.errors import UserError
from datatruth.slowlog import service
from datatruth.store import slowqueries as repo
from datatruth.ui.context import page_context
from datatruth.ui.render import empty_state, show_error, table

st.title("Slow queries")
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")


def intake(ctx) -> None:
    upload_tab, collect_tab = st.tabs(["Upload a log", "Collect from a database"])
    with upload_tab:
        fmt = st.radio("Format", ["auto", "mysql", "postgres"], horizontal=True)
        upload = st.file_uploader("MySQL/MariaDB slow log or PostgreSQL log (plain, .gz or .bz2)")
        if upload is not None and st.button("Analyse log", type="primary"):
            with st.spinner(f"Reading {upload.name}…"):
                triage = service.triage_upload(
                    upload.name,
                    upload.getvalue(),
                    ctx.workspace.data_dir,
                    fmt,
                    allow_raw=ctx.workspace.config.allow_raw_samples,
                )
                saved = service.save(ctx.store, ctx.workspace, triage, ctx.user)
            if triage.problems:
                st.warning(
                    f"{len(triage.problems)} part(s) of the log could not be read; the rest was analysed. "
                    f"First: line {triage.problems[0].line}: {triage.problems[0].message}"
                )
            st.session_state["slow_snapshot"] = saved.snapshot_id
            st.success(f"{triage.aggregate.events:,} events in {len(triage.classes)} classes.")
    with collect_tab:
        st.caption(
            "pg_stat_statements (PostgreSQL) or performance_schema / slow-log table (MariaDB). Write the "
            "password as ${VAR}: it is read from the server's environment, never stored."
        )
        url = st.text_input("Database URL", placeholder="postgresql+psycopg://dba:${PGPASSWORD}@db/app")
        if url and st.button("Collect now"):
            from datatruth.slowlog.collect import collect

            resolved = os.path.expandvars(url)
            with st.spinner("Collecting…"):
                triage = service.triage_events(
                    collect(resolved),
                    service.collector_source(resolved),
                    allow_raw=ctx.workspace.config.allow_raw_samples,
                )
                saved = service.save(ctx.store, ctx.workspace, triage, ctx.user)
            st.session_state["slow_snapshot"] = saved.snapshot_id
            st.success(f"Collected {triage.aggregate.events:,} entries in {len(triage.classes)} classes.")


def ranking(ctx) -> None:
    ws = ctx.workspace.name
    snaps = repo.snapshots(ctx.store, ws)
    if not snaps:
        empty_state(
            "No slow-query data yet",
            "Upload a slow log above (or run `datatruth slowlog analyze FILE`) "
            "to rank the query classes that cost the most time.",
        )
        return
    ids = [s.id for s in snaps]
    current = st.session_state.get("slow_snapshot", ids[0])
    snap_id = st.selectbox(
        "Snapshot",
        ids,
        index=ids.index(current) if current in ids else 0,
        format_func=lambda i: next(
            f"#{s.id} {s.source} · {s.events:,} events · {s.taken_at:%Y-%m-%d %H:%M}"
            for s in snaps
            if s.id == i
        ),
    )
    rows = repo.classes(ctx.store, ws, snap_id)
    view = st.radio(
        "Show",
        ["All", "Analyzed", "Unanalyzed", *SEVERITIES],
        horizontal=True,
        help="Analyzed: at least one rule found a problem; Unanalyzed: no finding yet.",
    )
    picked = [
        c
        for c in rows
        if view == "All"
        or (view == "Analyzed" and c.severity)
        or (view == "Unanalyzed" and not c.severity)
        or c.severity == view
    ]
    frame = pd.DataFrame(
        [
            {
                "rank": i + 1,
                "query_id": c.query_id,
                "calls": c.calls,
                "total s": round(c.total_time, 4),
                "avg s": round((c.stats.get("query_time") or {}).get("avg", 0), 4),
                "p95 s": round((c.stats.get("query_time") or {}).get("p95", 0), 4),
                "severity": c.severity or "",
                "fingerprint": c.fingerprint[:120],
            }
            for i, c in enumerate(picked)
        ]
    )
    if frame.empty:
        st.info("No class matches this filter.")
        return
    table(frame, f"slow-classes-{snap_id}", key="slow-table")
    class_id = st.selectbox(
        "Open a class",
        [c.id for c in picked],
        format_func=lambda i: next(f"{c.query_id[:12]} · {c.fingerprint[:80]}" for c in picked if c.id == i),
    )
    detail(ctx, repo.get_class(ctx.store, ws, class_id))


def detail(ctx, cls: repo.StoredClass) -> None:
    st.subheader(f"Class {cls.query_id}")
    st.caption(
        f"{cls.calls:,} calls · {cls.total_time:.3f} s in total · severity {cls.severity or 'none found'}"
    )
    st.code(cls.sample or cls.fingerprint, language="sql")
    for f in cls.findings or []:
        st.markdown(f"- **{f['severity']}** `{f['rule']}`: {f['reason']}")
    lines = service.trend_lines(ctx.store, ctx.workspace.name, cls.query_id)
    if any(len(line.taken_at) > 1 for line in lines):
        frame = pd.DataFrame(
            [
                {"snapshot taken": when, "total time (s)": total, "source": line.source}
                for line in lines
                for when, total in zip(line.taken_at, line.total_time, strict=True)
            ]
        )
        st.plotly_chart(
            px.line(
                frame,
                x="snapshot taken",
                y="total time (s)",
                color="source",
                markers=True,
                title="Total time across snapshots of the same source",
            ),
            use_container_width=True,
        )
    elif len(lines) > 1:
        st.caption(
            f"This class is in {len(lines)} unrelated uploads; a trend needs two snapshots of the same "
            "log or server."
        )
    with st.expander("Plan and proven index advice"):
        st.caption(
            "Runs EXPLAIN (never on a write) and proves an index on a scratch copy or with hypothetical "
            "indexes (PostgreSQL hypopg). Production tables are never changed."
        )
        url = st.text_input("Database URL", key=f"explain-url-{cls.id}", placeholder="postgresql+psycopg://…")
        if url and st.button("Explain and advise", key=f"advise-{cls.id}"):
            from datatruth.slowlog.advise import advise
            from datatruth.slowlog.explain import explain

            with st.spinner("Asking the planner…"):
                resolved = os.path.expandvars(url)
                plan = explain(resolved, cls.sample or "")
                advice = advise(resolved, cls.sample or "")
            st.markdown(f"Plan cost: **{plan.total_cost}**")
            for f in plan.findings:
                st.markdown(f"- **{f.severity}** {f.reason}")
            for a in advice:
                st.markdown(
                    f"**{a.table}({', '.join(a.columns)})**: cost {a.cost_before:.1f} → {a.cost_after:.1f} "
                    f"(−{a.reduction_pct:.0f}%, {a.method})"
                )
                st.code(a.ddl, language="sql")
    if ctx.can("incident_comment") and st.button("Open incident for this class", key=f"inc-{cls.id}"):
        incident = service.open_incident(ctx.store, ctx.workspace, cls, ctx.user)
        st.success(f"Incident #{incident} is on the board.")


try:
    context = page_context()
    if context.can("upload"):
        intake(context)
    ranking(context)
except UserError as err:
    show_error(err)

"""Quality page: workspace score, six dimensions, tables ranked, drill-down, trends, schema history, reports."""

from __future__ import annotations

import time

import pandas as pd
import plotly.express as px
import streamlit as st

from datatruth.ask.present import file_stem
from datatruth.errors import UserError
from datatruth.quality import overview as qo
from datatruth.quality.report import DEFAULT_SAMPLE_ROWS, report_job, report_path, start_report
from datatruth.quality.runner import run_checks
from datatruth.quality.spec import DIMENSIONS
from datatruth.ui.context import page_context
from datatruth.ui.render import download_buttons, empty_state, lazy_expander, show_error
from datatruth.ui.trend import gauges_figure, trend_figure

st.title("Data quality")


def run_now(ctx) -> None:
    bar = st.progress(0.0, text="starting")
    result = run_checks(
        ctx.workspace, ctx.store, progress=lambda f, m: bar.progress(min(1.0, f), text=m), user=ctx.user
    )
    bar.empty()
    st.success(f"Run {result.run_id}: {len(result.outcomes)} checks, {len(result.failed)} failed.")


def header(ctx, ov: qo.QualityOverview) -> None:
    gauges = ov.gauges(DIMENSIONS)
    # The titles are text above the gauges: inside a narrow plotly figure they were cut ("Completenes").
    for col, gauge in zip(st.columns(len(gauges)), gauges, strict=True):
        col.markdown(
            f"**{gauge.title}**"
            + (
                f"  \n:red[{gauge.critical_failed} critical failing]"
                if gauge.critical_failed
                else "  \n&nbsp;"
            )
        )
    st.plotly_chart(gauges_figure(gauges), width="stretch", key="gauges")
    if any(g.capped for g in gauges):
        for col, gauge in zip(st.columns(len(gauges)), gauges, strict=True):
            if gauge.capped:
                col.caption(f"measured {gauge.measured:.1f}, capped at {qo.CRITICAL_CAP:.0f}")
    critical = ov.critical_failures
    if critical:
        names = ", ".join(f"**{o.check_name}**" for o in critical[:6]) + (" …" if len(critical) > 6 else "")
        st.error(
            f"{len(critical)} critical check(s) fail: {names}. Scores are capped at {qo.CRITICAL_CAP:.0f} "
            "until they pass; they are listed first below and have incidents on the Incidents page.",
            icon=":material/error:",
        )


def checks_section(ov: qo.QualityOverview) -> None:
    st.subheader("Checks of the latest run")
    frame = pd.DataFrame(
        [
            {
                "status": o.status,
                "severity": o.severity,
                "check": o.check_name,
                "table": o.table,
                "column": o.column,
                "metric": o.metric_value,
                "threshold": o.threshold,
                "message": o.message,
            }
            for o in ov.outcomes
        ]
    )
    if frame.empty:
        st.caption("No checks in this run.")
        return
    # ov.outcomes is ranked: failed and erroring first, critical before warning before info.
    st.dataframe(frame, width="stretch", hide_index=True)
    download_buttons(frame, file_stem(f"quality checks run {ov.run_id}"), key="checks-dl")


def tables_section(ov: qo.QualityOverview) -> None:
    st.subheader("Tables ranked by score")
    rows = [{"table": t, "score": s, **{d: dims.get(d) for d in DIMENSIONS}} for t, s, dims in ov.tables]
    st.dataframe(pd.DataFrame(rows), width="stretch", hide_index=True)


def trends_section(ctx, ov: qo.QualityOverview) -> None:
    st.subheader("Trends over runs")
    left, right = st.columns(2)
    if ov.score_trend:
        left.plotly_chart(
            trend_figure(
                [(p.at, p.value) for p in ov.score_trend], "Workspace score (measured)", "score", (0, 103)
            ),
            width="stretch",
        )
    names = sorted({o.check_name for o in ov.outcomes})
    if names:
        pick = right.selectbox("Check", names, key="trend-check")
        points = qo.check_trend(ctx.store, ctx.workspace.name, pick)
        if points:
            right.plotly_chart(
                trend_figure([(p.at, p.value) for p in points], f"{pick}: measured value", "value"),
                width="stretch",
            )


def drill_down(ctx, ov: qo.QualityOverview) -> None:
    st.subheader("Drill down")
    tables = [t for t, _, _ in ov.tables]
    if not tables:
        return
    table = st.selectbox("Table", tables, key="dd-table")
    with st.spinner("Profiling in the warehouse…"):
        detail = qo.table_detail_soon(ctx.workspace, ctx.store, table, ov.run_id).result()
    prof = detail.profile
    st.caption(
        f"{prof.row_count:,} rows · time column {prof.time_column or '—'} · newest {prof.newest or '—'} · "
        f"{prof.duplicate_rows if prof.duplicate_rows is not None else '—'} duplicate rows · "
        f"profiled with {prof.queries} SQL queries in {prof.seconds:.2f} s"
    )
    cols = pd.DataFrame(
        [
            {
                "column": c.name,
                "type": c.type,
                "null %": round(100 * c.null_share, 2),
                "distinct": c.distinct,
                "approx": c.distinct_approximate,
                "min": None if c.min is None else str(c.min),
                "max": None if c.max is None else str(c.max),
                "mean": round(c.mean, 2) if c.kind == "numeric" and c.mean is not None else None,
                "low quality": c.low_quality,
                "top shape": c.shapes[0][0] if c.shapes else None,
            }
            for c in prof.columns
        ]
    )
    st.dataframe(cols, width="stretch", hide_index=True)
    column = st.selectbox("Column", [c.name for c in prof.columns], key="dd-col")
    cp = prof.column(column)
    if cp.kind == "numeric":
        bins = qo.column_distribution(ctx.workspace, table, column)
        frame = pd.DataFrame([{"from": lo, "to": hi, "rows": n} for lo, hi, n in bins])
        if not frame.empty:
            st.plotly_chart(
                px.bar(frame, x="from", y="rows", title=f"Distribution of {column}"), width="stretch"
            )
    elif cp.top_values or cp.shapes:
        data = cp.top_values or cp.shapes
        frame = pd.DataFrame([{"value": str(v), "rows": n} for v, n in data])
        st.plotly_chart(
            px.bar(
                frame,
                x="value",
                y="rows",
                title=f"Top values of {column}" if cp.top_values else f"Value shapes of {column}",
            ),
            width="stretch",
        )
    if detail.failed:
        st.markdown("**Failed checks**")
        for o in detail.failed:
            box = lazy_expander(
                f"{o.severity} · {o.check_name}: {o.message}", key=f"dd-failed-{o.check_name}"
            )
            if box is None:
                continue
            with box:
                if o.example_rows:
                    st.dataframe(pd.DataFrame(list(o.example_rows)), width="stretch", hide_index=True)
                st.json(o.detail, expanded=False)
    st.markdown("**Schema history**")
    if not detail.schema_versions:
        st.caption("No schema versions yet: every run snapshots the schema.")
    for v in reversed(detail.schema_versions):
        verdict = v.compatibility or "first version"
        label = (
            f"v{v.version} · {v.created_at:%Y-%m-%d %H:%M} · {verdict}{' · BREAKING' if v.breaking else ''}"
        )
        box = lazy_expander(label, key=f"dd-schema-{table}-{v.version}")
        if box is None:
            continue
        with box:
            if v.changes:
                st.dataframe(pd.DataFrame([c.__dict__ for c in v.changes]), width="stretch", hide_index=True)
            st.dataframe(
                pd.DataFrame(v.columns, columns=["column", "type", "nullable"]),
                width="stretch",
                hide_index=True,
            )
    report_section(ctx, table)


def report_section(ctx, table: str) -> None:
    st.markdown("**Full report (ydata-profiling on a SQL sample)**")
    rows = st.number_input(
        "Sample rows",
        min_value=1000,
        max_value=1_000_000,
        value=DEFAULT_SAMPLE_ROWS,
        step=10_000,
        key="rep-rows",
    )
    job = report_job(ctx.workspace, table)
    if st.button("Build report", key="rep-go", disabled=job is not None and not job.done):
        job = start_report(ctx.workspace, table, int(rows))
    if job is not None and not job.done:
        st.progress(job.progress, text=job.message)
        time.sleep(1.0)
        st.rerun()
    if job is not None and job.error is not None:
        show_error(job.error)
    path = report_path(ctx.workspace, table)
    if path.exists():
        st.download_button(
            "Download HTML report",
            path.read_bytes(),
            f"{ctx.workspace.name}-{table}-profile-report.html",
            "text/html",
            key="rep-dl",
            icon=":material/download:",
        )


try:
    ctx = page_context()
    st.caption(f"Workspace: {ctx.workspace.config.title}")
    if ctx.can("run_checks") and st.button("Run checks now", type="primary", icon=":material/play_arrow:"):
        run_now(ctx)
    ov = qo.overview(ctx.store, ctx.workspace.name)
    if ov.empty:
        empty_state(
            "No quality runs yet",
            "Press **Run checks now** (analysts and admins), or run "
            f"`datatruth quality run -w {ctx.workspace.name}` from a shell or cron. Checks live in "
            f"`workspaces/{ctx.workspace.name}/checks.yaml`.",
        )
    else:
        tables = [t for t, _, _ in ov.tables]
        if tables:
            # The drill-down's profile starts now, in the warehouse, while the sections above it are drawn.
            picked = st.session_state.get("dd-table")
            qo.table_detail_soon(
                ctx.workspace, ctx.store, picked if picked in tables else tables[0], ov.run_id
            )
        header(ctx, ov)
        checks_section(ov)
        tables_section(ov)
        trends_section(ctx, ov)
        drill_down(ctx, ov)
except UserError as err:
    show_error(err)

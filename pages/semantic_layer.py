"""Semantic layer page: browse metrics and dimensions, edit (form or YAML, validated live), preview SQL, history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from datatruth.errors import ConfigError, UserError
from datatruth.semantic import versions
from datatruth.semantic.model import FORMATS, GRAINS, METRIC_TIME, SemanticLayer
from datatruth.ui.context import PageContext, page_context
from datatruth.ui.render import empty_state, show_error, table
from datatruth.workspace.load_files import load_uploads

st.title("🧭 Semantic layer")


def browse(layer: SemanticLayer, files: dict[str, str]) -> None:
    query = st.text_input("Search metrics and dimensions", key="sem-search",
                          placeholder="name, label, description or synonym")
    found = versions.catalog(layer, query)
    st.subheader(f"Metrics ({len(found.metrics)})")
    if found.metrics:
        table(pd.DataFrame(list(found.metrics)), "metrics", key="sem-metrics")
    else:
        st.info("No metric matches the search.")
    st.subheader(f"Dimensions ({len(found.dimensions)})")
    if found.dimensions:
        table(pd.DataFrame(list(found.dimensions)), "dimensions", key="sem-dims")
    else:
        st.info("No dimension matches the search.")
    st.caption(f"{len(files)} model file(s): " + ", ".join(sorted(files)))


def edit(ctx: PageContext, layer: SemanticLayer | None, files: dict[str, str]) -> None:
    if not ctx.can("edit_model"):
        st.info("You can read the model; analysts and admins can edit it.")
        name = st.selectbox("File", sorted(files), key="sem-view-file")
        st.code(files[name], language="yaml")
        return
    # A model that does not load can only be fixed as text.
    modes = ["Form", "Raw YAML"] if layer is not None else ["Raw YAML"]
    mode = st.radio("Edit with", modes, horizontal=True, key="sem-mode")
    if mode == "Form" and layer is not None:
        names = list(layer.metric_names())
        if not names:
            empty_state("No metrics yet", "Add one in Raw YAML mode.")
            return
        pick = st.selectbox("Metric", names, key="sem-form-metric")
        metric = layer.metric(pick)
        with st.form("sem-form"):
            description = st.text_area("Description", metric.description, key=f"sem-desc-{pick}")
            synonyms = st.text_input("Synonyms (comma-separated)", ", ".join(metric.synonyms), key=f"sem-syn-{pick}")
            fmt = st.selectbox("Format", FORMATS, index=FORMATS.index(metric.format), key=f"sem-fmt-{pick}")
            message = st.text_input("What changed?", key="sem-form-message")
            if st.form_submit_button("Save"):
                try:
                    changed = versions.edit_metric(files, pick, description=description,
                                                   synonyms=synonyms.split(","), format=fmt)
                    saved = versions.save_model(ctx.workspace, ctx.store, changed, ctx.user, message)
                    st.success(f"Saved as version {saved.version}.")
                except UserError as err:
                    show_error(err)
        return
    name = st.selectbox("File", sorted(files), key="sem-raw-file")
    text = st.text_area("YAML", files[name], height=420, key=f"sem-raw-{name}")
    issues = versions.check_files(ctx.workspace, {**files, name: text})
    if issues:
        st.error(f"{len(issues)} issue(s); the model cannot be saved until they are fixed.")
        for issue in issues:
            where = f"line {issue.line}" if issue.line else "file"
            st.markdown(f"- **{issue.file}** {where}: {issue.message}" + (f" — _{issue.hint}_" if issue.hint else ""))
    else:
        st.success("The model is valid.")
    message = st.text_input("What changed?", key="sem-raw-message")
    if st.button("Save", key="sem-raw-save", disabled=bool(issues) or text == files[name]):
        try:
            saved = versions.save_model(ctx.workspace, ctx.store, {name: text}, ctx.user, message)
            st.success(f"Saved as version {saved.version}.")
        except UserError as err:
            show_error(err)


def preview(ctx: PageContext, layer: SemanticLayer, files: dict[str, str]) -> None:
    names = list(layer.metric_names())
    if not names:
        empty_state("No metrics to preview", "Add a metric first.")
        return
    c1, c2, c3 = st.columns(3)
    metric = c1.selectbox("Metric", names, key="sem-prev-metric")
    dims = ["(none)", METRIC_TIME] + [d.name for d in layer.dimensions()]
    dim = c2.selectbox("By", dims, key="sem-prev-dim")
    grain = c3.selectbox("Grain (time dimensions)", ("(none)",) + GRAINS, index=4, key="sem-prev-grain")
    if st.button("Preview SQL and 10 rows", key="sem-prev-run"):
        dimension = None if dim == "(none)" else dim
        is_time = dimension == METRIC_TIME or (dimension is not None and layer.dimension(dimension).dimension.is_time)
        try:
            result = versions.preview(ctx.workspace, files, metric, dimension,
                                      grain if is_time and grain != "(none)" else None)
        except UserError as err:
            show_error(err)
            return
        st.code(result.sql, language="sql")
        table(result.frame, f"preview-{metric}", key="sem-prev-table")


def history(ctx: PageContext) -> None:
    items = versions.history(ctx.store, ctx.workspace)
    table(pd.DataFrame([{"version": v.version, "author": v.author, "message": v.message, "files": len(v.files),
                         "saved": v.created_at} for v in items]), "model-history", key="sem-history")
    numbers = [v.version for v in items]
    if len(numbers) > 1:
        c1, c2 = st.columns(2)
        old = c1.selectbox("From version", numbers, index=1, key="sem-diff-old")
        new = c2.selectbox("To version", numbers, index=0, key="sem-diff-new")
        text = versions.diff(ctx.store, ctx.workspace, old, new)
        st.code(text or "No differences.", language="diff")
    if ctx.can("edit_model") and len(numbers) > 1:
        back = st.selectbox("Restore version", numbers[1:], key="sem-restore-version")
        if st.button("Restore", key="sem-restore"):
            try:
                saved = versions.restore(ctx.store, ctx.workspace, back, ctx.user)
                st.success(f"Version {back} restored as version {saved.version}.")
            except UserError as err:
                show_error(err)


def upload(ctx: PageContext) -> None:
    """Bring your own files: infer types, show bad rows, then load into the workspace's DuckDB."""
    with st.expander("📥 Load files (CSV, Excel, Parquet, JSON)"):
        picked = st.file_uploader("Files", accept_multiple_files=True, key="load-files",
                                  help=f"Up to {ctx.settings.upload_max_mb} MB each; one table per file.")
        if not picked:
            st.caption("Each file becomes a table named after it. Types are inferred and shown before loading; "
                       "rows that cannot be read are listed with their line numbers, never dropped silently.")
            return
        uploads = [(f.name, f.getvalue()) for f in picked]
        check = load_uploads(ctx.workspace, uploads, user=ctx.user, store=ctx.store, dry_run=True)
        for t in check.tables:
            replaces = " · replaces the existing table" if t.replaces else ""
            st.markdown(f"**{t.table}** ← {t.source}: {t.rows:,} rows, {len(t.rejected)} rejected{replaces}")
            st.dataframe([{"column": c.name, "type": c.type} for c in t.columns], hide_index=True)
            for row in t.rejected[:20]:
                st.caption(f"⚠ {row}")
        for note in check.notes:
            st.caption(f"ℹ {note}")
        replace = st.checkbox("Replace existing tables", key="load-replace") if any(
            t.replaces for t in check.tables) else False
        if st.button("Load into the warehouse", type="primary", key="load-go"):
            bar = st.progress(0.0, text="Loading…")
            done = load_uploads(ctx.workspace, uploads, user=ctx.user, store=ctx.store, replace=replace,
                                progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m))
            st.success(f"Loaded {len(done.tables)} table(s); {done.rejected_count} row(s) rejected. Draft a model "
                       f"for them with `datatruth workspace create NAME --warehouse URL --draft-model`, or add "
                       "them to the model in the Edit tab.")


try:
    ctx = page_context()
    if ctx.can("upload") and ctx.workspace.config.warehouse_url.startswith("duckdb:///"):
        upload(ctx)
    files = versions.files_on_disk(ctx.workspace)
    version = versions.current_version(ctx.store, ctx.workspace)
    role = "" if ctx.can("edit_model") else " · read-only"
    st.caption(f"Workspace: {ctx.workspace.config.title} · model version v{version}{role}")
    if not files:
        empty_state("This workspace has no semantic model yet",
                    "Draft one from the database with `datatruth workspace create NAME --warehouse URL "
                    "--draft-model`, or import dbt with `datatruth semantic import-dbt DIR`.")
        st.stop()
except UserError as err:
    show_error(err)
    st.stop()
try:
    layer: SemanticLayer | None = versions.layer_of(files)
    problem: ConfigError | None = None
except ConfigError as err:
    layer, problem = None, err

tab_browse, tab_edit, tab_preview, tab_history = st.tabs(["Browse", "Edit", "Preview SQL", "History"])
with tab_browse:
    if layer is not None:
        browse(layer, files)
    elif problem is not None:
        show_error(problem)
with tab_edit:
    edit(ctx, layer, files)
with tab_preview:
    if layer is not None:
        preview(ctx, layer, files)
    elif problem is not None:
        st.info("Fix the model in the Edit tab to preview its SQL.")
with tab_history:
    try:
        history(ctx)
    except UserError as err:
        show_error(err)

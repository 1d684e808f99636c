"""Semantic layer page: browse metrics and dimensions, edit (form or YAML, validated live), preview SQL, history."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pandas as pd
import streamlit as st

from datatruth.errors import ConfigError, UserError
from datatruth.semantic import versions
from datatruth.semantic.model import FORMATS, GRAINS, METRIC_TIME, SemanticLayer
from datatruth.store import proposals
from datatruth.teach import review
from datatruth.teach.author import draft_proposals
from datatruth.teach.suggestions import SuggestionGroup, answer_as, ask_again, suggestions
from datatruth.teach.views import proposal_rows, teach_targets, verified_rows
from datatruth.ui.context import PageContext, page_context
from datatruth.ui.render import empty_state, show_error, table
from datatruth.workspace.load_files import load_uploads

st.title("Semantic layer")


def browse(layer: SemanticLayer, files: dict[str, str]) -> None:
    query = st.text_input(
        "Search metrics and dimensions", key="sem-search", placeholder="name, label, description or synonym"
    )
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


def verified(layer: SemanticLayer) -> None:
    rows = verified_rows(layer)
    if not rows:
        empty_state(
            "No verified questions yet",
            "Mark a right answer on the Ask page to propose one, or add "
            "`verified_questions:` to a model file.",
        )
        return
    st.caption(
        "Questions a person checked. A new question that reads the same (another period or value is fine) "
        "is answered from its checked plan; starters are offered on the Ask page."
    )
    table(pd.DataFrame(rows), "verified-questions", key="sem-verified")


def proposals_tab(ctx: PageContext, layer: SemanticLayer | None) -> None:
    admin = ctx.can("review_teaching")
    items = proposals.pending(ctx.store, ctx.workspace.name, proposer=None if admin else ctx.user)
    st.caption(
        'Marking an answer right proposes a verified question; choosing a "did you mean" proposes a synonym. '
        "A proposal answers its proposer's own questions at once, and everyone's once an admin accepts it."
    )
    if (
        admin
        and ctx.workspace.config.llm.enabled
        and st.button(
            "Ask the LLM for proposals",
            key="prop-llm",
            icon=":material/auto_awesome:",
            help="Synonyms, phrasings, descriptions and verified questions from the schema and sample values; "
            "each is checked against the model and waits here for review",
        )
    ):
        try:
            drafted = draft_proposals(ctx.workspace, ctx.store, ctx.user)
            st.session_state["sem-teach-note"] = (
                f"The LLM proposed {len(drafted.proposed)} item(s) to review; "
                f"{len(drafted.dropped)} named nothing in the model and were "
                "dropped."
            )
            st.rerun()
        except UserError as err:
            show_error(err)
    if not items:
        empty_state(
            "No open proposals", "Proposals appear here when analysts mark answers right or pick a choice."
        )
        return
    rows = proposal_rows(items, layer)
    if not admin:
        table(pd.DataFrame(rows), "my-proposals", key="sem-my-proposals")
        return
    for p, row in zip(items, rows, strict=True):
        left, accept_col, reject_col = st.columns([6, 1, 1])
        left.markdown(
            f"**#{p.id} {row['kind']}** — {row['proposal']}  \n_by {row['by']}, from {row['from']}, "
            f"{row['on']}_"
        )
        if accept_col.button("Accept", key=f"prop-accept-{p.id}", icon=":material/check:"):
            try:
                st.session_state["sem-teach-note"] = f"#{p.id}: " + review.accept(
                    ctx.workspace, ctx.store, ctx.user, p.id
                )
            except UserError as err:
                show_error(err)  # shown where it happened; the proposal stays open
                continue
            st.rerun()
        if reject_col.button("Reject", key=f"prop-reject-{p.id}", icon=":material/close:"):
            review.reject(ctx.workspace, ctx.store, ctx.user, p.id)
            st.rerun()


def suggestions_tab(ctx: PageContext, layer: SemanticLayer) -> None:
    if not ctx.can("review_teaching"):
        st.info(
            "Admins see the questions that were refused or marked wrong here, and teach the workspace from them."
        )
        return
    groups = suggestions(ctx.workspace, ctx.store, ctx.user)
    if not groups:
        empty_state(
            "No refused or wrong questions",
            "Questions the Ask page refused or people marked wrong in the "
            "last 90 days are grouped here by similarity.",
        )
        return
    targets = teach_targets(layer)
    for i, g in enumerate(groups):
        with st.expander(f"{g.question} — asked {g.count}× by {g.users} · {g.status}", expanded=i < 3):
            _suggestion(ctx, g, i, targets)


def _suggestion(ctx: PageContext, g: SuggestionGroup, i: int, targets: list[tuple[str, str, str]]) -> None:
    if len(g.variants) > 1:
        st.caption("Also asked as: " + " · ".join(g.variants[1:6]))
    if g.failed_words:
        st.markdown("**Words that failed:** " + ", ".join(f"`{w}`" for w in g.failed_words))
    if g.understood:
        st.markdown(f"**Understood:** {g.understood}")
    if g.answer:
        st.markdown(f"**Read now as:** {g.answer}")
    teach = partial(review.teach_now, ctx.workspace, ctx.store, ctx.user)
    if g.failed_words:
        c1, c2, c3 = st.columns([2, 3, 2])
        word = c1.selectbox("Word", g.failed_words, key=f"sug-word-{i}")
        target = c2.selectbox(
            "Means", range(len(targets)), format_func=lambda k: targets[k][2], key=f"sug-target-{i}"
        )
        if c3.button("Add synonym", key=f"sug-syn-{i}"):
            kind, name, _label = targets[target]
            _teach(
                ctx,
                g.question,
                partial(teach, "synonym", {"term": word.lower(), "target_kind": kind, "target": name}),
            )
        metrics = [t for t in targets if t[0] == "metric"]
        c4, c5, c6 = st.columns([2, 3, 2])
        words = c4.text_input("Phrasing words (comma-separated)", value=word, key=f"sug-phr-words-{i}")
        means = c5.selectbox(
            "Stands for the metric",
            range(len(metrics)),
            format_func=lambda k: metrics[k][2],
            key=f"sug-phr-metric-{i}",
        )
        if c6.button("Add phrasing", key=f"sug-phr-{i}") and words.strip():
            _teach(
                ctx,
                g.question,
                partial(
                    teach,
                    "phrasing",
                    {
                        "words": [w.strip() for w in words.split(",") if w.strip()],
                        "metric": metrics[means][1],
                    },
                ),
            )
    if g.choices:
        c7, c8 = st.columns([5, 2])
        choice = c7.selectbox("Answer it as", g.choices, key=f"sug-choice-{i}")
        if c8.button("Add verified question", key=f"sug-vq-{i}"):
            _teach(
                ctx, g.question, partial(answer_as, ctx.workspace, ctx.store, ctx.user, g.question, choice)
            )
    if st.button("Ask again", key=f"sug-again-{i}", icon=":material/refresh:"):
        st.session_state["sem-teach-note"] = ask_again(ctx.workspace, ctx.store, ctx.user, g.question)
        st.rerun()


def _teach(ctx: PageContext, question: str, action: Callable[[], str]) -> None:
    """Run one teaching action, then ask the question again and keep both outcomes for the next run."""
    try:
        done = action()
    except UserError as err:
        show_error(err)
        return
    st.session_state["sem-teach-note"] = f"{done}. {ask_again(ctx.workspace, ctx.store, ctx.user, question)}"
    st.rerun()


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
            synonyms = st.text_input(
                "Synonyms (comma-separated)", ", ".join(metric.synonyms), key=f"sem-syn-{pick}"
            )
            fmt = st.selectbox("Format", FORMATS, index=FORMATS.index(metric.format), key=f"sem-fmt-{pick}")
            message = st.text_input("What changed?", key="sem-form-message")
            if st.form_submit_button("Save"):
                try:
                    changed = versions.edit_metric(
                        files, pick, description=description, synonyms=synonyms.split(","), format=fmt
                    )
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
            st.markdown(
                f"- **{issue.file}** {where}: {issue.message}" + (f" — _{issue.hint}_" if issue.hint else "")
            )
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
        is_time = dimension == METRIC_TIME or (
            dimension is not None and layer.dimension(dimension).dimension.is_time
        )
        try:
            result = versions.preview(
                ctx.workspace, files, metric, dimension, grain if is_time and grain != "(none)" else None
            )
        except UserError as err:
            show_error(err)
            return
        st.code(result.sql, language="sql")
        table(result.frame, f"preview-{metric}", key="sem-prev-table")


def history(ctx: PageContext) -> None:
    items = versions.history(ctx.store, ctx.workspace)
    table(
        pd.DataFrame(
            [
                {
                    "version": v.version,
                    "author": v.author,
                    "message": v.message,
                    "files": len(v.files),
                    "saved": v.created_at,
                }
                for v in items
            ]
        ),
        "model-history",
        key="sem-history",
    )
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
    with st.expander("Load files (CSV, Excel, Parquet, JSON)", icon=":material/upload_file:"):
        picked = st.file_uploader(
            "Files",
            accept_multiple_files=True,
            key="load-files",
            help=f"Up to {ctx.settings.upload_max_mb} MB each; one table per file.",
        )
        if not picked:
            st.caption(
                "Each file becomes a table named after it. Types are inferred and shown before loading; "
                "rows that cannot be read are listed with their line numbers, never dropped silently."
            )
            return
        uploads = [(f.name, f.getvalue()) for f in picked]
        check = load_uploads(ctx.workspace, uploads, user=ctx.user, store=ctx.store, dry_run=True)
        for t in check.tables:
            replaces = " · replaces the existing table" if t.replaces else ""
            st.markdown(f"**{t.table}** ← {t.source}: {t.rows:,} rows, {len(t.rejected)} rejected{replaces}")
            st.dataframe([{"column": c.name, "type": c.type} for c in t.columns], hide_index=True)
            for row in t.rejected[:20]:
                st.caption(f":material/warning: {row}")
        for note in check.notes:
            st.caption(f":material/info: {note}")
        replace = (
            st.checkbox("Replace existing tables", key="load-replace")
            if any(t.replaces for t in check.tables)
            else False
        )
        if st.button("Load into the warehouse", type="primary", key="load-go"):
            bar = st.progress(0.0, text="Loading…")
            done = load_uploads(
                ctx.workspace,
                uploads,
                user=ctx.user,
                store=ctx.store,
                replace=replace,
                progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m),
            )
            st.success(
                f"Loaded {len(done.tables)} table(s); {done.rejected_count} row(s) rejected. Draft a model "
                f"for them with `datatruth workspace create NAME --warehouse URL --draft-model`, or add "
                "them to the model in the Edit tab."
            )


try:
    ctx = page_context()
    files = versions.files_on_disk(ctx.workspace)
    version = versions.current_version(ctx.store, ctx.workspace)
    role = "" if ctx.can("edit_model") else " · read-only"
    st.caption(f"Workspace: {ctx.workspace.config.title} · model version v{version}{role}")
    if ctx.can("upload") and ctx.workspace.config.warehouse_url.startswith("duckdb:///"):
        upload(ctx)
    if not files:
        empty_state(
            "This workspace has no semantic model yet",
            "Draft one from the database with `datatruth workspace create NAME --warehouse URL "
            "--draft-model`, or import dbt with `datatruth semantic import-dbt DIR`.",
        )
        st.stop()
except UserError as err:
    show_error(err)
    st.stop()
try:
    layer: SemanticLayer | None = versions.layer_of(files)
    problem: ConfigError | None = None
except ConfigError as err:
    layer, problem = None, err

note = st.session_state.pop("sem-teach-note", None)
if note:
    st.success(note, icon=":material/school:")
tab_browse, tab_verified, tab_proposals, tab_suggestions, tab_edit, tab_preview, tab_history = st.tabs(
    ["Browse", "Verified questions", "Proposals", "Suggestions", "Edit", "Preview SQL", "History"]
)
with tab_browse:
    if layer is not None:
        browse(layer, files)
    elif problem is not None:
        show_error(problem)
with tab_verified:
    if layer is not None:
        verified(layer)
    elif problem is not None:
        st.info("Fix the model in the Edit tab to see its verified questions.")
with tab_proposals:
    proposals_tab(ctx, layer)
with tab_suggestions:
    if layer is not None:
        try:
            suggestions_tab(ctx, layer)
        except UserError as err:
            show_error(err)
    elif problem is not None:
        st.info("Fix the model in the Edit tab to see suggestions.")
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

"""Ask page: a plain-words question in, a governed answer out (numbers, SQL, plan, chart, explanation)."""

from __future__ import annotations

import uuid
from typing import Any

import streamlit as st

from datatruth.ask.answer import Answer
from datatruth.ask.pipeline import ask, learnable_choice, run_sql, suggestion_kind, workspace_resources
from datatruth.ask.present import file_stem
from datatruth.ask.verified import onboarding_questions
from datatruth.dashboards.service import pin_answer
from datatruth.errors import PlanningError, UserError
from datatruth.insights.forecast import add_forecast
from datatruth.semantic.labels import describe_plan, label_words
from datatruth.store import feedback, history
from datatruth.teach import review
from datatruth.ui.context import PageContext, page_context
from datatruth.ui.render import empty_state, show_error, table

PLANNED_BY = {
    "deterministic": "the rules",
    "verified": "a verified question",
    "llm": "the LLM",
    "llm-sql": "the LLM (its own SQL)",
}


def _chat_key(ctx: PageContext) -> str:
    return f"ask_chat:{ctx.workspace.name}:{ctx.user}"


def _session_id(ctx: PageContext) -> str:
    key = f"ask_session:{ctx.workspace.name}:{ctx.user}"
    if key not in st.session_state:
        st.session_state[key] = uuid.uuid4().hex[:12]
    return st.session_state[key]


def _turns(ctx: PageContext) -> list[dict[str, Any]]:
    return st.session_state.setdefault(_chat_key(ctx), [])


def _target_kind(ctx: PageContext, target: str) -> str:
    return suggestion_kind(ctx.workspace, ctx.store, target)


def _ask(ctx: PageContext, question: str, follow_up: bool) -> None:
    turns = _turns(ctx)
    previous = next((t["answer"].plan for t in reversed(turns) if t.get("answer") is not None), None)
    try:
        answer = ask(
            ctx.workspace,
            question,
            user=ctx.user,
            store=ctx.store,
            session_id=_session_id(ctx),
            previous=previous if follow_up else None,
        )
        turns.append({"question": question, "answer": answer})
    except PlanningError as err:
        turns.append({"question": question, "error": err})
    except UserError as err:
        turns.append({"question": question, "error": err})


def _render_answer(ctx: PageContext, answer: Answer, index: int) -> None:
    if answer.interpretation:
        # what the question was read as comes before any number, so a misreading is seen first
        followed = next(
            (e.target for e in (answer.plan.evidence if answer.plan else ()) if e.method == "followup"), ""
        )
        st.info(f"**Read as:** {answer.interpretation}", icon=":material/manage_search:")
        if followed:
            st.caption(
                f"A follow-up: it changes the previous question ({followed.removeprefix('follow-up of: ')})."
            )
    st.markdown(answer.explanation)
    for insight in answer.insights:
        st.markdown(f"- {insight.text}")
    if answer.chart is not None:
        chart = answer.chart
        over_time = any(
            t.get("type") == "scatter" for t in chart.get("data", [])
        )  # no forecast of a number card
        if over_time and st.toggle(
            "Forecast",
            key=f"forecast-{index}",
            help="Exponential smoothing on the series; drawn dashed, never mixed into the actual numbers",
        ):
            chart = add_forecast(answer) or chart
            if chart is answer.chart:
                st.caption(
                    "Not enough history for a forecast (needs a time series of two seasons or 24 points)."
                )
        st.plotly_chart(chart, width="stretch", key=f"chart-{index}")
    layer = workspace_resources(ctx.workspace, ctx.store).layer if answer.plan is not None else None
    described = describe_plan(answer.plan, layer) if answer.plan is not None else ""
    table(answer.frame, file_stem(described, answer.question), key=f"table-{index}", columns=answer.columns)
    source = "cache" if answer.cached else "warehouse"
    extra = " · truncated at the row cap" if answer.truncated else ""
    planner = PLANNED_BY.get(answer.plan_source, answer.plan_source)
    st.caption(
        f"{answer.row_count:,} row(s) from the {source} in {answer.elapsed_ms:.0f} ms · model "
        f"{answer.model_version or 'n/a'} · planned by {planner}{extra}"
    )
    with st.expander("SQL"):
        st.code(answer.sql, language="sql")
    if answer.plan is not None:
        with st.expander("Plan and evidence"):
            st.markdown(f"**{described}**")
            rows = [
                {
                    "phrase": e.phrase,
                    "kind": e.kind,
                    "matched": label_words(layer, e.target),
                    "how": e.method,
                    "score": round(e.score, 2),
                }
                for e in answer.plan.evidence
            ]
            if rows:
                st.dataframe(rows, hide_index=True, width="stretch")
    if answer.plan is not None and ctx.can("edit_dashboard"):
        with st.popover("Pin to a dashboard", icon=":material/keep:"):
            board = st.text_input("Dashboard", value="My dashboard", key=f"pin-board-{index}")
            title = st.text_input("Tile title", value=answer.question, key=f"pin-title-{index}")
            if st.button("Pin", key=f"pin-{index}"):
                pinned = pin_answer(
                    ctx.store, ctx.workspace, ctx.user, board, title, answer.question, answer.plan
                )
                if pinned.added:
                    st.toast(f"Pinned to '{board}'.", icon=":material/keep:")
                else:
                    st.info(
                        f"This answer is already on '{board}' as '{pinned.tile.title}'; it was not added twice.",
                        icon=":material/info:",
                    )
    if answer.history_id is not None:
        good, bad, _ = st.columns([1, 1, 6])
        if good.button("Right", key=f"up-{index}", help="This answer is right", icon=":material/thumb_up:"):
            marked = review.mark_right(ctx.workspace, ctx.store, ctx.user, answer.history_id)
            st.toast(marked.message)
        if bad.button(
            "Wrong", key=f"down-{index}", help="This answer is wrong", icon=":material/thumb_down:"
        ):
            review.mark_wrong(ctx.workspace, ctx.store, ctx.user, answer.history_id)
            st.toast("Thanks — recorded as wrong; an admin will see it among the suggestions.")


def _render_error(ctx: PageContext, question: str, err: UserError, index: int) -> None:
    if not isinstance(err, PlanningError):
        show_error(err)
        return
    # a refusal says what was understood and offers questions that can be answered, each planned already
    st.warning(err.message.split("; I understood:")[0].split(" (I understood:")[0])
    if err.interpretation:
        st.markdown(f"**I understood:** {err.interpretation}")
    if err.hint and not err.choices:
        st.caption(err.hint)
    term = err.unmatched[0] if len(err.unmatched) == 1 else ""
    if err.choices:
        st.markdown("**You could ask:**")
        for i, choice in enumerate(err.choices[:4]):
            if st.button(choice, key=f"choice-{index}-{i}"):
                learned = learnable_choice(ctx.workspace, ctx.store, question, term, choice)
                if learned is not None:
                    # the planner picks learned synonyms up on the next question (in every process)
                    feedback.confirm_choice(
                        ctx.store, ctx.workspace.name, ctx.user, term, learned[0], learned[1]
                    )
                _ask(ctx, choice, follow_up=False)
                st.rerun()
        return
    if not err.suggestions:
        return
    st.markdown("Close names:")
    cols = st.columns(min(len(err.suggestions), 4))
    for i, suggestion in enumerate(err.suggestions[:4]):
        if cols[i].button(suggestion, key=f"dym-{index}-{i}"):
            if term:
                # the planner picks learned synonyms up on the next question (in every process)
                feedback.confirm_choice(
                    ctx.store, ctx.workspace.name, ctx.user, term, _target_kind(ctx, suggestion), suggestion
                )
            retry = (
                question.replace(term, suggestion.replace("__", " ")) if term else f"{question} {suggestion}"
            )
            _ask(ctx, retry, follow_up=False)
            st.rerun()


def _earlier(ctx: PageContext) -> None:
    entries = [
        e
        for e in history.recent(ctx.store, ctx.workspace.name, ctx.user, limit=30)
        if e.session_id != _session_id(ctx)
    ]
    if not entries:
        return
    with st.expander(f"Earlier questions ({len(entries)})"):
        for entry in entries:
            left, right = st.columns([5, 1])
            status = f"error: {entry.error}" if entry.error else f"{entry.row_count or 0} row(s)"
            left.markdown(f"**{entry.question}** — {status} · {entry.at:%Y-%m-%d %H:%M}")
            if right.button("Ask again", key=f"again-{entry.id}"):
                _ask(ctx, entry.question, follow_up=False)
                st.rerun()


def _ask_tab(ctx: PageContext) -> None:
    turns = _turns(ctx)
    _earlier(ctx)
    if not turns:
        starters = onboarding_questions(workspace_resources(ctx.workspace, ctx.store).layer)
        hint = (
            "Start with a question the workspace's owners checked:"
            if starters
            else "Name a metric, optionally a breakdown and a period, e.g. *revenue by month last year*."
        )
        empty_state("Ask a question in plain words", hint)
        cols = st.columns(2)
        for i, starter in enumerate(starters):
            if cols[i % 2].button(starter, key=f"starter-{i}", icon=":material/verified:"):
                _ask(ctx, starter, follow_up=False)
                st.rerun()
    for index, turn in enumerate(turns):
        with st.chat_message("user"):
            st.markdown(turn["question"])
        with st.chat_message("assistant"):
            if "answer" in turn:
                _render_answer(ctx, turn["answer"], index)
            else:
                _render_error(ctx, turn["question"], turn["error"], index)
    last = next((t["question"] for t in reversed(turns) if t.get("answer") is not None), None)
    follow_up = False
    if last is not None:
        # only a question that reads as one ('only online', 'what about 2024?', 'and by month') changes the
        # answer it names here; any other question is read on its own
        follow_up = st.toggle(
            f"Follow-ups refine: “{last}”",
            value=True,
            key="ask_follow_up",
            help="'only online', 'what about 2024?', 'and by month' change this answer; other "
            "questions are read on their own. Turn off to read every question on its own.",
        )
    question = st.chat_input("Ask a question, e.g. revenue by month last year")
    if question:
        _ask(ctx, question, follow_up)
        st.rerun()


def _sql_tab(ctx: PageContext) -> None:
    st.caption("One read-only SELECT over this workspace's tables; guarded, row-capped and audited.")
    sql = st.text_area("SQL", height=160, key="ask_sql_text", placeholder="SELECT ... FROM ...")
    if st.button("Run", key="ask_sql_run", type="primary") and sql.strip():
        try:
            st.session_state["ask_sql_answer"] = run_sql(ctx.workspace, sql, user=ctx.user, store=ctx.store)
        except UserError as err:
            st.session_state.pop("ask_sql_answer", None)
            show_error(err)
    answer = st.session_state.get("ask_sql_answer")
    if answer is not None:
        if answer.chart is not None:
            st.plotly_chart(answer.chart, width="stretch", key="sql-chart")
        table(
            answer.frame,
            file_stem(answer.question.splitlines()[0] if answer.question else "", "query"),
            key="sql-table",
            columns=answer.columns,
        )
        st.caption(
            f"{answer.row_count:,} row(s) from the {'cache' if answer.cached else 'warehouse'} in "
            f"{answer.elapsed_ms:.0f} ms"
        )
        with st.expander("SQL as run (after the guard)"):
            st.code(answer.sql, language="sql")


st.title("Ask")
try:
    ctx = page_context()
    st.caption(f"Workspace: {ctx.workspace.config.title}")
    if ctx.can("sql"):
        ask_tab, sql_tab = st.tabs(["Ask", "SQL"])
        with ask_tab:
            _ask_tab(ctx)
        with sql_tab:
            _sql_tab(ctx)
    else:
        _ask_tab(ctx)
except UserError as err:
    show_error(err)

"""The Ask pipeline for answers printed as JSON (`datatruth ask --json`): the same stages, rows without pandas.

A JSON answer needs the rows, the explanation and the insights, never a DataFrame or a chart, and importing
pandas costs more than the rest of a cold CLI run. `ask_rows` runs the pipeline's own stages (access, quota,
plan, compile, guard, record) with two replaced:

- execute: the same cache key, cache and row cap; rows are fetched as tuples (`Warehouse.fetch`) and kept as
  `Rows` when pandas would hold the same cells (otherwise a DataFrame, as in the pipeline);
- answer: the same masking, columns, labels, explanation and insights as `pipeline.stage_answer`, without the
  chart (JSON has none); a DataFrame result goes through `pipeline.stage_answer` itself.

tests/test_ask_lean.py checks that both paths print the same JSON for many questions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from datatruth.ask import pipeline
from datatruth.ask.answer import Answer
from datatruth.ask.cache import CacheKey
from datatruth.ask.explain import explain
from datatruth.ask.insights import find_insights
from datatruth.ask.masking import masked_for
from datatruth.ask.members import label_columns, shown, with_labels
from datatruth.ask.rows import Rows, as_frame, rows_of
from datatruth.errors import present
from datatruth.semantic.plan import QueryPlan
from datatruth.store.engine import Store
from datatruth.warehouse import dataversion
from datatruth.workspace.registry import Workspace


def stage_execute_rows(state: pipeline.AskState) -> pipeline.AskState:
    """pipeline.stage_execute, keeping the rows as Rows when it can."""
    ws, res = state.request.ws, present(state.resources, "the workspace resources (stage_plan loads them)")
    key = CacheKey(
        state.sql,
        state.model_version,
        f"{ws.warehouse.identity}#{dataversion.stamp(ws.data_dir, ws.config.warehouse_url)}",
    )
    if not state.request.refresh:
        hit = res.cache.get(key, rows=True)
        if hit is not None:
            return replace(state, frame=hit.frame, truncated=hit.truncated, cached=True)
    limits = ws.config.limits
    fetched = ws.warehouse.fetch(state.sql, row_cap=limits.row_cap, timeout_s=limits.timeout_s)
    rows = rows_of(fetched.columns, fetched.rows)
    frame = rows if rows is not None else fetched.frame()
    if res.cache.enabled and not res.cache.put_records(
        key, fetched.columns, fetched.types, fetched.rows, fetched.truncated
    ):
        res.cache.put(key, as_frame(frame), fetched.truncated)  # a type put_records does not store
    return replace(state, frame=frame, truncated=fetched.truncated, cached=False)


def stage_answer_rows(state: pipeline.AskState) -> pipeline.AskState:
    """pipeline.stage_answer for Rows, without the chart; a DataFrame goes through pipeline.stage_answer."""
    req = state.request
    frame = state.frame
    if not isinstance(frame, Rows) or state.compiled is None or not state.interpretation:
        return pipeline.stage_answer(replace(state, frame=as_frame(frame)))
    frame, masked = masked_for(req.ws, req.store, req.user, state.sql, frame)
    if masked or not isinstance(frame, Rows):  # a DataFrame now: the pipeline's own stage masks and answers
        return pipeline.stage_answer(replace(state, frame=as_frame(state.frame)))
    columns = pipeline.column_infos(state.compiled, state.plan)
    layer = state.resources.layer if state.resources is not None else None
    if state.plan is not None and layer is not None:
        columns = with_labels(columns, label_columns(state.plan, layer))
    view, view_columns = shown(frame, columns)
    tie = pipeline.tie_at_cut(state, frame, columns)
    answer = Answer(
        question=req.question,
        plan=state.plan,
        sql=state.sql,
        frame=frame,
        columns=columns,
        row_count=len(frame),
        cached=state.cached,
        elapsed_ms=(time.perf_counter() - state.started) * 1000,
        explanation=explain(view, view_columns),
        insights=find_insights(view, view_columns),
        chart=None,
        model_version=(
            state.resources.version_label
            if state.resources and state.resources.version_label
            else state.model_version
        ),
        from_semantic_layer=True,
        truncated=state.truncated,
        plan_source=state.plan_source,
        interpretation=pipeline.interpretation_shown(
            state.interpretation, state.truncated, req.ws.config.limits.row_cap, tie
        ),
    )
    return replace(state, answer=answer)


_REPLACED = {"execute": stage_execute_rows, "answer": stage_answer_rows}


def stages() -> tuple[tuple[str, Callable[[pipeline.AskState], pipeline.AskState]], ...]:
    """The pipeline's stages, in its order, with execute and answer replaced by their Rows versions."""
    return tuple((name, _REPLACED.get(name, stage)) for name, stage in pipeline.STAGES)


def ask_rows(
    ws: Workspace,
    question: str,
    *,
    user: str,
    store: Store,
    session_id: str = "",
    previous: QueryPlan | None = None,
    refresh: bool = False,
) -> Answer:
    """pipeline.ask for a face that prints the answer as JSON: its frame may be Rows and it has no chart."""
    request = pipeline.AskRequest(ws, question.strip(), user, store, session_id, previous, refresh)
    state = pipeline.run_stages(pipeline.AskState(request, time.perf_counter()), stages())
    return present(state.answer, "the answer (stage_answer runs before the end)")

"""Optional raw-SQL mode (llm.allow_raw_sql): for questions outside the semantic model, the LLM writes SQL.

The SQL is only ever text handed to the guard (`guard_sql` with the workspace's exposed tables and row cap):
one read-only SELECT or GuardRejected. Nothing the LLM writes is exec'd or eval'd. The answer is labelled
"not from the semantic layer" (Answer.from_semantic_layer is False, plan_source "llm-sql").

Stages: access → rate_limit → write_sql (LLM) → guard → execute → answer → label → record, reusing the
Ask pipeline's stages wherever they exist.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

from sqlglot import exp

from datatruth import access
from datatruth.ask import pipeline
from datatruth.ask.answer import Answer
from datatruth.errors import PlanningError, UserError, present
from datatruth.llm.client import LLMClient
from datatruth.llm.prompt import ColumnDoc, TableDoc, sql_prompt
from datatruth.store import audit
from datatruth.store.engine import Store
from datatruth.workspace.registry import Workspace

PLAN_SOURCE = "llm-sql"
LABEL = "Not from the semantic layer: an LLM wrote this SQL; the guard checked it before it ran."
MAX_TABLES = 40


def _comments_sql(dialect: str, table: str) -> str | None:
    name = exp.Literal.string(table.rpartition(".")[2]).sql(dialect=dialect)
    if dialect == "duckdb":
        return f"SELECT column_name, comment FROM duckdb_columns() WHERE table_name = {name}"
    if dialect == "postgres":
        return (
            "SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a "
            f"JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname = {name} AND a.attnum > 0"
        )
    if dialect == "mysql":
        return (
            "SELECT column_name, column_comment FROM information_schema.columns "
            f"WHERE table_schema = DATABASE() AND table_name = {name}"
        )
    return None


def table_docs(ws: Workspace) -> tuple[TableDoc, ...]:
    """The exposed tables with their columns and the database's column comments (for the raw-SQL prompt)."""
    warehouse = ws.warehouse
    out = []
    for table in sorted(ws.exposed_tables())[:MAX_TABLES]:
        comments: dict[str, str] = {}
        sql = _comments_sql(warehouse.dialect, table)
        if sql is not None:
            frame = warehouse.run(sql, row_cap=1000).frame
            comments = {str(r[0]): str(r[1]) for r in frame.itertuples(index=False) if r[1] is not None}
        columns = tuple(ColumnDoc(n, t, comments.get(n, "")) for n, t in warehouse.columns(table))
        out.append(TableDoc(table, columns))
    return tuple(out)


def parse_sql_reply(content: str) -> str:
    """The SQL text of the LLM's JSON reply; PlanningError when it is not JSON or declines."""
    try:
        data = json.loads(content)
    except json.JSONDecodeError as err:
        raise PlanningError(
            "the LLM's answer was not valid JSON", f"{err.msg}; ask again or rephrase"
        ) from None
    sql = data.get("sql") if isinstance(data, dict) else None
    if not isinstance(sql, str) or not sql.strip():
        reason = str(data.get("reason", "") if isinstance(data, dict) else "")[:200]
        raise PlanningError(
            "the LLM could not write SQL for this question" + (f": {reason}" if reason else ""),
            "ask in terms of the workspace's metrics and dimensions",
        )
    return sql.strip()


def _stage_access(state: pipeline.AskState) -> pipeline.AskState:
    """LLM-written SQL is raw SQL: it needs the analyst role, like SQL typed by hand."""
    req = state.request
    if not req.question.strip():
        raise UserError("the question is empty", "type a question")
    access.require(req.store, req.ws.name, req.user, "sql")
    return replace(state, resources=pipeline.sql_resources(req.ws), model_version=pipeline.RAW_SQL_VERSION)


def _writer(client: LLMClient) -> Any:
    def stage_write_sql(state: pipeline.AskState) -> pipeline.AskState:
        """Ask the LLM for one SELECT over the exposed tables; the text goes to the guard next, nothing else."""
        ws = state.request.ws
        request = sql_prompt(
            state.request.question,
            table_docs(ws),
            dialect=ws.warehouse.dialect,
            today=ws.config.today().isoformat(),
            row_cap=ws.config.limits.row_cap,
        )
        sql = parse_sql_reply(client.complete_json(request).content)
        audit.record(state.request.store, ws.name, state.request.user, "llm.sql", sql[:400])
        return replace(state, sql=sql, plan_source=PLAN_SOURCE)

    return stage_write_sql


def _stage_label(state: pipeline.AskState) -> pipeline.AskState:
    """Say plainly that the numbers did not come through the semantic layer."""
    given = present(state.answer, "the answer (stage_answer runs first)")
    answer = replace(
        given,
        from_semantic_layer=False,
        plan_source=PLAN_SOURCE,
        explanation=f"{LABEL}\n\n{given.explanation}".strip(),
    )
    return replace(state, answer=answer)


def ask_raw_sql(
    ws: Workspace,
    question: str,
    *,
    user: str,
    store: Store,
    client: LLMClient | None = None,
    session_id: str = "",
) -> Answer:
    """Answer a question with LLM-written SQL through the guard (needs llm.allow_raw_sql)."""
    if not ws.config.llm.enabled or not ws.config.llm.allow_raw_sql:
        raise UserError(
            f"raw-SQL answers are off in workspace '{ws.name}'",
            "set llm.allow_raw_sql: true (and an llm.provider) in workspace.yaml",
        )
    client = client or LLMClient(ws.config.llm)
    stages = (
        ("access", _stage_access),
        ("rate_limit", pipeline.stage_rate_limit),
        ("plan", _writer(client)),
        ("guard", pipeline.stage_guard),
        ("execute", pipeline.stage_execute),
        ("answer", pipeline.stage_answer),
        ("label", _stage_label),
        ("record", pipeline.stage_record),
    )
    request = pipeline.AskRequest(ws, question.strip(), user, store, session_id)
    state = pipeline.run_stages(pipeline.AskState(request, time.perf_counter()), stages)
    return present(state.answer, "the answer (the last stages make it)")


def answer(
    ws: Workspace,
    question: str,
    *,
    user: str,
    store: Store,
    planner: Any = None,
    client: LLMClient | None = None,
    session_id: str = "",
) -> Answer:
    """Semantic layer first (rules, then the LLM planner); raw SQL only when both fail and the workspace allows it."""
    try:
        return pipeline.ask(ws, question, user=user, store=store, llm_planner=planner, session_id=session_id)
    except PlanningError:
        # A viewer keeps the planner's own answer (what it understood, the choices): raw SQL is for analysts.
        if not (
            ws.config.llm.enabled and ws.config.llm.allow_raw_sql and access.can(store, ws.name, user, "sql")
        ):
            raise
    return ask_raw_sql(ws, question, user=user, store=store, client=client, session_id=session_id)

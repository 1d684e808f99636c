"""The Ask pipeline: a question in, an Answer out, as a list of named stages over frozen state.

    access → rate_limit → plan → compile → guard → execute (result cache or warehouse) → answer → record

Each stage is a small function `AskState -> AskState`; `ask()` runs them in order and times each one.
`run_sql()` is the analyst's raw-SQL path: the same guard, cache and answer stages, no planner.

LLM hook: an `LLMPlanner` (question, layer, PlanContext) -> QueryPlan | None, passed to `ask()` or installed
with `register_llm_planner()`, is tried only when the workspace configures an LLM and the deterministic
planner refuses the question or answers it through a low-confidence reading (a typo, a partial name, a
meaning from the vector index); questions the rules read with confidence never call it. Its plan is checked
like any input (names, consistency, compile); when it returns None or fails a check, the rules' outcome
(their refusal with its choices, or their low-confidence plan) stands. Every answer carries an
interpretation in words that says who planned it.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from datatruth import access, resources
from datatruth.ask import ratelimit
from datatruth.ask.answer import Answer, AnswerColumn
from datatruth.ask.cache import CacheKey, ResultCache, cache_for
from datatruth.ask.charts import choose_chart
from datatruth.ask.explain import explain
from datatruth.ask.insights import find_insights
from datatruth.ask.masking import masked_for
from datatruth.ask.members import label_columns, shown, with_labels
from datatruth.ask.ties import tie_note
from datatruth.errors import PlanningError, UserError, WarehouseError, present
from datatruth.semantic.model import TIME_GRAINS, SemanticLayer
from datatruth.semantic.plan import QueryPlan
from datatruth.store import audit, history
from datatruth.store.engine import Store
from datatruth.warehouse import dataversion
from datatruth.workspace.registry import Workspace

if TYPE_CHECKING:
    import pandas as pd

    from datatruth.ask.meaning import ChoicePlanner

RAW_SQL_VERSION = "raw-sql"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlanContext:
    """What an LLM planner is told besides the question: workspace, previous plan, why the rules failed."""

    workspace: str
    today: str
    previous: QueryPlan | None = None
    deterministic_error: PlanningError | None = None
    rules_plan: QueryPlan | None = None  # the rules' plan when it rests on a low-confidence reading


LLMPlanner = Callable[[str, SemanticLayer, PlanContext], "QueryPlan | None"]


class PlanMaker(Protocol):
    """What plans a question by rules: `RulePlanner` (datatruth.ask.planner), or a `ChoicePlanner` around it."""

    def plan(self, question: str, previous: QueryPlan | None = None) -> QueryPlan: ...

    def complete(self, err: PlanningError, question: str) -> PlanningError: ...


@dataclass(frozen=True)
class Resources:
    """What a workspace needs for every question, built once per process and model state."""

    layer: SemanticLayer | None  # None for raw SQL
    cache: ResultCache
    allowed_tables: frozenset[str]
    version_label: str = ""  # "v3" from the stored semantic versions; the content hash keys the cache


@dataclass(frozen=True)
class AskRequest:
    """The question and who asks it."""

    ws: Workspace
    question: str
    user: str
    store: Store
    session_id: str = ""
    previous: QueryPlan | None = None
    refresh: bool = False
    llm_planner: LLMPlanner | None = None


@dataclass(frozen=True)
class AskState:
    """Everything known so far about one question; each stage returns a copy with more filled in."""

    request: AskRequest
    started: float
    resources: Resources | None = None
    plan: QueryPlan | None = None
    plan_source: str = "deterministic"
    rules_error: PlanningError | None = None  # why the rules failed when the LLM planned instead
    interpretation: str = ""
    compiled: Any = None  # datatruth.semantic.compiler.CompiledQuery
    sql: str = ""
    model_version: str = ""
    frame: pd.DataFrame | None = None
    truncated: bool = False
    cached: bool = False
    answer: Answer | None = None
    timings: tuple[tuple[str, float], ...] = ()
    history_id: int | None = None  # the history entry the rate limit took for this question


# -- resources, built once per workspace and model state ---------------------------------------------------

_LLM_HOOK: list[LLMPlanner] = []


def register_llm_planner(planner: LLMPlanner | None) -> None:
    """Install (or with None remove) the LLM planner tried when the rules cannot plan and an LLM is configured."""
    _LLM_HOOK.clear()
    if planner is not None:
        _LLM_HOOK.append(planner)


def _model_state(ws: Workspace, store: Store) -> tuple:
    # Files can change under a running app (the Semantic Layer page saves them); their sizes and times
    # say when to reload, and the stored version number says when a restore happened.
    parts: list[Any] = []
    for root in ws.config.semantic_models:
        files = sorted(Path(root).rglob("*.y*ml")) if Path(root).is_dir() else [Path(root)]
        for path in files:
            if path.exists():
                stat = path.stat()
                parts.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(parts)


def workspace_resources(ws: Workspace, store: Store) -> Resources:
    """The activated semantic layer, result cache and exposed tables of a workspace (memoised)."""
    state = _model_state(ws, store)
    return resources.get(
        "layer",
        ws.name,
        lambda: _build_resources(ws, store, state),
        slot=resources.workspace_stamp(ws),
        version=state,
    )


def _build_resources(ws: Workspace, store: Store, state: tuple) -> Resources:
    from datatruth.ask import snapshot
    from datatruth.semantic.validate import activate

    layer, tables = snapshot.activated_layer(
        ws, state, lambda: (activate(ws), frozenset(ws.exposed_tables()))
    )
    label = layer.version_hash
    if importlib.util.find_spec("datatruth.semantic.versions") is not None:
        from datatruth.semantic.versions import current_version

        # Also records a new version when the files changed on disk; resources are rebuilt on such a change.
        label = f"v{current_version(store, ws)}"
    cache = cache_for(ws.data_dir, ws.config.limits.cache_ttl_s)
    cache.purge_other_versions((layer.version_hash, RAW_SQL_VERSION))
    return Resources(layer, cache, tables, label)


def sql_resources(ws: Workspace) -> Resources:
    """Cache and exposed tables for raw SQL (no semantic layer or planner needed)."""

    def build() -> Resources:
        return Resources(
            None, cache_for(ws.data_dir, ws.config.limits.cache_ttl_s), frozenset(ws.exposed_tables())
        )

    return resources.get("sql", ws.name, build, slot=resources.workspace_stamp(ws))


# -- stages ------------------------------------------------------------------------------------------------


def stage_access(state: AskState) -> AskState:
    """The user must be allowed to ask here; then load the workspace's resources."""
    req = state.request
    if not req.question.strip():
        raise UserError("the question is empty", "type a question, e.g. 'revenue by month last year'")
    from datatruth.ask.planner import check_length

    access.require(req.store, req.ws.name, req.user, "ask")
    found = workspace_resources(req.ws, req.store)
    try:
        check_length(req.question)  # before the quota: an essay or SQL text is not a question
    except PlanningError as err:
        if found.layer is None:
            raise
        raise planner_for(req.ws, req.store, found.layer, user=req.user).complete(err, req.question) from None
    return replace(state, resources=found)


def stage_rate_limit(state: AskState) -> AskState:
    """Take the question from the user's hourly quota (refused when used up); check and count are one step."""
    req = state.request
    entry, _quota = ratelimit.take(
        req.store, req.ws.name, req.ws.config.limits, req.user, req.question, session_id=req.session_id
    )
    return replace(state, history_id=entry)


def planner_for(ws: Workspace, store: Store, layer: SemanticLayer, user: str | None = None) -> ChoicePlanner:
    """The workspace's deterministic planner (with `user`'s own proposed synonyms), backed by the vector index for
    words fuzzy matching can't place."""
    from datatruth.ask.meaning import ChoicePlanner
    from datatruth.ask.planner import build_planner
    from datatruth.vector.index import term_resolver

    # The rules planner is memoised by model version and learned synonyms; the resolver only loads the
    # embedding model when a word stays unplaced, and what it finds is offered as a choice, never answered.
    return ChoicePlanner(
        build_planner(ws, store=store, layer=layer, user=user), term_resolver(ws, store=store, layer=layer)
    )


def verified_answer(req: AskRequest, layer: SemanticLayer) -> Any:
    """The verified question (of the model, or the asker's own open proposal) that answers this question with its
    period and values filled in, or None. Follow-ups of a previous answer are left to the planner."""
    from datatruth.ask.followup import is_followup
    from datatruth.ask.planner import build_planner
    from datatruth.ask.verified import candidates_for, match

    candidates = candidates_for(layer, req.store, req.ws.name, req.user)
    if not candidates:
        return None
    ctx = build_planner(req.ws, store=req.store, layer=layer, user=req.user).context
    if req.previous is not None and is_followup(req.question, ctx):
        return None
    return match(req.question, ctx, candidates)


def _llm_for(req: AskRequest) -> LLMPlanner | None:
    """The LLM planner to try: the caller's, a registered hook, or the workspace's own when it configures one."""
    if req.llm_planner is not None:
        return req.llm_planner
    if _LLM_HOOK:
        return _LLM_HOOK[0]
    if not req.ws.config.llm.enabled:
        return None
    from datatruth.llm.planner import LLMQueryPlanner

    return resources.get(
        "llm-planner",
        req.ws.name,
        lambda: LLMQueryPlanner(req.ws, store=req.store),
        slot=resources.workspace_stamp(req.ws),
    )


def stage_plan(state: AskState) -> AskState:
    """Words → QueryPlan: the rules first; an LLM (when configured) when they refuse or read with low confidence."""
    from datatruth.ask.consistency import check_plan
    from datatruth.ask.interpret import interpret
    from datatruth.ask.planner import interpretation_of, low_confidence

    req, res = state.request, present(state.resources, "the workspace's resources (stage_access runs first)")
    layer = present(res.layer, "the semantic layer")
    found = verified_answer(req, layer)
    if found is not None:
        # checked like every plan (consistency and compile in the matcher, the guard after it)
        return replace(
            state,
            plan=found.plan,
            plan_source="verified",
            interpretation=interpret(found.plan, layer, verified=found.candidate.note),
        )
    llm = _llm_for(req) if req.ws.config.llm.enabled else None
    try:
        planner = planner_for(req.ws, req.store, layer, user=req.user)
        plan = planner.plan(req.question, previous=req.previous)
    except PlanningError as err:
        if llm is None:
            raise
        context = PlanContext(req.ws.name, req.ws.config.today().isoformat(), req.previous, err)
        proposed = llm(req.question, layer, context)
        if proposed is None or check_plan(proposed, layer):
            raise
        # The LLM's plan is checked like any input: the compile stage rejects unknown names.
        return replace(
            state,
            plan=proposed,
            plan_source="llm",
            rules_error=err,
            interpretation=interpretation_of(proposed, layer, "llm"),
        )
    if llm is not None and low_confidence(plan):
        context = PlanContext(req.ws.name, req.ws.config.today().isoformat(), req.previous, None, plan)
        proposed = llm(req.question, layer, context)
        if proposed is not None and not check_plan(proposed, layer):
            return replace(
                state,
                plan=proposed,
                plan_source="llm",
                interpretation=interpretation_of(proposed, layer, "llm"),
            )
    return replace(state, plan=plan, interpretation=interpretation_of(plan, layer))


def stage_compile(state: AskState) -> AskState:
    """QueryPlan → SQL in the warehouse's dialect."""
    from datatruth.semantic.compiler import compile_plan

    res = present(state.resources, "the workspace's resources (stage_access runs first)")
    layer, plan = (
        present(res.layer, "the semantic layer"),
        present(state.plan, "the plan (stage_plan runs first)"),
    )
    try:
        compiled = compile_plan(plan, layer, state.request.ws.warehouse.dialect)
    except UserError as err:
        if state.rules_error is None:
            raise
        # An LLM plan that names things the model lacks is refused; the rules' own explanation is more useful.
        rules = state.rules_error
        raise PlanningError(
            rules.message,
            f"{rules.hint} (the LLM's plan was rejected too: {err.message})".strip(),
            rules.suggestions,
            rules.unmatched,
        ) from err
    return replace(state, compiled=compiled, sql=compiled.sql, model_version=compiled.model_version)


@functools.lru_cache(maxsize=4096)
def _guarded(sql: str, dialect: str, tables: frozenset[str], row_cap: int) -> str:
    from datatruth.sql.guard import guard_sql

    return guard_sql(sql, dialect, allowed_tables=tables, row_cap=row_cap)


def stage_guard(state: AskState) -> AskState:
    """Only one read-only SELECT over exposed tables, with the row cap, may run."""
    ws, res = (
        state.request.ws,
        present(state.resources, "the workspace's resources (stage_access runs first)"),
    )
    # Same SQL, tables and cap give the same verdict, so verdicts are memoised (a warm answer stays fast).
    # The guard caps at row_cap + 1 so the executor, which keeps row_cap rows, can tell that rows were cut.
    return replace(
        state, sql=_guarded(state.sql, ws.warehouse.dialect, res.allowed_tables, ws.config.limits.row_cap + 1)
    )


def stage_execute(state: AskState) -> AskState:
    """Serve the result from the cache when fresh, else run it on the warehouse and cache it."""
    ws, res = (
        state.request.ws,
        present(state.resources, "the workspace's resources (stage_access runs first)"),
    )
    # The data version makes results of data that has since changed (a load, a rewritten DuckDB file) misses.
    key = CacheKey(
        state.sql,
        state.model_version,
        f"{ws.warehouse.identity}#{dataversion.stamp(ws.data_dir, ws.config.warehouse_url)}",
    )
    if not state.request.refresh:
        hit = res.cache.get(key)
        if hit is not None:
            return replace(state, frame=hit.frame, truncated=hit.truncated, cached=True)
    limits = ws.config.limits
    result = ws.warehouse.run(state.sql, row_cap=limits.row_cap, timeout_s=limits.timeout_s)
    res.cache.put(key, result.frame, result.truncated)
    return replace(state, frame=result.frame, truncated=result.truncated, cached=False)


def column_infos(compiled: Any, plan: QueryPlan | None) -> tuple[AnswerColumn, ...]:
    """The compiler's output columns with time columns told apart from other dimensions."""
    time_columns = {d.column for d in plan.dimensions if d.grain in TIME_GRAINS} if plan else set()
    out = []
    for col in compiled.columns:
        role = "time" if col.role == "dimension" and col.name in time_columns else col.role
        out.append(
            AnswerColumn(
                col.name, role, col.format, col.label, col.additive if col.role == "metric" else None
            )
        )
    return tuple(out)


def infer_columns(frame: pd.DataFrame) -> tuple[AnswerColumn, ...]:
    """Roles of raw-SQL result columns from their types: dates are time, numbers are metrics."""
    import pandas as pd

    out = []
    for name in frame.columns:
        series = frame[name]
        sample = series.dropna().head(1).tolist()
        if pd.api.types.is_datetime64_any_dtype(series) or (sample and hasattr(sample[0], "isoformat")):
            role = "time"
        elif (
            pd.api.types.is_numeric_dtype(series)
            and not pd.api.types.is_bool_dtype(series)
            or (sample and type(sample[0]).__name__ == "Decimal")
        ):
            role = "metric"
        else:
            role = "dimension"
        out.append(AnswerColumn(str(name), role, "number" if role == "metric" else None))
    return tuple(out)


def said_counts(plan: QueryPlan | None, frame: Any, truncated: bool) -> None:
    """Refuse an answer whose members do not number what the question said ("the three origin airports")."""
    if plan is None or truncated:
        return
    for e in plan.evidence:
        if e.kind != "members":
            continue
        n, column = e.target.split(" ", 1)
        if column in frame.columns and (found := frame[column].nunique(dropna=False)) != int(n):
            raise PlanningError(
                f"the question says '{e.phrase}', but the answer has {found} of them",
                "ask without the number, or name the ones you mean",
            )


def stage_answer(state: AskState) -> AskState:
    """Chart, insights and explanation from the frame."""
    req = state.request
    result = present(state.frame, "the result (stage_execute runs first)")
    said_counts(state.plan, result, state.truncated)
    # Sensitive columns are masked by role before anything (chart, insights, explanation) is built from rows.
    frame, masked = masked_for(req.ws, req.store, req.user, state.sql, result)
    columns = column_infos(state.compiled, state.plan) if state.compiled is not None else infer_columns(frame)
    layer = state.resources.layer if state.resources is not None else None
    if state.plan is not None and layer is not None:
        columns = with_labels(columns, label_columns(state.plan, layer))
    # people read members by label (the key only where labels repeat); the answer keeps every column
    view, view_columns = shown(frame, columns)
    # a masked result says nothing more about its rows; an unmasked one names a tie at a "top N" cut
    tie = "" if masked else tie_at_cut(state, frame, columns)
    title = ", ".join(c.title for c in columns if c.role == "metric")
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
        chart=choose_chart(view, view_columns, title[:80]),
        model_version=(
            state.resources.version_label
            if state.resources and state.resources.version_label
            else state.model_version
        ),
        from_semantic_layer=state.compiled is not None,
        truncated=state.truncated,
        plan_source=state.plan_source,
        interpretation=interpretation_shown(
            state.interpretation or "Your SQL, run as written (not from the semantic layer)",
            state.truncated,
            req.ws.config.limits.row_cap,
            tie,
        ),
    )
    return replace(state, answer=answer)


def tie_at_cut(state: AskState, frame: Any, columns: tuple[AnswerColumn, ...]) -> str:
    """The sentence naming a tie at the cut of a "top N" answer of the semantic layer, or ""."""
    res = state.resources
    if state.compiled is None or res is None or res.layer is None:
        return ""

    def run_wider(plan: QueryPlan) -> Any:
        # the wider plan takes Ask's own steps (compiled, guarded, cached), so it cannot drift from the answer
        wider = replace(state, plan=plan, frame=None, truncated=False, cached=False)
        try:
            return stage_execute(stage_guard(stage_compile(wider))).frame
        except WarehouseError as err:
            log.warning("tie check skipped: %s", err.message)
            return None

    return tie_note(state.plan, frame, columns, run_wider)


def interpretation_shown(text: str, truncated: bool, cap: int, tie: str = "") -> str:
    """The interpretation as shown: saying when the row cap cut the result, and naming a tie at the cut."""
    if truncated:
        text = f"{text} — showing the first {cap:,} rows (the workspace's row cap)"
    return f"{text} — {tie}" if tie else text


def stage_record(state: AskState) -> AskState:
    """Write the question to the history (which also feeds the rate limit)."""
    req, answer = state.request, present(state.answer, "the answer (stage_answer runs first)")
    entry = _record_outcome(
        state,
        sql=answer.sql,
        plan=answer.plan.to_dict() if answer.plan else None,
        model_version=answer.model_version,
        row_count=answer.row_count,
        elapsed_ms=answer.elapsed_ms,
        cached=answer.cached,
    )
    # The audit keeps the question and its SQL, never the result rows.
    audit.record(
        req.store,
        req.ws.name,
        req.user,
        "ask",
        req.question[:400],
        {"sql": answer.sql[:4000], "history_id": entry, "plan_source": state.plan_source},
    )
    return replace(state, answer=replace(answer, history_id=entry))


def _record_outcome(state: AskState, **outcome: Any) -> int:
    """Complete the history entry the rate limit took (or add one when no quota stage ran); return its id."""
    req = state.request
    if state.history_id is not None:
        history.complete(req.store, req.ws.name, state.history_id, **outcome)
        return state.history_id
    return history.add(req.store, req.ws.name, req.user, req.question, session_id=req.session_id, **outcome)


STAGES: tuple[tuple[str, Callable[[AskState], AskState]], ...] = (
    ("access", stage_access),
    ("rate_limit", stage_rate_limit),
    ("plan", stage_plan),
    ("compile", stage_compile),
    ("guard", stage_guard),
    ("execute", stage_execute),
    ("answer", stage_answer),
    ("record", stage_record),
)
# A failure in these stages is still written to the history: it counted as a question.
_RECORDED_FAILURES = {"plan", "compile", "guard", "execute", "answer"}


def run_stages(state: AskState, stages: tuple[tuple[str, Callable[[AskState], AskState]], ...]) -> AskState:
    """Run `stages` in order, timing each; a failed question is recorded in the history before re-raising."""
    for name, stage in stages:
        began = time.perf_counter()
        try:
            state = stage(state)
        except UserError as err:
            if name in _RECORDED_FAILURES or state.history_id is not None:
                req = state.request
                _record_outcome(
                    state,
                    sql=state.sql or None,
                    plan=state.plan.to_dict() if state.plan else None,
                    elapsed_ms=(time.perf_counter() - state.started) * 1000,
                    error=err.message[:500],
                )
                audit.record(
                    req.store,
                    req.ws.name,
                    req.user,
                    "ask.failed",
                    req.question[:400],
                    {"stage": name, "error": err.message[:500], "sql": (state.sql or "")[:4000]},
                )
            raise
        state = replace(state, timings=state.timings + ((name, (time.perf_counter() - began) * 1000),))
    return state


def ask(
    ws: Workspace,
    question: str,
    *,
    user: str,
    store: Store,
    session_id: str = "",
    previous: QueryPlan | None = None,
    refresh: bool = False,
    llm_planner: LLMPlanner | None = None,
) -> Answer:
    """Answer a plain-words question from the workspace's warehouse through its semantic layer."""
    request = AskRequest(ws, question.strip(), user, store, session_id, previous, refresh, llm_planner)
    state = run_stages(AskState(request, time.perf_counter()), STAGES)
    return present(state.answer, "the answer (the last stages make it)")


def plan_only(
    ws: Workspace, question: str, *, store: Store, previous: QueryPlan | None = None
) -> tuple[QueryPlan, str]:
    """Plan and compile without running (no quota, no history): for benchmarks and the plan preview."""
    request = AskRequest(ws, question.strip(), "", store, previous=previous)
    state = AskState(request, time.perf_counter(), resources=workspace_resources(ws, store))
    from datatruth.ask.planner import check_length

    check_length(question)
    state = stage_compile(stage_plan(state))
    return present(state.plan, "the plan"), state.sql


# -- raw SQL -----------------------------------------------------------------------------------------------


def stage_sql_access(state: AskState) -> AskState:
    """Only analysts and admins may run their own SQL; every run is audited."""
    req = state.request
    if not req.question.strip():
        raise UserError("the SQL is empty", "type one SELECT statement")
    access.require(req.store, req.ws.name, req.user, "sql")
    audit.record(req.store, req.ws.name, req.user, "sql.run", req.question[:400])
    return replace(state, resources=sql_resources(req.ws), sql=req.question, model_version=RAW_SQL_VERSION)


def stage_sql_record(state: AskState) -> AskState:
    """Complete the raw-SQL run's history entry (it counts against the same hourly quota as questions)."""
    answer = present(state.answer, "the answer (stage_answer runs first)")
    entry = _record_outcome(
        state,
        sql=answer.sql,
        model_version=answer.model_version,
        row_count=answer.row_count,
        elapsed_ms=answer.elapsed_ms,
        cached=answer.cached,
    )
    return replace(state, answer=replace(answer, history_id=entry))


# Raw SQL shares the question quota: every run that reaches the guard counts, successful or not.
SQL_STAGES: tuple[tuple[str, Callable[[AskState], AskState]], ...] = (
    ("access", stage_sql_access),
    ("rate_limit", stage_rate_limit),
    ("guard", stage_guard),
    ("execute", stage_execute),
    ("answer", stage_answer),
    ("record", stage_sql_record),
)


def run_sql(ws: Workspace, sql: str, *, user: str, store: Store, refresh: bool = False) -> Answer:
    """Run an analyst's own SQL through the guard and the cache (audited; not a semantic-layer answer)."""
    request = AskRequest(ws, sql.strip(), user, store, refresh=refresh)
    state = run_stages(AskState(request, time.perf_counter()), SQL_STAGES)
    return present(state.answer, "the answer (the last stages make it)")


def suggestion_kind(ws: Workspace, store: Store, target: str) -> str:
    """Whether a "did you mean" choice names a metric, a dimension or a value (for learning a synonym)."""
    layer = workspace_resources(ws, store).layer
    if layer is not None and layer.has_metric(target):
        return "metric"
    if layer is not None and layer.has_dimension(target):
        return "dimension"
    return "value"


def learnable_choice(
    ws: Workspace, store: Store, question: str, term: str, choice: str
) -> tuple[str, str] | None:
    """(kind, name) when a choice is the question with the unplaced `term` replaced by the label or name of one
    metric or dimension: picking it teaches that `term` means that name. None for any other choice."""
    if not term or term not in question:
        return None
    start = question.index(term)
    before, after = question[:start], question[start + len(term) :]
    if not (choice.startswith(before) and choice.endswith(after)) or len(choice) <= len(before) + len(after):
        return None
    words = choice[len(before) : len(choice) - len(after)].strip().lower()
    layer = workspace_resources(ws, store).layer
    if layer is None:
        return None
    for m in layer.metrics:
        if words in {m.name.replace("_", " "), (m.label or "").lower()}:
            return "metric", m.name
    for qd in layer.dimensions():
        if words in {qd.dimension.name.replace("_", " "), (qd.dimension.label or "").lower()}:
            return "dimension", qd.name
    return None


def stage_names() -> list[str]:
    """The names of the Ask stages, in order (shown in docs and timings)."""
    return [name for name, _ in STAGES]


def timings_of(state: AskState) -> dict[str, float]:
    """Milliseconds per stage of a finished state."""
    return dict(state.timings)


__all__ = [
    "Answer",
    "AskState",
    "PlanContext",
    "Resources",
    "ask",
    "column_infos",
    "plan_only",
    "register_llm_planner",
    "run_sql",
    "run_stages",
    "workspace_resources",
]

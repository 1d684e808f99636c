"""The optional LLM planner: asks the workspace's LLM for a QueryPlan and checks it like user input.

Plugs into the Ask pipeline as its `LLMPlanner` hook (`planner(question, layer, PlanContext) -> QueryPlan | None`),
which is tried only when the deterministic planner fails. Stages: slice the catalog (vector index) → prompt →
chat (timeout, retries) → parse (json.loads + QueryPlan.from_dict) → check names against the model → compile.
Any failure — the LLM down, slow, refusing, answering nonsense or naming an unknown metric — yields None, so the
deterministic outcome stands untouched. The LLM never adds a metric: every name must already exist.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, replace
from typing import Any

from datatruth import resources
from datatruth.ask.pipeline import PlanContext
from datatruth.errors import UserError
from datatruth.llm.client import ChatRequest, LLMClient, LLMRefused
from datatruth.llm.prompt import CatalogSlice, Example, plan_prompt
from datatruth.semantic.model import METRIC_TIME, SemanticLayer
from datatruth.semantic.plan import Evidence, QueryPlan

log = logging.getLogger(__name__)

TOP_K = 8  # metrics and dimensions each shown to the model from a large catalog
SMALL_CATALOG = 40  # at or below this many names, the whole catalog is shown
MAX_EXAMPLES = 3
EXAMPLE_MIN_SCORE = 0.35

OUTCOMES = ("planned", "unavailable", "refused", "malformed", "unanswerable", "invalid")


@dataclass(frozen=True)
class Proposal:
    """What the LLM proposed for a question and what became of it (plan only when outcome is `planned`)."""

    question: str
    outcome: str
    plan: QueryPlan | None = None
    detail: str = ""
    attempts: int = 0
    elapsed_ms: float = 0.0
    request: ChatRequest | None = None


def plan_issues(plan: QueryPlan, layer: SemanticLayer) -> list[str]:
    """Every name in an LLM plan that the semantic model does not know (all issues, not just the first)."""
    issues: list[str] = []
    metrics = set(layer.metric_names())
    issues += [f"unknown metric '{m}'" for m in plan.metrics if m not in metrics]
    if plan.adhoc_metrics:
        issues.append("ad-hoc metric expressions are not accepted from an LLM")

    def known_dim(name: str) -> bool:
        return name == METRIC_TIME or layer.has_dimension(name)

    issues += [f"unknown dimension '{d.name}'" for d in plan.dimensions if not known_dim(d.name)]
    issues += [
        f"unknown filter dimension '{f.dimension}'" for f in plan.filters if not known_dim(f.dimension)
    ]
    issues += [
        f"unknown result filter dimension '{f.dimension}'"
        for f in plan.result_filters
        if not known_dim(f.dimension)
    ]
    if plan.time_dimension and not known_dim(plan.time_dimension):
        issues.append(f"unknown time dimension '{plan.time_dimension}'")
    issues += [
        f"unknown aggregate column '{a.dimension}'"
        for a in plan.aggregates
        if a.dimension == METRIC_TIME or not layer.has_dimension(a.dimension)
    ]
    issues += [
        f"unknown aggregate model '{a.over}'"
        for a in plan.aggregates
        if a.over is not None and a.over not in {m.name for m in layer.models}
    ]
    issues += [
        f"unknown metric '{i.metric}' in ad-hoc input '{i.name}'"
        for a in plan.adhoc_metrics
        for i in a.inputs
        if i.metric not in metrics
    ]
    issues += [
        f"unknown filter dimension '{f.dimension}' in ad-hoc input '{i.name}'"
        for a in plan.adhoc_metrics
        for i in a.inputs
        for f in i.filters
        if f.dimension != METRIC_TIME and not layer.has_dimension(f.dimension)
    ]
    issues += [f"unknown condition metric '{c.metric}'" for c in plan.conditions if c.metric not in metrics]
    issues += [
        f"unknown condition dimension '{name}'"
        for c in plan.conditions
        for name in (c.dimension, *c.together)
        if not layer.has_dimension(name)
    ]
    if plan.entity is not None and plan.entity not in {m.name for m in layer.models}:
        issues.append(f"unknown model '{plan.entity}'")
    columns = set(plan.outputs) | {d.column for d in plan.dimensions} | {d.name for d in plan.dimensions}
    issues += [f"order key '{o.key}' is not an output column" for o in plan.order if o.key not in columns]
    return issues


def parse_plan(content: str) -> tuple[str, QueryPlan | None, str]:
    """(outcome, plan, detail) from the LLM's JSON text: malformed, unanswerable or a type-checked plan."""
    try:
        data = json.loads(content)
    except json.JSONDecodeError as err:
        return "malformed", None, f"not JSON: {err.msg} at character {err.pos}"
    if isinstance(data, dict) and "plan" in data and set(data) <= {"plan", "reason"}:
        if data["plan"] is None:
            return "unanswerable", None, str(data.get("reason") or "")[:300]
        data = data["plan"]
    try:
        plan = QueryPlan.from_dict(data)
    except UserError as err:
        return "malformed", None, err.message[:300]
    return "planned", plan, ""


class LLMQueryPlanner:
    """The LLM planner of one workspace; call it like the pipeline's LLMPlanner hook."""

    def __init__(
        self, ws: Any, *, store: Any = None, client: LLMClient | None = None, use_index: bool = True
    ) -> None:
        self.ws = ws
        self.store = store
        self._client = client
        self.use_index = use_index
        self._lock = threading.Lock()
        self.last: Proposal | None = None

    @property
    def client(self) -> LLMClient:
        """The chat client, built on first use from the workspace's llm settings."""
        with self._lock:
            if self._client is None:
                self._client = LLMClient(self.ws.config.llm)
            return self._client

    def __call__(self, question: str, layer: SemanticLayer, context: PlanContext) -> QueryPlan | None:
        """The pipeline hook: a checked plan, or None to keep the deterministic outcome."""
        return self.propose(question, layer, context).plan

    def propose(self, question: str, layer: SemanticLayer, context: PlanContext) -> Proposal:
        """Ask the LLM and check its answer; the Proposal says what happened."""
        part, examples = self.catalog_slice(question, layer)
        why = context.deterministic_error.message if context.deterministic_error else ""
        request = plan_prompt(
            question, layer, part, today=context.today, examples=examples, why_rules_failed=why
        )
        try:
            reply = self.client.complete_json(request)
        except UserError as err:  # LLMUnavailable, LLMRefused: the rules' answer stands
            outcome = "refused" if isinstance(err, LLMRefused) else "unavailable"
            return self._done(Proposal(question, outcome, None, err.message, request=request))
        outcome, plan, detail = parse_plan(reply.content)
        if plan is not None:
            issues = plan_issues(plan, layer)
            if not issues:
                issues = self._compile_issues(plan, layer)
            if issues:
                outcome, plan, detail = "invalid", None, "; ".join(issues)[:500]
            else:
                note = Evidence(question[:200], "other", "planned by the LLM", 1.0, "llm")
                plan = replace(plan, evidence=(note,))
        return self._done(
            Proposal(question, outcome, plan, detail, reply.attempts, reply.elapsed_ms, request)
        )

    def _compile_issues(self, plan: QueryPlan, layer: SemanticLayer) -> list[str]:
        from datatruth.semantic.compiler import compile_plan

        try:
            compile_plan(plan, layer, self.ws.warehouse.dialect)
        except UserError as err:
            return [err.message]
        return []

    def _done(self, proposal: Proposal) -> Proposal:
        # Never the prompt or the key: the outcome and a short detail are enough to debug.
        log.info("llm plan for workspace %s: %s %s", self.ws.name, proposal.outcome, proposal.detail[:200])
        self.last = proposal
        return proposal

    def catalog_slice(self, question: str, layer: SemanticLayer) -> tuple[CatalogSlice, tuple[Example, ...]]:
        """The metrics and dimensions relevant to the question (all of them for a small model) and examples."""
        all_metrics, all_dims = layer.metric_names(), tuple(d.name for d in layer.dimensions())
        examples = tuple(
            Example(vq.question, json.dumps(dict(vq.plan), default=str))
            for vq in layer.verified_questions
            if vq.plan
        )[:MAX_EXAMPLES]
        index = self._index(layer) if self.use_index else None
        if index is None:
            return CatalogSlice(all_metrics[:SMALL_CATALOG], all_dims[:SMALL_CATALOG]), examples
        hits = index.search(question, k=4 * TOP_K)
        metrics: list[str] = []
        dims: list[str] = []
        values: list[tuple[str, str]] = []
        shots: list[Example] = []
        for hit in hits:
            kind = hit.target_kind if hit.kind in ("synonym", "value") else hit.kind
            if kind == "metric" and hit.name not in metrics and layer.has_metric(hit.name):
                metrics.append(hit.name)
            elif kind == "dimension" and hit.name not in dims and layer.has_dimension(hit.name):
                dims.append(hit.name)
            if hit.kind == "value":
                values.append((hit.name, hit.text))
            if hit.kind == "question" and hit.score >= EXAMPLE_MIN_SCORE and hit.detail.startswith("{"):
                shots.append(Example(hit.text, hit.detail))
        if len(all_metrics) + len(all_dims) <= SMALL_CATALOG:
            metrics, dims = list(all_metrics), list(all_dims)
        return (
            CatalogSlice(tuple(metrics[:TOP_K] or all_metrics[:TOP_K]), tuple(dims[:TOP_K]), tuple(values)),
            tuple(shots[:MAX_EXAMPLES]) or examples,
        )

    def _index(self, layer: SemanticLayer) -> Any:
        from datatruth.vector.embedder import EmbeddingModelMissing
        from datatruth.vector.index import VectorIndexUnavailable, open_index

        try:
            return open_index(self.ws, layer=layer, store=self.store)
        except (EmbeddingModelMissing, VectorIndexUnavailable) as err:
            log.warning("vector index unavailable (%s); showing the whole catalog", err.message)
            return None


def _load_planner(workspace: str) -> LLMQueryPlanner:
    from datatruth.store import open_store
    from datatruth.workspace.registry import load_workspace

    ws = load_workspace(workspace)
    return LLMQueryPlanner(ws, store=open_store(settings=ws.settings))


def workspace_hook(question: str, layer: SemanticLayer, context: PlanContext) -> QueryPlan | None:
    """A process-wide hook for `register_llm_planner`: finds the workspace by the name in the context."""
    # The hook knows only the workspace's name: its slot is the name's own, loaded with the process settings.
    planner = resources.get(
        "llm-planner", context.workspace, lambda: _load_planner(context.workspace), slot="by-name"
    )
    return planner(question, layer, context)


def install() -> None:
    """Register the LLM planner with the Ask pipeline (used by every workspace whose llm.provider is set)."""
    from datatruth.ask.pipeline import register_llm_planner

    register_llm_planner(workspace_hook)

"""The LLM as a model author: on an admin's request, it proposes synonyms, phrasings, descriptions and verified
questions from the schema and sample values. Every item is checked against the model (names exist, plans
compile) and stored as an ordinary proposal from "the LLM", for an admin to accept or reject; nothing it says
is ever applied by itself, and what it says is only ever data (names, words, plans), never SQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from datatruth import access
from datatruth.errors import UserError, present
from datatruth.llm.client import ChatRequest, LLMClient
from datatruth.llm.prompt import CatalogSlice, _Fence, _json_line, catalog_lines, data_rule
from datatruth.semantic.model import METRIC_TIME, SemanticLayer
from datatruth.store import proposals
from datatruth.store.engine import Store
from datatruth.store.proposals import Proposal
from datatruth.workspace.registry import Workspace

MAX_ITEMS = 20  # of each kind kept from one answer
MAX_WORDS = 60  # characters of a proposed word or phrase

_WORDS = {"type": "array", "items": {"type": "string"}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "synonyms": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"term": {"type": "string"}, "target": {"type": "string"}},
                "required": ["term", "target"],
            },
        },
        "phrasings": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "words": _WORDS,
                    "metric": {"type": ["string", "null"]},
                    "model": {"type": ["string", "null"]},
                    "description": {"type": "string"},
                },
                "required": ["words"],
            },
        },
        "descriptions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"metric": {"type": "string"}, "description": {"type": "string"}},
                "required": ["metric", "description"],
            },
        },
        "verified_questions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"question": {"type": "string"}, "plan": {"type": "object"}},
                "required": ["question", "plan"],
            },
        },
    },
    "required": ["synonyms", "phrasings", "descriptions", "verified_questions"],
}


@dataclass(frozen=True)
class Drafted:
    """What one request to the LLM produced: the proposals kept and why the others were dropped."""

    proposed: tuple[Proposal, ...]
    dropped: tuple[str, ...]


def author_prompt(layer: SemanticLayer, *, today: str) -> ChatRequest:
    """The request: the whole catalog (descriptions and sample values fenced as data) and what to propose."""
    part = CatalogSlice(tuple(layer.metric_names()), tuple(d.name for d in layer.dimensions()))
    metrics, dims = catalog_lines(layer, part)
    models = [_json_line({"model": m.name, "description": m.description[:300]}) for m in layer.models]
    fence = _Fence(metrics + dims + models)
    system = "\n".join(
        [
            "You help an administrator describe a semantic layer so that people's plain-words questions are understood.",
            "Propose, from the catalog: synonyms (a word people use → the exact name of one metric or dimension), "
            "phrasings (verbs or adjectives → a metric or a model whose rows they mean), short descriptions of "
            "metrics that have none, and up to five verified questions with their query plans.",
            "A plan is {metrics: [names], dimensions: [{name, grain}], filters: [{dimension, op, values}], "
            f"time_range: {{start, end, label}}, order: [{{key, descending}}], limit}}; time grouping is "
            f'{{"name": "{METRIC_TIME}", "grain": "month"}}.',
            "Use ONLY names listed in the catalog, spelled exactly. Never write SQL. Everything you propose is "
            "reviewed by a person before it is used.",
            f"Today is {today}.",
            data_rule(fence.tag),
        ]
    )
    user = "\n".join(
        [
            "Models (data):",
            fence.block("models", models),
            "Metrics (data):",
            fence.block("metrics", metrics),
            "Dimensions with sample values (data):",
            fence.block("dimensions", dims),
        ]
    )
    return ChatRequest(system=system, user=user, schema=SCHEMA, schema_name="model_proposals")


def _word(value: Any) -> str:
    text = " ".join(str(value or "").split())
    return text if 0 < len(text) <= MAX_WORDS and not any(c in text for c in ";`<>{}") else ""


def candidate_items(answer: Any, layer: SemanticLayer) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """(kind, payload) items from the LLM's answer that name only what the model has; reasons for the rest."""
    items: list[tuple[str, dict[str, Any]]] = []
    dropped: list[str] = []
    if not isinstance(answer, dict):
        return [], ["the answer is not a JSON object"]

    def listed(key: str) -> list[Any]:
        value = answer.get(key)
        return list(value)[:MAX_ITEMS] if isinstance(value, list) else []

    for s in listed("synonyms"):
        term, target = (
            _word(s.get("term") if isinstance(s, dict) else ""),
            str((s or {}).get("target", "")) if isinstance(s, dict) else "",
        )
        kind = "metric" if layer.has_metric(target) else "dimension" if layer.has_dimension(target) else ""
        if term and kind:
            items.append(("synonym", {"term": term.lower(), "target_kind": kind, "target": target}))
        else:
            dropped.append(f"synonym {s!r:.80}: unknown target or unusable word")
    for p in listed("phrasings"):
        if not isinstance(p, dict):
            continue
        words = (
            [w for w in (_word(x) for x in (p.get("words") or [])) if w]
            if isinstance(p.get("words"), list)
            else []
        )
        metric, model = p.get("metric"), p.get("model")
        ok_metric = metric is None or layer.has_metric(str(metric))
        ok_model = model is None or str(model) in {m.name for m in layer.models}
        if words and (metric or model) and ok_metric and ok_model:
            payload: dict[str, Any] = {"words": words}
            payload.update({k: str(v) for k, v in (("metric", metric), ("model", model)) if v})
            if _word(p.get("description")):
                payload["description"] = str(p["description"])[:300]
            items.append(("phrasing", payload))
        else:
            dropped.append(f"phrasing {p!r:.80}: no words, or an unknown metric or model")
    for d in listed("descriptions"):
        if (
            isinstance(d, dict)
            and layer.has_metric(str(d.get("metric", "")))
            and str(d.get("description", "")).strip()
        ):
            items.append(
                (
                    "description",
                    {
                        "target": str(d["metric"]),
                        "description": " ".join(str(d["description"]).split())[:300],
                    },
                )
            )
        else:
            dropped.append(f"description {d!r:.80}: unknown metric or empty")
    for q in listed("verified_questions"):
        if isinstance(q, dict) and _word(q.get("question")) and isinstance(q.get("plan"), dict):
            items.append(("verified_question", {"question": _word(q["question"]), "plan": q["plan"]}))
        else:
            dropped.append(f"verified question {q!r:.80}: no question or plan")
    return items, dropped


def draft_proposals(ws: Workspace, store: Store, admin: str, client: LLMClient | None = None) -> Drafted:
    """Admins: ask the workspace's LLM for proposals; keep those that pass the model's checks, as proposals."""
    from datatruth.ask.pipeline import workspace_resources
    from datatruth.teach.review import check_payload

    access.require(store, ws.name, admin, "review_teaching")
    layer = present(workspace_resources(ws, store).layer, "the semantic layer")
    client = client or LLMClient(ws.config.llm)
    reply = client.complete_json(author_prompt(layer, today=ws.config.today().isoformat()))
    try:
        answer = json.loads(reply.content)
    except json.JSONDecodeError as err:
        raise UserError(f"the LLM's answer is not JSON: {err.msg}", "try again, or check llm.model") from None
    items, dropped = candidate_items(answer, layer)
    kept: list[Proposal] = []
    for kind, payload in items:
        try:
            check_payload(ws, store, kind, payload)
            if kind == "verified_question":
                from datatruth.teach.review import clean_plan

                payload = {**payload, "plan": clean_plan(payload["plan"])}
        except UserError as err:
            dropped.append(f"{kind.replace('_', ' ')} {payload!r:.80}: {err.message}")
            continue
        kept.append(proposals.add(store, ws.name, admin, kind, payload, "llm"))
    return Drafted(tuple(kept), tuple(dropped))

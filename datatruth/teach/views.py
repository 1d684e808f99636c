"""Rows for the pages: the verified questions of a model and the open proposals, in words people read."""

from __future__ import annotations

from typing import Any

from datatruth.errors import UserError
from datatruth.semantic.model import SemanticLayer
from datatruth.semantic.plan import QueryPlan
from datatruth.store.proposals import Proposal


def plan_words(plan: Any, layer: SemanticLayer) -> str:
    """A plan (a mapping, as stored) said in words with the model's labels; the problem when it does not read."""
    from datatruth.ask.interpret import interpret

    try:
        return interpret(QueryPlan.from_dict(dict(plan)), layer)
    except (UserError, KeyError, ValueError) as err:
        return f"(cannot be read: {err})"


def verified_rows(layer: SemanticLayer) -> list[dict[str, Any]]:
    """One row per verified question: the question, its answer in words, who verified it, when, and whether it is
    a starter."""
    return [
        {
            "question": q.question,
            "answers": plan_words(q.plan, layer) if q.plan else "(SQL: an LLM example only)",
            "verified by": q.verified_by,
            "verified on": q.verified_at.isoformat() if q.verified_at else "",
            "starter": "yes" if q.onboarding else "",
        }
        for q in layer.verified_questions
    ]


def proposal_words(p: Proposal, layer: SemanticLayer | None) -> str:
    """What a proposal would teach, in words."""
    data = p.payload
    if p.kind == "synonym":
        return f"'{data.get('term')}' means {data.get('target', '').replace('__', ' ').replace('_', ' ')}"
    if p.kind == "verified_question":
        answer = plan_words(data.get("plan") or {}, layer) if layer is not None else ""
        return f'"{data.get("question")}" is answered as: {answer}'
    if p.kind == "phrasing":
        meaning = ", ".join(f"{k} {v}" for k, v in data.items() if k != "words" and v not in (None, "", []))
        return f"{', '.join(map(str, data.get('words', [])))}: {meaning}"
    if p.kind == "description":
        return f"{data.get('target')}: {data.get('description')}"
    return str(data)


def proposal_rows(items: list[Proposal], layer: SemanticLayer | None) -> list[dict[str, Any]]:
    """Rows describing proposals for a table."""
    return [
        {
            "#": p.id,
            "kind": p.kind.replace("_", " "),
            "proposal": proposal_words(p, layer),
            "by": p.proposer,
            "from": {
                "right": "an answer marked right",
                "choice": "a 'did you mean' choice",
                "suggestion": "the suggestions view",
                "llm": "the LLM",
            }.get(p.source, p.source),
            "status": p.status,
            "on": p.created_at.strftime("%Y-%m-%d %H:%M"),
        }
        for p in items
    ]


def teach_targets(layer: SemanticLayer) -> list[tuple[str, str, str]]:
    """(kind, name, label) of every metric and dimension a word can be taught to mean, metrics first."""
    from datatruth.semantic.labels import column_label

    out = [("metric", m.name, f"{m.title} (metric)") for m in layer.metrics]
    out += [
        ("dimension", d.name, f"{column_label(layer, d.name)} ({d.model.name})") for d in layer.dimensions()
    ]
    return out

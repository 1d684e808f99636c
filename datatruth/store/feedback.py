"""Feedback on answers, learned synonyms and verified questions, per workspace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from datatruth.store import audit
from datatruth.store.engine import Store, inserted_id, utcnow
from datatruth.store.schema import feedback, learned_synonyms, verified_questions


@dataclass(frozen=True)
class LearnedSynonym:
    """A word a user taught the planner."""

    term: str
    target_kind: str
    target: str
    username: str


def record_feedback(
    store: Store,
    workspace: str,
    username: str,
    kind: str,
    *,
    history_id: int | None = None,
    term: str | None = None,
    target: str | None = None,
    comment: str | None = None,
) -> int:
    """Store right/wrong/synonym feedback (audited)."""
    with store.begin() as c:
        result = c.execute(
            feedback.insert().values(
                workspace=workspace,
                username=username,
                history_id=history_id,
                kind=kind,
                term=term,
                target=target,
                comment=comment,
                at=utcnow(),
            )
        )
        audit.record(
            store, workspace, username, f"feedback.{kind}", str(history_id or term or ""), None, conn=c
        )
        return inserted_id(result)


def learn_synonym(
    store: Store,
    workspace: str,
    username: str,
    term: str,
    target_kind: str,
    target: str,
    *,
    taught_by: str | None = None,
) -> None:
    """Admins: make `term` mean `target` for everyone in this workspace (the newest teaching wins).

    `taught_by` is who proposed it when an admin accepts someone else's proposal."""
    from datatruth import access

    access.require(store, workspace, username, "review_teaching")
    term = term.strip().lower()
    with store.begin() as c:
        c.execute(
            learned_synonyms.delete().where(
                learned_synonyms.c.workspace == workspace, learned_synonyms.c.term == term
            )
        )
        c.execute(
            learned_synonyms.insert().values(
                workspace=workspace,
                term=term,
                target_kind=target_kind,
                target=target,
                username=taught_by or username,
                at=utcnow(),
            )
        )
        audit.record(store, workspace, username, "feedback.synonym", term, {"target": target}, conn=c)


def confirm_choice(
    store: Store, workspace: str, username: str, term: str, target_kind: str, target: str
) -> bool:
    """A user picked `target` for `term`. An analyst's or admin's pick proposes the synonym (it applies to their own
    questions until an admin accepts it); a viewer's is only recorded. True when a proposal was made."""
    from datatruth import access
    from datatruth.store import proposals

    term = term.strip().lower()
    record_feedback(store, workspace, username, "synonym", term=term, target=target)
    if not term or not access.can(store, workspace, username, "teach"):
        return False
    proposals.add(
        store,
        workspace,
        username,
        "synonym",
        {"term": term, "target_kind": target_kind, "target": target},
        "choice",
    )
    return True


def synonyms(store: Store, workspace: str) -> list[LearnedSynonym]:
    """The accepted learned synonyms of one workspace (they apply to everyone)."""
    q = sa.select(
        learned_synonyms.c.term,
        learned_synonyms.c.target_kind,
        learned_synonyms.c.target,
        learned_synonyms.c.username,
    ).where(learned_synonyms.c.workspace == workspace)
    with store.connect() as c:
        return [LearnedSynonym(**row._mapping) for row in c.execute(q)]


def synonyms_for(store: Store, workspace: str, username: str | None) -> list[LearnedSynonym]:
    """The synonyms that apply to one user's questions: the accepted ones, and the user's own open proposals
    (which win for that user over an accepted teaching of the same word)."""
    from datatruth.store import proposals

    out = {s.term: s for s in synonyms(store, workspace)}
    if username:
        for p in proposals.pending(store, workspace, proposer=username, kind="synonym"):
            if p.source == "llm":
                continue  # an LLM's proposal applies to nobody before an admin accepts it
            term = str(p.payload.get("term", "")).strip().lower()
            if term:
                out[term] = LearnedSynonym(
                    term, str(p.payload.get("target_kind", "")), str(p.payload.get("target", "")), username
                )
    return sorted(out.values(), key=lambda s: s.term)


def add_verified_question(
    store: Store,
    workspace: str,
    username: str,
    question: str,
    plan: dict[str, Any] | None = None,
    sql: str | None = None,
) -> int:
    """Admins: keep a question with its plan or SQL as an example for the LLM and the vector index (questions
    that answer others live in the semantic model's `verified_questions:`; see datatruth.teach.review)."""
    from datatruth import access

    access.require(store, workspace, username, "review_teaching")
    with store.begin() as c:
        result = c.execute(
            verified_questions.insert().values(
                workspace=workspace, question=question, plan=plan, sql=sql, username=username, at=utcnow()
            )
        )
        audit.record(store, workspace, username, "feedback.verified_question", question[:200], None, conn=c)
        return inserted_id(result)


def verified(store: Store, workspace: str) -> list[dict[str, Any]]:
    """Verified questions of one workspace as {question, plan, sql}."""
    q = (
        sa.select(verified_questions.c.question, verified_questions.c.plan, verified_questions.c.sql)
        .where(verified_questions.c.workspace == workspace)
        .order_by(verified_questions.c.id)
    )
    with store.connect() as c:
        return [dict(row._mapping) for row in c.execute(q)]

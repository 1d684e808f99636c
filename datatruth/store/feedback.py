"""Feedback on answers, learned synonyms and verified questions, per workspace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from datatruth.store import audit
from datatruth.store.engine import Store, utcnow
from datatruth.store.schema import feedback, learned_synonyms, verified_questions


@dataclass(frozen=True)
class LearnedSynonym:
    """A word a user taught the planner."""

    term: str
    target_kind: str
    target: str
    username: str


def record_feedback(store: Store, workspace: str, username: str, kind: str, *, history_id: int | None = None,
                    term: str | None = None, target: str | None = None, comment: str | None = None) -> int:
    """Store right/wrong/synonym feedback (audited)."""
    with store.begin() as c:
        result = c.execute(feedback.insert().values(workspace=workspace, username=username, history_id=history_id,
                                                    kind=kind, term=term, target=target, comment=comment, at=utcnow()))
        audit.record(store, workspace, username, f"feedback.{kind}", str(history_id or term or ""), None, conn=c)
        return int(result.inserted_primary_key[0])


def learn_synonym(store: Store, workspace: str, username: str, term: str, target_kind: str, target: str) -> None:
    """Analysts and admins: remember that `term` means `target` in this workspace (the newest teaching wins)."""
    from datatruth import access

    access.require(store, workspace, username, "teach")
    term = term.strip().lower()
    with store.begin() as c:
        c.execute(learned_synonyms.delete().where(learned_synonyms.c.workspace == workspace,
                                                  learned_synonyms.c.term == term))
        c.execute(learned_synonyms.insert().values(workspace=workspace, term=term, target_kind=target_kind,
                                                   target=target, username=username, at=utcnow()))
        audit.record(store, workspace, username, "feedback.synonym", term, {"target": target}, conn=c)


def confirm_choice(store: Store, workspace: str, username: str, term: str, target_kind: str, target: str) -> bool:
    """A user picked `target` for `term`: an analyst's pick teaches the synonym; a viewer's is kept as a suggestion."""
    from datatruth import access

    if access.can(store, workspace, username, "teach"):
        learn_synonym(store, workspace, username, term, target_kind, target)
        return True
    record_feedback(store, workspace, username, "synonym", term=term.strip().lower(), target=target)
    return False


def synonyms(store: Store, workspace: str) -> list[LearnedSynonym]:
    """All learned synonyms of one workspace."""
    q = sa.select(learned_synonyms.c.term, learned_synonyms.c.target_kind, learned_synonyms.c.target,
                  learned_synonyms.c.username).where(learned_synonyms.c.workspace == workspace)
    with store.connect() as c:
        return [LearnedSynonym(**row._mapping) for row in c.execute(q)]


def add_verified_question(store: Store, workspace: str, username: str, question: str,
                          plan: dict[str, Any] | None = None, sql: str | None = None) -> int:
    """Analysts and admins: keep a question marked right as a trusted example for everyone."""
    from datatruth import access

    access.require(store, workspace, username, "teach")
    with store.begin() as c:
        result = c.execute(verified_questions.insert().values(workspace=workspace, question=question, plan=plan,
                                                              sql=sql, username=username, at=utcnow()))
        audit.record(store, workspace, username, "feedback.verified_question", question[:200], None, conn=c)
        return int(result.inserted_primary_key[0])


def verified(store: Store, workspace: str) -> list[dict[str, Any]]:
    """Verified questions of one workspace as {question, plan, sql}."""
    q = sa.select(verified_questions.c.question, verified_questions.c.plan, verified_questions.c.sql).where(
        verified_questions.c.workspace == workspace).order_by(verified_questions.c.id)
    with store.connect() as c:
        return [dict(row._mapping) for row in c.execute(q)]

"""Suggestions for admins: the questions people asked that were refused or marked wrong, grouped by similarity.

Each group says how often it was asked and by how many people, the words the planner could not place (read
again now, so a group an earlier teaching fixed says "answered now"), and the questions the planner offers
instead. From a group an admin can teach a synonym, a phrasing or a verified question and ask again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from datatruth import access
from datatruth.errors import PlanningError, UserError, present
from datatruth.store.engine import Store, utcnow
from datatruth.store.schema import feedback, question_history
from datatruth.workspace.registry import Workspace

SIMILAR = 85  # rapidfuzz token_set_ratio at which two questions are one group
MAX_QUESTIONS = 2000  # the newest refused or wrong questions read per call
_NOT_PLANNING = ("rate limit", "quota", "timed out", "timeout", "not an active member", "may not")


@dataclass(frozen=True)
class Asked:
    """One refused or wrong question from the history."""

    question: str
    user: str
    at: dt.datetime
    wrong: bool


@dataclass(frozen=True)
class SuggestionGroup:
    """Questions that read alike, with what failed in them and what could be asked instead."""

    question: str  # the most asked wording
    variants: tuple[str, ...]
    count: int
    users: int
    refused: int
    wrong: int
    last_at: dt.datetime
    status: str = ""  # refused | answered now | marked wrong
    failed_words: tuple[str, ...] = ()
    understood: str = ""
    choices: tuple[str, ...] = ()
    answer: str = field(default="", compare=False)  # the interpretation when it is answered now

    def to_json(self) -> dict[str, Any]:
        """The group as JSON-able data (the CLI's --json)."""
        return {
            "question": self.question,
            "variants": list(self.variants),
            "count": self.count,
            "users": self.users,
            "refused": self.refused,
            "wrong": self.wrong,
            "last_at": self.last_at.isoformat(timespec="seconds"),
            "status": self.status,
            "failed_words": list(self.failed_words),
            "understood": self.understood,
            "choices": list(self.choices),
            "answer": self.answer,
        }


def _planning_failure(error: str) -> bool:
    text = error.lower()
    return not any(mark in text for mark in _NOT_PLANNING)


def asked_badly(store: Store, workspace: str, since: dt.datetime | None = None) -> list[Asked]:
    """Refused questions (planning failures, not quota or timeouts) and questions marked wrong, newest first."""
    h = question_history
    refused = sa.select(h.c.question, h.c.username, h.c.at, h.c.error).where(
        h.c.workspace == workspace, h.c.error.is_not(None)
    )
    wrong = (
        sa.select(h.c.question, feedback.c.username, feedback.c.at)
        .join(feedback, sa.and_(feedback.c.history_id == h.c.id, feedback.c.workspace == h.c.workspace))
        .where(h.c.workspace == workspace, feedback.c.kind == "wrong")
    )
    if since is not None:
        refused, wrong = refused.where(h.c.at >= since), wrong.where(feedback.c.at >= since)
    with store.connect() as c:
        out = [
            Asked(r.question, r.username, r.at, False)
            for r in c.execute(refused.order_by(h.c.id.desc()).limit(MAX_QUESTIONS))
            if _planning_failure(r.error)
        ]
        out += [
            Asked(r.question, r.username, r.at, True)
            for r in c.execute(wrong.order_by(feedback.c.id.desc()).limit(MAX_QUESTIONS))
        ]
    return sorted(out, key=lambda a: a.at, reverse=True)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w%$.-]+", " ", text.lower()).split())


def group(asked: Iterable[Asked], similar: int = SIMILAR) -> list[SuggestionGroup]:
    """Group questions that read alike (same words in any order, typos aside), most asked first."""
    from rapidfuzz import fuzz

    by_text: dict[str, list[Asked]] = {}
    for a in asked:
        if a.question.strip():
            by_text.setdefault(_norm(a.question), []).append(a)
    # the most asked wording founds its group; the others join the first group close enough
    founders: list[tuple[str, list[str]]] = []
    for text in sorted(by_text, key=lambda t: (-len(by_text[t]), t)):
        home = next(
            (members for head, members in founders if fuzz.token_set_ratio(text, head) >= similar), None
        )
        if home is None:
            founders.append((text, [text]))
        else:
            home.append(text)
    groups = []
    for _head, members in founders:
        items = sorted((a for t in members for a in by_text[t]), key=lambda a: a.at, reverse=True)
        counts: dict[str, int] = {}
        for a in items:
            counts[a.question.strip()] = counts.get(a.question.strip(), 0) + 1
        wordings = sorted(
            counts, key=lambda q: -counts[q]
        )  # ties: the most recent first (items are newest first)
        groups.append(
            SuggestionGroup(
                question=wordings[0],
                variants=tuple(wordings),
                count=len(items),
                users=len({a.user for a in items}),
                refused=sum(not a.wrong for a in items),
                wrong=sum(a.wrong for a in items),
                last_at=max(a.at for a in items),
            )
        )
    return sorted(groups, key=lambda g: (-g.count, -g.last_at.timestamp()))


def _read_again(ws: Workspace, store: Store, g: SuggestionGroup) -> SuggestionGroup:
    """The group with what the planner makes of its question now."""
    from dataclasses import replace

    from datatruth.ask.pipeline import plan_only, workspace_resources
    from datatruth.ask.planner import interpretation_of

    try:
        plan, _sql = plan_only(ws, g.question, store=store)
    except PlanningError as err:
        return replace(
            g,
            status="refused",
            failed_words=tuple(err.unmatched),
            understood=err.interpretation,
            choices=tuple(err.choices),
        )
    except UserError as err:
        return replace(g, status="refused", understood=err.message)
    layer = present(workspace_resources(ws, store).layer, "the semantic layer")
    return replace(
        g,
        status="marked wrong" if g.wrong and not g.refused else "answered now",
        answer=interpretation_of(plan, layer),
    )


def suggestions(
    ws: Workspace, store: Store, admin: str, *, limit: int = 20, days: int = 90
) -> list[SuggestionGroup]:
    """Admins: the most frequent refused or wrong questions of the last `days`, grouped, each read again now."""
    access.require(store, ws.name, admin, "review_teaching")
    groups = group(asked_badly(store, ws.name, utcnow() - dt.timedelta(days=days)))
    return [_read_again(ws, store, g) for g in groups[:limit]]


def answer_as(ws: Workspace, store: Store, admin: str, question: str, choice: str) -> str:
    """Admins: make `question` a verified question answered like `choice` (a question the planner answers)."""
    from datatruth.ask.pipeline import plan_only
    from datatruth.teach.review import clean_plan, teach_now

    plan, _sql = plan_only(ws, choice, store=store)
    return teach_now(
        ws,
        store,
        admin,
        "verified_question",
        {"question": question.strip(), "plan": clean_plan(plan.to_dict())},
    )


def ask_again(ws: Workspace, store: Store, user: str, question: str) -> str:
    """Ask a question again (after teaching) and say in words how it was answered, or why it still is not."""
    from datatruth.ask.pipeline import ask

    try:
        answer = ask(ws, question, user=user, store=store, refresh=False)
    except PlanningError as err:
        return f"Still refused: {err.message}"
    return f"Answered ({answer.row_count:,} row(s)): {answer.interpretation}"

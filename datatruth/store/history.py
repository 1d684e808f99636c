"""Question history per workspace and user; also the source of truth for rate limits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from datatruth.store.engine import Store, inserted_id, utcnow
from datatruth.store.schema import question_history


@dataclass(frozen=True)
class HistoryEntry:
    """One asked question (never its result rows)."""

    id: int
    workspace: str
    username: str
    session_id: str
    question: str
    sql: str | None
    plan: dict[str, Any] | None
    model_version: str | None
    row_count: int | None
    elapsed_ms: float | None
    cached: bool
    error: str | None
    at: dt.datetime


def add(
    store: Store,
    workspace: str,
    username: str,
    question: str,
    *,
    session_id: str = "",
    sql: str | None = None,
    plan: dict[str, Any] | None = None,
    model_version: str | None = None,
    row_count: int | None = None,
    elapsed_ms: float | None = None,
    cached: bool = False,
    error: str | None = None,
) -> int:
    """Record a question and return its id."""
    with store.begin() as c:
        result = c.execute(
            question_history.insert().values(
                workspace=workspace,
                username=username,
                session_id=session_id,
                question=question,
                sql=sql,
                plan=plan,
                model_version=model_version,
                row_count=row_count,
                elapsed_ms=elapsed_ms,
                cached=cached,
                error=error,
                at=utcnow(),
            )
        )
        return inserted_id(result)


def recent(
    store: Store, workspace: str, username: str | None = None, session_id: str | None = None, limit: int = 50
) -> list[HistoryEntry]:
    """Newest questions of a workspace, optionally of one user or chat session."""
    q = sa.select(question_history).where(question_history.c.workspace == workspace)
    if username:
        q = q.where(question_history.c.username == username)
    if session_id:
        q = q.where(question_history.c.session_id == session_id)
    q = q.order_by(question_history.c.id.desc()).limit(limit)
    with store.connect() as c:
        return [HistoryEntry(**row._mapping) for row in c.execute(q)]


def get(store: Store, workspace: str, entry_id: int) -> HistoryEntry | None:
    """One entry, only if it belongs to this workspace."""
    q = sa.select(question_history).where(
        question_history.c.workspace == workspace, question_history.c.id == entry_id
    )
    with store.connect() as c:
        row = c.execute(q).first()
    return HistoryEntry(**row._mapping) if row else None


def count_since(
    store: Store, workspace: str, username: str, since: dt.datetime
) -> tuple[int, dt.datetime | None]:
    """How many questions the user asked in this workspace since `since`, and when the oldest of them was."""
    q = sa.select(sa.func.count(), sa.func.min(question_history.c.at)).where(
        question_history.c.workspace == workspace,
        question_history.c.username == username,
        question_history.c.at >= since,
    )
    with store.connect() as c:
        count, oldest = c.execute(q).one()
    return int(count), oldest


def reserve(
    store: Store,
    workspace: str,
    username: str,
    question: str,
    *,
    limit: int,
    since: dt.datetime,
    session_id: str = "",
) -> tuple[int | None, int, dt.datetime | None]:
    """Count the user's questions since `since` and, when under `limit`, record this one: one atomic step.

    Returns (id of the new entry or None when the limit is reached, count before it, oldest counted time).
    Several processes asking for the same user at once are serialised (an advisory lock on PostgreSQL, the
    write lock on SQLite), so a limit of 10 lets exactly 10 through; `complete` fills in the outcome later.
    """
    q = sa.select(sa.func.count(), sa.func.min(question_history.c.at)).where(
        question_history.c.workspace == workspace,
        question_history.c.username == username,
        question_history.c.at >= since,
    )
    with store.exclusive(f"quota:{workspace}:{username}") as c:
        count, oldest = c.execute(q).one()
        if int(count) >= limit:
            return None, int(count), oldest
        result = c.execute(
            question_history.insert().values(
                workspace=workspace, username=username, session_id=session_id, question=question, at=utcnow()
            )
        )
        return inserted_id(result), int(count), oldest


def complete(store: Store, workspace: str, entry_id: int, **outcome: Any) -> None:
    """Fill in the outcome (sql, plan, row_count, elapsed_ms, cached, error, …) of a reserved entry."""
    allowed = {"sql", "plan", "model_version", "row_count", "elapsed_ms", "cached", "error", "question"}
    unknown = set(outcome) - allowed
    if unknown:
        raise TypeError(f"unknown history fields: {sorted(unknown)}")
    with store.begin() as c:
        c.execute(
            question_history.update()
            .where(question_history.c.workspace == workspace, question_history.c.id == entry_id)
            .values(**outcome)
        )

"""The audit log: who did what, where and when. Never holds result rows or secrets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from datatruth.store.engine import Store, utcnow
from datatruth.store.schema import audit_log


@dataclass(frozen=True)
class AuditEntry:
    """One audited action."""

    id: int
    workspace: str
    username: str
    action: str
    target: str
    detail: dict[str, Any] | None
    at: dt.datetime


def record(
    store: Store,
    workspace: str,
    username: str,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    conn: sa.Connection | None = None,
) -> None:
    """Append an entry; pass `conn` to write inside the caller's transaction."""
    stmt = audit_log.insert().values(
        workspace=workspace, username=username, action=action, target=target[:400], detail=detail, at=utcnow()
    )
    if conn is not None:
        conn.execute(stmt)
        return
    with store.begin() as c:
        c.execute(stmt)


def entries(
    store: Store,
    workspace: str,
    *,
    username: str | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 500,
) -> list[AuditEntry]:
    """The newest entries of one workspace, optionally filtered by user, action prefix and time."""
    q = sa.select(audit_log).where(audit_log.c.workspace == workspace)
    if username:
        q = q.where(audit_log.c.username == username)
    if action:
        q = q.where(audit_log.c.action.startswith(action))
    if since:
        q = q.where(audit_log.c.at >= since)
    q = q.order_by(audit_log.c.id.desc()).limit(limit)
    with store.connect() as c:
        return [AuditEntry(**row._mapping) for row in c.execute(q)]

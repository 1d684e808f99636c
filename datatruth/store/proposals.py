"""Proposals to teach a workspace (synonyms, verified questions, phrasings, descriptions) and their review.

Rows only: who proposed what, from where, and what an admin decided. Applying an accepted proposal to the
planner or the semantic model is datatruth.teach.review's job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from datatruth.errors import NotFound, UserError
from datatruth.store import audit
from datatruth.store.engine import Store, inserted_id, utcnow
from datatruth.store.schema import proposals

KINDS = ("synonym", "verified_question", "phrasing", "description")
SOURCES = ("right", "choice", "suggestion", "llm")
STATUSES = ("proposed", "accepted", "rejected")


@dataclass(frozen=True)
class Proposal:
    """One proposal and its review state."""

    id: int
    workspace: str
    kind: str
    payload: dict[str, Any]
    proposer: str
    source: str
    status: str
    history_id: int | None
    decided_by: str | None
    note: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None


def add(
    store: Store,
    workspace: str,
    proposer: str,
    kind: str,
    payload: dict[str, Any],
    source: str,
    *,
    history_id: int | None = None,
) -> Proposal:
    """Record a proposal (audited); an identical open proposal of the same person is returned, not repeated."""
    if kind not in KINDS or source not in SOURCES:
        raise UserError(f"unknown proposal kind '{kind}' or source '{source}'", f"kinds: {', '.join(KINDS)}")
    for open_one in pending(store, workspace, proposer=proposer, kind=kind):
        if open_one.payload == payload:
            return open_one
    with store.begin() as c:
        result = c.execute(
            proposals.insert().values(
                workspace=workspace,
                kind=kind,
                payload=payload,
                proposer=proposer,
                source=source,
                status="proposed",
                history_id=history_id,
                created_at=utcnow(),
            )
        )
        new_id = inserted_id(result)
        audit.record(
            store,
            workspace,
            proposer,
            "teach.propose",
            f"{kind} #{new_id}",
            {"source": source, "payload": payload},
            conn=c,
        )
    return get(store, workspace, new_id)


def get(store: Store, workspace: str, proposal_id: int) -> Proposal:
    """One proposal of a workspace (NotFound when it is not there)."""
    q = sa.select(proposals).where(proposals.c.workspace == workspace, proposals.c.id == proposal_id)
    with store.connect() as c:
        row = c.execute(q).first()
    if row is None:
        raise NotFound(
            f"proposal #{proposal_id} does not exist in workspace '{workspace}'",
            "list them with `datatruth feedback proposals`",
        )
    return Proposal(**row._mapping)


def listed(
    store: Store,
    workspace: str,
    *,
    status: str | None = None,
    proposer: str | None = None,
    kind: str | None = None,
    limit: int = 500,
) -> list[Proposal]:
    """Proposals of one workspace, newest first, optionally by status, proposer and kind."""
    q = sa.select(proposals).where(proposals.c.workspace == workspace)
    if status:
        q = q.where(proposals.c.status == status)
    if proposer:
        q = q.where(proposals.c.proposer == proposer)
    if kind:
        q = q.where(proposals.c.kind == kind)
    with store.connect() as c:
        return [Proposal(**row._mapping) for row in c.execute(q.order_by(proposals.c.id.desc()).limit(limit))]


def pending(
    store: Store, workspace: str, *, proposer: str | None = None, kind: str | None = None
) -> list[Proposal]:
    """Open proposals (not yet accepted or rejected), oldest first."""
    return list(reversed(listed(store, workspace, status="proposed", proposer=proposer, kind=kind)))


def decide(
    store: Store,
    workspace: str,
    proposal_id: int,
    admin: str,
    status: str,
    note: str = "",
    conn: sa.Connection | None = None,
) -> None:
    """Mark an open proposal accepted or rejected (audited); the caller has checked the admin's role."""
    if status not in ("accepted", "rejected"):
        raise UserError(f"a proposal is accepted or rejected, not '{status}'")
    stmt = (
        proposals.update()
        .where(
            proposals.c.workspace == workspace,
            proposals.c.id == proposal_id,
            proposals.c.status == "proposed",
        )
        .values(status=status, decided_by=admin, decided_at=utcnow(), note=note or None)
    )

    def run(c: sa.Connection) -> None:
        if c.execute(stmt).rowcount != 1:
            raise UserError(f"proposal #{proposal_id} is no longer open", "reload the list of proposals")
        audit.record(
            store,
            workspace,
            admin,
            f"teach.{status.removesuffix('ed')}",
            f"#{proposal_id}",
            {"note": note} if note else None,
            conn=c,
        )

    if conn is not None:
        run(conn)
        return
    with store.begin() as c:
        run(c)

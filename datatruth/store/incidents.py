"""Incidents and their timeline events, per workspace. Events are append-only so nothing is ever lost."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from datatruth.errors import NotFound
from datatruth.store.engine import Store, utcnow
from datatruth.store.schema import incident_events, incidents, webhook_deliveries

ACTIVE = ("open", "acknowledged")
CLOSED = ("resolved", "expected", "false_positive", "wont_fix")
STATUSES = ACTIVE + CLOSED


@dataclass(frozen=True)
class Incident:
    """One incident as stored."""

    id: int
    workspace: str
    source: str
    dedup_key: str
    title: str
    severity: str
    table_name: str | None
    status: str
    owner: str | None
    occurrences: int
    detail: dict[str, Any] | None
    row_version: int
    opened_at: dt.datetime
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    updated_at: dt.datetime


@dataclass(frozen=True)
class IncidentEvent:
    """One entry of an incident's timeline."""

    id: int
    incident_id: int
    kind: str
    username: str | None
    comment: str | None
    detail: dict[str, Any] | None
    at: dt.datetime


def _incident(row: sa.Row) -> Incident:
    m = dict(row._mapping)
    return Incident(**m)


def lock(conn: sa.Connection, workspace: str, incident_id: int) -> Incident:
    """Read one incident inside a transaction, locking its row (PostgreSQL) so updates serialise."""
    q = sa.select(incidents).where(incidents.c.workspace == workspace, incidents.c.id == incident_id)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise NotFound(f"incident {incident_id} does not exist in workspace '{workspace}'",
                       "list incidents with `datatruth incidents list -w WORKSPACE`")
    return _incident(row)


def latest_for_key(conn: sa.Connection, workspace: str, dedup_key: str) -> Incident | None:
    """The newest incident with this dedup key (locked on PostgreSQL)."""
    q = (sa.select(incidents).where(incidents.c.workspace == workspace, incidents.c.dedup_key == dedup_key)
         .order_by(incidents.c.id.desc()).limit(1))
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    return _incident(row) if row else None


def insert(conn: sa.Connection, workspace: str, *, source: str, dedup_key: str, title: str, severity: str,
           table_name: str | None, owner: str | None, detail: dict[str, Any] | None) -> int:
    """Create an open incident and return its id."""
    now = utcnow()
    result = conn.execute(incidents.insert().values(
        workspace=workspace, source=source, dedup_key=dedup_key, title=title[:400], severity=severity,
        table_name=table_name, status="open", owner=owner, occurrences=1, detail=detail, row_version=1,
        opened_at=now, updated_at=now))
    return int(result.inserted_primary_key[0])


def update(conn: sa.Connection, workspace: str, incident_id: int, **values: Any) -> None:
    """Change fields of an incident (bumping its row version)."""
    values["updated_at"] = utcnow()
    conn.execute(incidents.update().where(incidents.c.workspace == workspace, incidents.c.id == incident_id)
                 .values(row_version=incidents.c.row_version + 1, **values))


def add_event(conn: sa.Connection, workspace: str, incident_id: int, kind: str, *, username: str | None = None,
              comment: str | None = None, detail: dict[str, Any] | None = None) -> None:
    """Append a timeline event."""
    conn.execute(incident_events.insert().values(workspace=workspace, incident_id=incident_id, kind=kind,
                                                 username=username, comment=comment, detail=detail, at=utcnow()))


def get(store: Store, workspace: str, incident_id: int) -> Incident:
    """One incident of this workspace (NotFound otherwise)."""
    with store.connect() as c:
        return _get_plain(c, workspace, incident_id)


def _get_plain(conn: sa.Connection, workspace: str, incident_id: int) -> Incident:
    row = conn.execute(sa.select(incidents).where(incidents.c.workspace == workspace,
                                                  incidents.c.id == incident_id)).first()
    if row is None:
        raise NotFound(f"incident {incident_id} does not exist in workspace '{workspace}'",
                       "list incidents with `datatruth incidents list -w WORKSPACE`")
    return _incident(row)


def search(store: Store, workspace: str, *, status: str | None = None, severity: str | None = None,
           table: str | None = None, owner: str | None = None, limit: int = 500) -> list[Incident]:
    """Incidents of a workspace, newest first, filtered."""
    q = sa.select(incidents).where(incidents.c.workspace == workspace)
    if status == "active":
        q = q.where(incidents.c.status.in_(ACTIVE))
    elif status:
        q = q.where(incidents.c.status == status)
    if severity:
        q = q.where(incidents.c.severity == severity)
    if table:
        q = q.where(incidents.c.table_name == table)
    if owner:
        q = q.where(incidents.c.owner == owner)
    q = q.order_by(incidents.c.id.desc()).limit(limit)
    with store.connect() as c:
        return [_incident(r) for r in c.execute(q)]


def events(store: Store, workspace: str, incident_id: int) -> list[IncidentEvent]:
    """The timeline of one incident, oldest first."""
    q = (sa.select(incident_events.c.id, incident_events.c.incident_id, incident_events.c.kind,
                   incident_events.c.username, incident_events.c.comment, incident_events.c.detail,
                   incident_events.c.at)
         .where(incident_events.c.workspace == workspace, incident_events.c.incident_id == incident_id)
         .order_by(incident_events.c.id))
    with store.connect() as c:
        return [IncidentEvent(**r._mapping) for r in c.execute(q)]


def events_of_kind(store: Store, workspace: str, dedup_key: str, kinds: tuple[str, ...]) -> list[IncidentEvent]:
    """Events of the given kinds across every incident with this key (e.g. occurrences marked false positive)."""
    q = (sa.select(incident_events.c.id, incident_events.c.incident_id, incident_events.c.kind,
                   incident_events.c.username, incident_events.c.comment, incident_events.c.detail,
                   incident_events.c.at)
         .join(incidents, incidents.c.id == incident_events.c.incident_id)
         .where(incidents.c.workspace == workspace, incidents.c.dedup_key == dedup_key,
                incident_events.c.kind.in_(kinds))
         .order_by(incident_events.c.id))
    with store.connect() as c:
        return [IncidentEvent(**r._mapping) for r in c.execute(q)]


def record_delivery(store: Store, workspace: str, incident_id: int | None, event: str, url: str,
                    status_code: int | None, attempts: int, error: str | None) -> None:
    """Log one webhook delivery (success or final failure)."""
    with store.begin() as c:
        c.execute(webhook_deliveries.insert().values(workspace=workspace, incident_id=incident_id, event=event,
                                                     url=url, status_code=status_code, attempts=attempts,
                                                     error=error, at=utcnow()))


def deliveries(store: Store, workspace: str, limit: int = 100) -> list[dict[str, Any]]:
    """The webhook delivery log of a workspace, newest first."""
    q = (sa.select(webhook_deliveries).where(webhook_deliveries.c.workspace == workspace)
         .order_by(webhook_deliveries.c.id.desc()).limit(limit))
    with store.connect() as c:
        return [dict(r._mapping) for r in c.execute(q)]

"""Incidents and their timeline events, per workspace. Events are append-only so nothing is ever lost."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from datatruth.errors import NotFound
from datatruth.store.engine import Store, inserted_id, utcnow
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
        raise NotFound(
            f"incident {incident_id} does not exist in workspace '{workspace}'",
            "list incidents with `datatruth incidents list -w WORKSPACE`",
        )
    return _incident(row)


def latest_for_key(conn: sa.Connection, workspace: str, dedup_key: str) -> Incident | None:
    """The newest incident with this dedup key (locked on PostgreSQL)."""
    q = (
        sa.select(incidents)
        .where(incidents.c.workspace == workspace, incidents.c.dedup_key == dedup_key)
        .order_by(incidents.c.id.desc())
        .limit(1)
    )
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    return _incident(row) if row else None


def insert(
    conn: sa.Connection,
    workspace: str,
    *,
    source: str,
    dedup_key: str,
    title: str,
    severity: str,
    table_name: str | None,
    owner: str | None,
    detail: dict[str, Any] | None,
) -> int:
    """Create an open incident and return its id."""
    now = utcnow()
    result = conn.execute(
        incidents.insert().values(
            workspace=workspace,
            source=source,
            dedup_key=dedup_key,
            title=title[:400],
            severity=severity,
            table_name=table_name,
            status="open",
            owner=owner,
            occurrences=1,
            detail=detail,
            row_version=1,
            opened_at=now,
            updated_at=now,
        )
    )
    return inserted_id(result)


def update(conn: sa.Connection, workspace: str, incident_id: int, **values: Any) -> None:
    """Change fields of an incident (bumping its row version)."""
    values["updated_at"] = utcnow()
    conn.execute(
        incidents.update()
        .where(incidents.c.workspace == workspace, incidents.c.id == incident_id)
        .values(row_version=incidents.c.row_version + 1, **values)
    )


def add_event(
    conn: sa.Connection,
    workspace: str,
    incident_id: int,
    kind: str,
    *,
    username: str | None = None,
    comment: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append a timeline event."""
    conn.execute(
        incident_events.insert().values(
            workspace=workspace,
            incident_id=incident_id,
            kind=kind,
            username=username,
            comment=comment,
            detail=detail,
            at=utcnow(),
        )
    )


def get(store: Store, workspace: str, incident_id: int) -> Incident:
    """One incident of this workspace (NotFound otherwise)."""
    with store.connect() as c:
        return _get_plain(c, workspace, incident_id)


def _get_plain(conn: sa.Connection, workspace: str, incident_id: int) -> Incident:
    row = conn.execute(
        sa.select(incidents).where(incidents.c.workspace == workspace, incidents.c.id == incident_id)
    ).first()
    if row is None:
        raise NotFound(
            f"incident {incident_id} does not exist in workspace '{workspace}'",
            "list incidents with `datatruth incidents list -w WORKSPACE`",
        )
    return _incident(row)


Choice = str | Sequence[str] | None


def _choices(value: Choice, active: bool = False) -> tuple[str, ...]:
    if value is None:
        return ()
    values = (value,) if isinstance(value, str) else tuple(value)
    # "active" is the board's shorthand for open or acknowledged
    return tuple(
        dict.fromkeys(v for item in values for v in (ACTIVE if active and item == "active" else (item,)))
    )


def _filtered(
    q: sa.Select,
    workspace: str,
    status: Choice,
    severity: Choice,
    table: Choice,
    owner: Choice,
    opened_since: dt.datetime | None,
) -> sa.Select:
    q = q.where(incidents.c.workspace == workspace)
    for column, values in (
        (incidents.c.status, _choices(status, active=True)),
        (incidents.c.severity, _choices(severity)),
        (incidents.c.table_name, _choices(table)),
        (incidents.c.owner, _choices(owner)),
    ):
        if values:
            q = q.where(column.in_(values))
    if opened_since is not None:
        q = q.where(incidents.c.opened_at >= opened_since)
    return q


def search(
    store: Store,
    workspace: str,
    *,
    status: Choice = None,
    severity: Choice = None,
    table: Choice = None,
    owner: Choice = None,
    opened_since: dt.datetime | None = None,
    limit: int = 500,
    with_detail: bool = True,
) -> list[Incident]:
    """Incidents of a workspace, newest first, filtered in SQL (each filter: one value or any of several).

    Without `with_detail` the detail JSON (example rows and the like) is not read; `detail` is None then.
    """
    columns = [c for c in incidents.c if with_detail or c.name != "detail"]
    q = _filtered(sa.select(*columns), workspace, status, severity, table, owner, opened_since)
    q = q.order_by(incidents.c.id.desc()).limit(limit)
    with store.connect() as c:
        return [Incident(**({"detail": None} | dict(r._mapping))) for r in c.execute(q)]


def count(
    store: Store,
    workspace: str,
    *,
    status: Choice = None,
    severity: Choice = None,
    table: Choice = None,
    owner: Choice = None,
    opened_since: dt.datetime | None = None,
) -> int:
    """How many incidents of a workspace match the filters (counted in SQL)."""
    q = _filtered(
        sa.select(sa.func.count()).select_from(incidents),
        workspace,
        status,
        severity,
        table,
        owner,
        opened_since,
    )
    with store.connect() as c:
        return int(c.execute(q).scalar_one())


@dataclass(frozen=True)
class Facets:
    """The values the board's filters offer: datasets and owners that occur in a workspace's incidents."""

    tables: tuple[str, ...]
    owners: tuple[str, ...]


def facets(store: Store, workspace: str) -> Facets:
    """Distinct datasets and owners of a workspace's incidents (SELECT DISTINCT, nothing else is read)."""
    found: dict[str, tuple[str, ...]] = {}
    with store.connect() as c:
        for name, column in (("tables", incidents.c.table_name), ("owners", incidents.c.owner)):
            q = (
                sa.select(column)
                .distinct()
                .where(incidents.c.workspace == workspace, column.is_not(None))
                .order_by(column)
            )
            found[name] = tuple(str(v) for v in c.execute(q).scalars())
    return Facets(found["tables"], found["owners"])


def status_counts(store: Store, workspace: str) -> dict[tuple[str, str], int]:
    """(status, severity) → how many incidents, grouped in SQL."""
    q = (
        sa.select(incidents.c.status, incidents.c.severity, sa.func.count())
        .where(incidents.c.workspace == workspace)
        .group_by(incidents.c.status, incidents.c.severity)
    )
    with store.connect() as c:
        return {(str(status), str(severity)): int(n) for status, severity, n in c.execute(q)}


def response_times(store: Store, workspace: str, until: str) -> list[tuple[dt.datetime, dt.datetime]]:
    """(opened_at, acknowledged_at or resolved_at) of the incidents that reached that point."""
    column = {"acknowledged": incidents.c.acknowledged_at, "resolved": incidents.c.resolved_at}[until]
    q = sa.select(incidents.c.opened_at, column).where(
        incidents.c.workspace == workspace, column.is_not(None)
    )
    with store.connect() as c:
        return [(opened, reached) for opened, reached in c.execute(q)]


def events(store: Store, workspace: str, incident_id: int) -> list[IncidentEvent]:
    """The timeline of one incident, oldest first."""
    q = (
        sa.select(
            incident_events.c.id,
            incident_events.c.incident_id,
            incident_events.c.kind,
            incident_events.c.username,
            incident_events.c.comment,
            incident_events.c.detail,
            incident_events.c.at,
        )
        .where(incident_events.c.workspace == workspace, incident_events.c.incident_id == incident_id)
        .order_by(incident_events.c.id)
    )
    with store.connect() as c:
        return [IncidentEvent(**r._mapping) for r in c.execute(q)]


def events_of_kind(
    store: Store, workspace: str, dedup_key: str, kinds: tuple[str, ...]
) -> list[IncidentEvent]:
    """Events of the given kinds across every incident with this key (e.g. occurrences marked false positive)."""
    q = (
        sa.select(
            incident_events.c.id,
            incident_events.c.incident_id,
            incident_events.c.kind,
            incident_events.c.username,
            incident_events.c.comment,
            incident_events.c.detail,
            incident_events.c.at,
        )
        .join(incidents, incidents.c.id == incident_events.c.incident_id)
        .where(
            incidents.c.workspace == workspace,
            incidents.c.dedup_key == dedup_key,
            incident_events.c.kind.in_(kinds),
        )
        .order_by(incident_events.c.id)
    )
    with store.connect() as c:
        return [IncidentEvent(**r._mapping) for r in c.execute(q)]


def record_delivery(
    store: Store,
    workspace: str,
    incident_id: int | None,
    event: str,
    url: str,
    status_code: int | None,
    attempts: int,
    error: str | None,
) -> None:
    """Log one webhook delivery (success or final failure)."""
    with store.begin() as c:
        c.execute(
            webhook_deliveries.insert().values(
                workspace=workspace,
                incident_id=incident_id,
                event=event,
                url=url,
                status_code=status_code,
                attempts=attempts,
                error=error,
                at=utcnow(),
            )
        )


def deliveries(store: Store, workspace: str, limit: int = 100) -> list[dict[str, Any]]:
    """The webhook delivery log of a workspace, newest first."""
    q = (
        sa.select(webhook_deliveries)
        .where(webhook_deliveries.c.workspace == workspace)
        .order_by(webhook_deliveries.c.id.desc())
        .limit(limit)
    )
    with store.connect() as c:
        return [dict(r._mapping) for r in c.execute(q)]

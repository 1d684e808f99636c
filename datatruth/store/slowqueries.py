"""Slow-query snapshots, classes and (redacted) samples per workspace, for ranking and trends."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from datatruth.errors import NotFound
from datatruth.store.engine import Store, inserted_id, utcnow
from datatruth.store.schema import slow_classes, slow_samples, slow_snapshots


@dataclass(frozen=True)
class StoredClass:
    """One query class as stored (its sample is already redacted)."""

    id: int
    snapshot_id: int
    query_id: str
    fingerprint: str
    calls: int
    total_time: float
    stats: dict[str, Any]
    sample: str | None
    severity: str | None
    findings: list[dict[str, Any]] | None


@dataclass(frozen=True)
class Snapshot:
    """One analysed log or collector run."""

    id: int
    source: str
    events: int
    taken_at: dt.datetime


def save_snapshot(
    store: Store, workspace: str, source: str, events: int, classes: list[dict[str, Any]]
) -> int:
    """Store a snapshot with its classes (each: query_id, fingerprint, calls, total_time, stats, sample, severity, findings, samples)."""
    with store.begin() as c:
        snap = inserted_id(
            c.execute(
                slow_snapshots.insert().values(
                    workspace=workspace, source=source[:40], events=events, taken_at=utcnow()
                )
            )
        )
        for cls in classes:
            class_id = inserted_id(
                c.execute(
                    slow_classes.insert().values(
                        workspace=workspace,
                        snapshot_id=snap,
                        query_id=cls["query_id"],
                        fingerprint=cls["fingerprint"],
                        calls=cls["calls"],
                        total_time=cls["total_time"],
                        stats=cls["stats"],
                        sample=cls.get("sample"),
                        severity=cls.get("severity"),
                        findings=cls.get("findings"),
                    )
                )
            )
            for sample in cls.get("samples", ()):
                c.execute(slow_samples.insert().values(workspace=workspace, class_id=class_id, **sample))
    return snap


def snapshots(store: Store, workspace: str, limit: int = 100) -> list[Snapshot]:
    """Snapshots of a workspace, newest first."""
    q = (
        sa.select(
            slow_snapshots.c.id, slow_snapshots.c.source, slow_snapshots.c.events, slow_snapshots.c.taken_at
        )
        .where(slow_snapshots.c.workspace == workspace)
        .order_by(slow_snapshots.c.id.desc())
        .limit(limit)
    )
    with store.connect() as c:
        return [Snapshot(**r._mapping) for r in c.execute(q)]


def classes(store: Store, workspace: str, snapshot_id: int) -> list[StoredClass]:
    """Classes of one snapshot ranked by total time."""
    q = (
        sa.select(
            slow_classes.c.id,
            slow_classes.c.snapshot_id,
            slow_classes.c.query_id,
            slow_classes.c.fingerprint,
            slow_classes.c.calls,
            slow_classes.c.total_time,
            slow_classes.c.stats,
            slow_classes.c.sample,
            slow_classes.c.severity,
            slow_classes.c.findings,
        )
        .where(slow_classes.c.workspace == workspace, slow_classes.c.snapshot_id == snapshot_id)
        .order_by(slow_classes.c.total_time.desc())
    )
    with store.connect() as c:
        return [StoredClass(**r._mapping) for r in c.execute(q)]


def get_class(store: Store, workspace: str, class_id: int) -> StoredClass:
    """One class of this workspace (NotFound otherwise)."""
    q = sa.select(
        slow_classes.c.id,
        slow_classes.c.snapshot_id,
        slow_classes.c.query_id,
        slow_classes.c.fingerprint,
        slow_classes.c.calls,
        slow_classes.c.total_time,
        slow_classes.c.stats,
        slow_classes.c.sample,
        slow_classes.c.severity,
        slow_classes.c.findings,
    ).where(slow_classes.c.workspace == workspace, slow_classes.c.id == class_id)
    with store.connect() as c:
        row = c.execute(q).first()
    if row is None:
        raise NotFound(
            f"slow-query class {class_id} does not exist in '{workspace}'", "pick a class from the list"
        )
    return StoredClass(**row._mapping)


def trend(store: Store, workspace: str, query_id: str) -> list[dict[str, Any]]:
    """Calls and total time of one class across snapshots, oldest first."""
    q = (
        sa.select(
            slow_snapshots.c.taken_at,
            slow_snapshots.c.source,
            slow_classes.c.calls,
            slow_classes.c.total_time,
        )
        .join(slow_snapshots, slow_snapshots.c.id == slow_classes.c.snapshot_id)
        .where(slow_classes.c.workspace == workspace, slow_classes.c.query_id == query_id)
        .order_by(slow_snapshots.c.id)
    )
    with store.connect() as c:
        return [dict(r._mapping) for r in c.execute(q)]


def samples(store: Store, workspace: str, class_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """Redacted samples of one class, slowest first."""
    q = (
        sa.select(
            slow_samples.c.query,
            slow_samples.c.query_time,
            slow_samples.c.ts,
            slow_samples.c.db,
            slow_samples.c.username,
            slow_samples.c.host,
        )
        .where(slow_samples.c.workspace == workspace, slow_samples.c.class_id == class_id)
        .order_by(slow_samples.c.query_time.desc())
        .limit(limit)
    )
    with store.connect() as c:
        return [dict(r._mapping) for r in c.execute(q)]

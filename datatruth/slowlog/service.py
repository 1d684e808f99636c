"""Slow-query triage as one flow: read a log or collector, aggregate, analyse, redact, store, raise incidents."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datatruth.errors import LogFormatError, UserError
from datatruth.slowlog.aggregate import Aggregate, ClassStats, aggregate
from datatruth.slowlog.events import MAX_ANALYSED_CHARS, ParseProblem, SlowEvent
from datatruth.slowlog.fingerprint import readable_fingerprint
from datatruth.slowlog.redact import redact_sample, redact_text
from datatruth.slowlog.rules import ClassAnalysis, analyze_class
from datatruth.store import audit
from datatruth.store import slowqueries as repo
from datatruth.store.engine import Store

if TYPE_CHECKING:
    from datatruth.workspace.registry import Workspace

Progress = Callable[[float, str], None]
DIALECT_OF_SOURCE = {
    "mysql": "mysql",
    "performance_schema": "mysql",
    "postgres": "postgres",
    "pg_stat_statements": "postgres",
}


@dataclass(frozen=True)
class TriagedClass:
    """One ranked class with its analysis; `sample` is redacted."""

    rank: int
    stats: ClassStats
    analysis: ClassAnalysis
    sample: str

    @property
    def severity(self) -> str | None:
        """LOW/MEDIUM/HIGH/CRITICAL, or None when no rule fired."""
        return str(self.analysis.severity) if self.analysis.severity is not None else None


@dataclass(frozen=True)
class Triage:
    """The result of triaging one log or collector run."""

    source: str
    aggregate: Aggregate
    classes: tuple[TriagedClass, ...]
    problems: tuple[ParseProblem, ...]
    snapshot_id: int | None = None


def detect_log_format(path: Path) -> str:
    """'mysql' or 'postgres' for a log file (LogFormatError when it is neither)."""
    from datatruth.slowlog.pg_log import detect_format

    found = detect_format(path)
    return "mysql" if found == "mysql" else "postgres"


def read_events(path: Path, fmt: str, problems: list[ParseProblem]) -> Iterator[SlowEvent]:
    """Stream events from a MySQL or PostgreSQL log; unreadable parts become problems with line numbers."""
    if not path.exists():
        raise LogFormatError(f"{path.name} does not exist", "check the path")
    if fmt == "auto":
        fmt = detect_log_format(path)
    if fmt == "postgres":
        from datatruth.slowlog.pg_log import iter_pg_events

        return iter_pg_events(path, problems)
    from datatruth.slowlog.mysql_log import iter_mysql_events

    return iter_mysql_events(path, problems)


def triage_events(
    events: Iterable[SlowEvent],
    source: str,
    *,
    limit: int | None = 50,
    order_by: str = "total",
    allow_raw: bool = False,
    problems: Iterable[ParseProblem] = (),
) -> Triage:
    """Aggregate events into classes, rank them, analyse the top ones and redact their samples."""
    agg = aggregate(events, order_by=order_by, limit=limit)
    triaged = []
    for rank, cls in enumerate(agg.classes, start=1):
        dialect = DIALECT_OF_SOURCE.get(cls.sample.source, "mysql")
        triaged.append(
            TriagedClass(
                rank,
                cls,
                analyze_class(cls, dialect=dialect),
                redact_sample(cls.sample.query[:MAX_ANALYSED_CHARS], allow_raw=allow_raw, dialect=dialect),
            )
        )
    return Triage(source, agg, tuple(triaged), tuple(problems))


def triage_file(path: Path, fmt: str = "auto", **kwargs: Any) -> Triage:
    """Read and triage a log file; a log with no readable event at all is a LogFormatError."""
    problems: list[ParseProblem] = []
    result = triage_events(read_events(path, fmt, problems), path.name, problems=problems, **kwargs)
    if result.aggregate.events == 0:
        first = f" (line {problems[0].line}: {problems[0].message})" if problems else ""
        raise LogFormatError(
            f"no slow-query events could be read from {path.name}{first}",
            "give a MySQL slow log or a PostgreSQL log with log_min_duration_statement, "
            "or pass --format explicitly",
        )
    return result


def triage_upload(name: str, data: bytes, folder: Path, fmt: str = "auto", **kwargs: Any) -> Triage:
    """Triage an uploaded log: kept in a private temp folder under `folder` only while it is read.

    Messages name the uploaded file only, never the server's temp path; the copy is removed
    whatever happens.
    """
    filename = Path(name).name or "upload.log"
    if not data:
        raise LogFormatError(
            f"{filename} is empty", "upload the slow-query log itself (plain or .gz/.bz2/.xz)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="slowlog-upload-", dir=folder))
    try:
        path = scratch / filename
        path.write_bytes(data)
        return triage_file(path, fmt, **kwargs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def collector_source(url: str) -> str:
    """A snapshot's source for a live collector: the server and database, never the password."""
    import sqlalchemy as sa

    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as err:
        raise UserError(
            "the database URL cannot be read", "write it like postgresql+psycopg://user@host/db"
        ) from err
    where = f"{parsed.host or 'local'}/{parsed.database or ''}".rstrip("/")
    return f"collector {where}"[:40]


def _stats_json(cls: ClassStats) -> dict[str, Any]:
    def metric(m: Any) -> dict[str, float] | None:
        return (
            None
            if m is None
            else {
                "total": m.total,
                "avg": m.avg,
                "min": m.min,
                "max": m.max,
                "p95": m.p95,
                "median": m.median,
            }
        )

    return {
        "query_time": metric(cls.query_time),
        "lock_time": metric(cls.lock_time),
        "rows_sent": metric(cls.rows_sent),
        "rows_examined": metric(cls.rows_examined),
        "first_seen": cls.first_seen.isoformat() if cls.first_seen else None,
        "last_seen": cls.last_seen.isoformat() if cls.last_seen else None,
        "databases": [list(x) for x in cls.databases],
        "users": [list(x) for x in cls.users],
        "hosts": [[redact_text(h), n] for h, n in cls.hosts],
        # pt-query-digest's own fingerprint, from which the Query ID is computed.
        "pt_fingerprint": redact_text(cls.fingerprint[:MAX_ANALYSED_CHARS]),
        "cut_events": cls.cut_events,
    }


def save(store: Store, ws: Workspace, triage: Triage, user: str, *, open_incidents: bool = True) -> Triage:
    """Store the triage (redacted) as a snapshot, audit it, and open incidents for CRITICAL classes."""
    rows = []
    for t in triage.classes:
        rows.append(
            {
                "query_id": t.stats.query_id,
                "fingerprint": display_fingerprint(t.stats),
                "calls": t.stats.count,
                "total_time": t.stats.query_time.total,
                "stats": _stats_json(t.stats),
                "sample": t.sample,
                "severity": t.severity,
                "findings": [
                    {"rule": f.rule, "severity": str(f.severity), "reason": f.reason, "evidence": f.evidence}
                    for f in t.analysis.findings
                ],
                "samples": [
                    {
                        "query": t.sample,
                        "query_time": t.stats.sample.query_time,
                        "ts": t.stats.sample.ts,
                        "db": t.stats.sample.db,
                        "username": t.stats.sample.user,
                        "host": redact_text(t.stats.sample.host) if t.stats.sample.host else None,
                    }
                ],
            }
        )
    snap = repo.save_snapshot(store, ws.name, triage.source, triage.aggregate.events, rows)
    audit.record(
        store,
        ws.name,
        user,
        "slowlog.analyze",
        triage.source,
        {"events": triage.aggregate.events, "classes": len(rows)},
    )
    if open_incidents:
        critical = [c for c in repo.classes(store, ws.name, snap) if c.severity == "CRITICAL"]
        for cls in critical:
            open_incident(store, ws, cls)
    return Triage(triage.source, triage.aggregate, triage.classes, triage.problems, snap)


def display_fingerprint(stats: ClassStats) -> str:
    """The class as people read it in the app and the store: names whole (`db?.tbl_?`), literals as ?."""
    dialect = DIALECT_OF_SOURCE.get(stats.sample.source, "mysql")
    return redact_text(readable_fingerprint(stats.sample.query, dialect))


@dataclass(frozen=True)
class TrendLine:
    """One class's total time in the snapshots of one source (one log file or one server), oldest first."""

    source: str
    taken_at: tuple[datetime, ...]
    total_time: tuple[float, ...]
    calls: tuple[int, ...]


def trend_lines(store: Store, workspace: str, query_id: str) -> tuple[TrendLine, ...]:
    """A class's history, one line per source: snapshots of unrelated logs are never joined into one line."""
    by_source: dict[str, list[dict[str, Any]]] = {}
    for point in repo.trend(store, workspace, query_id):
        by_source.setdefault(point["source"], []).append(point)
    return tuple(
        TrendLine(
            source,
            tuple(p["taken_at"] for p in points),
            tuple(p["total_time"] for p in points),
            tuple(p["calls"] for p in points),
        )
        for source, points in by_source.items()
    )


def open_incident(store: Store, ws: Workspace, cls: repo.StoredClass, user: str | None = None) -> int | None:
    """Open (or add an occurrence to) the incident of one slow-query class."""
    from datatruth.incidents.service import Signal, process_signals

    reason = (cls.findings or [{}])[0].get("reason", "slow query class")
    signal = Signal(
        source="slow_query",
        dedup_key=f"slow:{cls.query_id}",
        title=f"Slow query {cls.query_id[:12]}: {reason}"[:300],
        severity="critical" if cls.severity == "CRITICAL" else "warning",
        failed=True,
        metric_value=cls.total_time,
        message=f"{cls.calls} calls, {cls.total_time:.2f} s in total",
        detail={
            "class_id": cls.id,
            "snapshot_id": cls.snapshot_id,
            "sample": cls.sample,
            "opened_by": user or "system",
        },
    )
    report = process_signals(store, ws, [signal])
    ids = report.opened + report.appended + report.reopened
    return ids[0] if ids else None

"""Check runs of the quality area: every outcome with its metric value, score snapshots and drift baselines."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from datatruth.quality.outcome import CheckOutcome
from datatruth.store.engine import Store, utcnow
from datatruth.store.schema import check_runs

# Rows of check_runs that are not check outcomes: score snapshots and drift baselines share the table
# so that one history query draws every trend on the quality page.
SCORE_TYPE = "score"
BASELINE_TYPE = "drift_baseline"
_SPECIAL = (SCORE_TYPE, BASELINE_TYPE)


@dataclass(frozen=True)
class MetricPoint:
    """One measured value of a check (or a score) in one run."""

    run_id: str
    at: dt.datetime
    value: float | None
    status: str


@dataclass(frozen=True)
class RunSummary:
    """One run of a workspace's checks."""

    run_id: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    checks: int
    failed: int


def jsonable(value: Any) -> Any:
    """Make example rows and details JSON-safe (dates and decimals become text or floats)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime | dt.time | dt.timedelta):
        return str(value)
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return json.loads(json.dumps(value, default=str))


def save_outcomes(
    store: Store,
    workspace: str,
    run_id: str,
    outcomes: Iterable[CheckOutcome],
    started_at: dt.datetime,
    finished_at: dt.datetime | None = None,
) -> int:
    """Store every outcome of a run and return how many rows were written."""
    rows = []
    for o in outcomes:
        detail = {
            "message": o.message,
            "owner": o.owner,
            "auto_resolve": o.auto_resolve,
            "example_rows": jsonable(list(o.example_rows)),
            **jsonable(o.detail),
        }
        rows.append(
            dict(
                workspace=workspace,
                run_id=run_id,
                check_name=o.check_name,
                check_type=o.check_type,
                table_name=o.table,
                column_name=o.column,
                status=o.status,
                severity=o.severity,
                metric_value=o.metric_value,
                threshold=(o.threshold or "")[:200] or None,
                detail=detail,
                started_at=o.at or started_at,
                finished_at=finished_at or utcnow(),
            )
        )
    if rows:
        with store.begin() as c:
            c.execute(check_runs.insert(), rows)
    return len(rows)


def save_scores(
    store: Store, workspace: str, run_id: str, scores: dict[str, dict[str, Any]], at: dt.datetime
) -> None:
    """Store one score snapshot per table (key '' is the workspace) so score trends can be drawn."""
    rows = [
        dict(
            workspace=workspace,
            run_id=run_id,
            check_name=f"score:{table}",
            check_type=SCORE_TYPE,
            table_name=table or None,
            column_name=None,
            status="pass",
            severity="info",
            metric_value=payload.get("score"),
            threshold=None,
            detail=jsonable(payload),
            started_at=at,
            finished_at=at,
        )
        for table, payload in scores.items()
    ]
    if rows:
        with store.begin() as c:
            c.execute(check_runs.insert(), rows)


def _outcome(row: Any) -> CheckOutcome:
    detail = dict(row.detail or {})
    message = detail.pop("message", "")
    owner = detail.pop("owner", None)
    auto = bool(detail.pop("auto_resolve", True))
    examples = tuple(detail.pop("example_rows", []) or [])
    return CheckOutcome(
        check_name=row.check_name,
        check_type=row.check_type,
        table=row.table_name,
        column=row.column_name,
        status=row.status,
        severity=row.severity,
        owner=owner,
        metric_value=row.metric_value,
        threshold=row.threshold,
        message=message,
        example_rows=examples,
        auto_resolve=auto,
        run_id=row.run_id,
        at=row.started_at,
        detail=detail,
    )


def run_outcomes(store: Store, workspace: str, run_id: str) -> list[CheckOutcome]:
    """Every check outcome of one run, in the order they ran."""
    q = (
        sa.select(check_runs)
        .where(
            check_runs.c.workspace == workspace,
            check_runs.c.run_id == run_id,
            check_runs.c.check_type.not_in(_SPECIAL),
        )
        .order_by(check_runs.c.id)
    )
    with store.connect() as c:
        return [_outcome(r) for r in c.execute(q)]


def runs(store: Store, workspace: str, limit: int = 50) -> list[RunSummary]:
    """Newest runs first, with how many checks ran and failed."""
    failed = sa.func.sum(sa.case((check_runs.c.status.in_(("fail", "error")), 1), else_=0))
    q = (
        sa.select(
            check_runs.c.run_id,
            sa.func.min(check_runs.c.started_at),
            sa.func.max(check_runs.c.finished_at),
            sa.func.count(),
            failed,
        )
        .where(check_runs.c.workspace == workspace, check_runs.c.check_type.not_in(_SPECIAL))
        .group_by(check_runs.c.run_id)
        .order_by(sa.func.max(check_runs.c.id).desc())
        .limit(limit)
    )
    with store.connect() as c:
        return [RunSummary(r[0], r[1], r[2], int(r[3]), int(r[4] or 0)) for r in c.execute(q)]


def latest_run(store: Store, workspace: str) -> list[CheckOutcome]:
    """Outcomes of the newest run (empty when the workspace has never run its checks)."""
    found = runs(store, workspace, limit=1)
    return run_outcomes(store, workspace, found[0].run_id) if found else []


def latest_outcome(store: Store, workspace: str, check_name: str) -> CheckOutcome | None:
    """The newest stored outcome of one check."""
    q = (
        sa.select(check_runs)
        .where(
            check_runs.c.workspace == workspace,
            check_runs.c.check_name == check_name,
            check_runs.c.check_type.not_in(_SPECIAL),
        )
        .order_by(check_runs.c.id.desc())
        .limit(1)
    )
    with store.connect() as c:
        row = c.execute(q).first()
    return _outcome(row) if row else None


def metric_history(store: Store, workspace: str, check_name: str, limit: int = 200) -> list[MetricPoint]:
    """Metric values of one check (or 'score:<table>'), oldest first."""
    q = (
        sa.select(
            check_runs.c.run_id, check_runs.c.started_at, check_runs.c.metric_value, check_runs.c.status
        )
        .where(
            check_runs.c.workspace == workspace,
            check_runs.c.check_name == check_name,
            check_runs.c.check_type != BASELINE_TYPE,
        )
        .order_by(check_runs.c.id.desc())
        .limit(limit)
    )
    with store.connect() as c:
        points = [MetricPoint(r[0], r[1], r[2], r[3]) for r in c.execute(q)]
    return points[::-1]


def save_baseline(
    store: Store,
    workspace: str,
    check_name: str,
    baseline: dict[str, Any],
    table: str | None = None,
    column: str | None = None,
) -> None:
    """Store (replace) the drift baseline of a check."""
    now = utcnow()
    with store.begin() as c:
        c.execute(
            check_runs.delete().where(
                check_runs.c.workspace == workspace,
                check_runs.c.check_name == check_name,
                check_runs.c.check_type == BASELINE_TYPE,
            )
        )
        c.execute(
            check_runs.insert().values(
                workspace=workspace,
                run_id="baseline",
                check_name=check_name,
                check_type=BASELINE_TYPE,
                table_name=table,
                column_name=column,
                status="pass",
                severity="info",
                metric_value=None,
                threshold=None,
                detail=jsonable(baseline),
                started_at=now,
                finished_at=now,
            )
        )


def get_baseline(store: Store, workspace: str, check_name: str) -> dict[str, Any] | None:
    """The stored drift baseline of a check, if any."""
    q = (
        sa.select(check_runs.c.detail)
        .where(
            check_runs.c.workspace == workspace,
            check_runs.c.check_name == check_name,
            check_runs.c.check_type == BASELINE_TYPE,
        )
        .limit(1)
    )
    with store.connect() as c:
        row = c.execute(q).first()
    return dict(row[0]) if row else None


def clear_baseline(store: Store, workspace: str, check_name: str) -> bool:
    """Forget a drift baseline so the next run stores a new one; True when one existed."""
    with store.begin() as c:
        result = c.execute(
            check_runs.delete().where(
                check_runs.c.workspace == workspace,
                check_runs.c.check_name == check_name,
                check_runs.c.check_type == BASELINE_TYPE,
            )
        )
    return bool(result.rowcount)

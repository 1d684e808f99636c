"""What the quality page shows, read from the store (and the warehouse for drill-downs) in one call each."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from datatruth import resources
from datatruth.quality import schema_registry
from datatruth.quality.outcome import CheckOutcome
from datatruth.quality.profile import TableProfile, histogram, profile_table
from datatruth.quality.source import open_source
from datatruth.store import checks as check_store
from datatruth.store.engine import Store
from datatruth.store.schema import check_runs

if TYPE_CHECKING:
    from datatruth.workspace.registry import Workspace


# A failing critical check caps what the score can read: below the amber band, so it never looks healthy.
CRITICAL_CAP = 79.0
GREEN_FROM, AMBER_FROM = 95.0, 80.0
# A drill-down profile is live data: kept this long for its table and run, then profiled again.
DETAIL_TTL_S = 600.0
_STATUS_ORDER = {"error": 0, "fail": 1, "pass": 2}
_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Gauge:
    """One score as the page shows it: measured value, the value shown (capped when critical checks fail)."""

    title: str
    measured: float | None
    critical_failed: int = 0

    @property
    def shown(self) -> float | None:
        """The measured score, capped at CRITICAL_CAP while a critical check behind it fails."""
        if self.measured is None or not self.critical_failed:
            return self.measured
        return min(self.measured, CRITICAL_CAP)

    @property
    def capped(self) -> bool:
        """True when the shown score is lower than the measured one because of failing critical checks."""
        return self.shown is not None and self.measured is not None and self.shown < self.measured

    @property
    def colour(self) -> str:
        """red, amber, green, or grey when nothing measured it."""
        if self.critical_failed:
            return "red"
        if self.shown is None:
            return "grey"
        return "green" if self.shown >= GREEN_FROM else "amber" if self.shown >= AMBER_FROM else "red"


def rank_outcomes(outcomes: tuple[CheckOutcome, ...] | list[CheckOutcome]) -> tuple[CheckOutcome, ...]:
    """Failed and erroring checks first, critical before warning before info, then by name."""
    return tuple(
        sorted(
            outcomes,
            key=lambda o: (_STATUS_ORDER.get(o.status, 0), _SEVERITY_ORDER.get(o.severity, 0), o.check_name),
        )
    )


@dataclass(frozen=True)
class QualityOverview:
    """The newest run of a workspace: scores, outcomes and run history."""

    run_id: str | None
    workspace_score: float | None
    dimensions: dict[str, float | None]
    tables: tuple[tuple[str, float | None, dict[str, float | None]], ...]  # ranked worst first
    outcomes: tuple[CheckOutcome, ...]
    runs: tuple[check_store.RunSummary, ...]
    score_trend: tuple[check_store.MetricPoint, ...]

    @property
    def empty(self) -> bool:
        """True when the workspace has never run its checks."""
        return self.run_id is None

    @property
    def critical_failures(self) -> tuple[CheckOutcome, ...]:
        """Critical checks that failed (or could not run) in this run."""
        return tuple(o for o in self.outcomes if o.failed and o.severity == "critical")

    def gauges(self, dimensions: tuple[str, ...]) -> tuple[Gauge, ...]:
        """The workspace gauge, then one per dimension; a failing critical check reddens and caps its own
        dimension and the workspace."""
        critical = self.critical_failures
        per_dim = {d: sum(1 for o in critical if str(o.detail.get("dimension", "")) == d) for d in dimensions}
        out = [Gauge("Workspace", self.workspace_score, len(critical))]
        out += [Gauge(d.title(), self.dimensions.get(d), per_dim[d]) for d in dimensions]
        return tuple(out)


@dataclass(frozen=True)
class TableDetail:
    """Drill-down of one table: live profile, failed checks with examples, schema history."""

    table: str
    profile: TableProfile
    failed: tuple[CheckOutcome, ...]
    outcomes: tuple[CheckOutcome, ...]
    schema_versions: tuple[schema_registry.SchemaVersion, ...]


def overview(store: Store, workspace: str) -> QualityOverview:
    """Scores and outcomes of the newest run, plus the workspace score trend."""
    runs = tuple(check_store.runs(store, workspace, limit=50))
    q = (
        sa.select(check_runs.c.run_id)
        .where(check_runs.c.workspace == workspace, check_runs.c.check_name == "score:")
        .order_by(check_runs.c.id.desc())
        .limit(1)
    )
    with store.connect() as c:
        row = c.execute(q).first()
    if row is None and not runs:
        return QualityOverview(None, None, {}, (), (), (), ())
    run_id = row[0] if row else runs[0].run_id
    sq = sa.select(check_runs.c.table_name, check_runs.c.metric_value, check_runs.c.detail).where(
        check_runs.c.workspace == workspace, check_runs.c.run_id == run_id, check_runs.c.check_type == "score"
    )
    with store.connect() as c:
        scores = list(c.execute(sq))
    ws_row = next((r for r in scores if r[0] is None), None)
    tables = sorted(
        ((r[0], r[1], dict((r[2] or {}).get("dimensions", {}))) for r in scores if r[0] is not None),
        key=lambda t: (t[1] is None, t[1] or 0),
    )
    return QualityOverview(
        run_id=run_id,
        workspace_score=ws_row[1] if ws_row else None,
        dimensions=dict((ws_row[2] or {}).get("dimensions", {})) if ws_row else {},
        tables=tuple(tables),
        outcomes=rank_outcomes(check_store.run_outcomes(store, workspace, run_id)),
        runs=runs,
        score_trend=tuple(check_store.metric_history(store, workspace, "score:")),
    )


def table_detail(ws: Workspace, store: Store, table: str) -> TableDetail:
    """Profile one table now and gather its newest outcomes and schema versions."""
    from datatruth.quality.profile import masked_profile
    from datatruth.quality.runner import sensitive_of, workspace_now

    source = open_source(ws)
    try:
        prof = masked_profile(profile_table(source, table, now=workspace_now(ws)), sensitive_of(ws))
    finally:
        source.close()
    latest: dict[str, CheckOutcome] = {}
    for run in check_store.runs(store, ws.name, limit=20)[::-1]:
        for o in check_store.run_outcomes(store, ws.name, run.run_id):
            if o.table == table:
                latest[o.check_name] = o
    outcomes = tuple(latest.values())
    return TableDetail(
        table,
        prof,
        tuple(o for o in outcomes if o.failed),
        outcomes,
        tuple(schema_registry.history(store, ws.name, table)),
    )


@dataclass(frozen=True)
class PendingDetail:
    """A drill-down being computed on a worker thread, and when it was started."""

    future: Future[TableDetail]
    started: float

    def fresh(self) -> bool:
        """Younger than DETAIL_TTL_S and not failed (a failure is tried again on the next visit)."""
        failed = self.future.done() and self.future.exception() is not None
        return not failed and time.monotonic() - self.started < DETAIL_TTL_S


_DETAIL_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="quality-detail")


def table_detail_soon(ws: Workspace, store: Store, table: str, run_id: str | None) -> Future[TableDetail]:
    """The drill-down of `table` for the run `run_id`, started on a worker thread (once per table, run and
    DETAIL_TTL_S in this process); `.result()` waits for it and raises what `table_detail` raised.

    The page starts it before drawing the sections above the drill-down: the profile's queries then run in
    the warehouse while those sections are sent and drawn, instead of after them.
    """
    pending = resources.get(
        "table-detail",
        ws.name,
        lambda: PendingDetail(_DETAIL_POOL.submit(table_detail, ws, store, table), time.monotonic()),
        slot=(resources.workspace_stamp(ws), table, run_id),
        fresh=PendingDetail.fresh,
    )
    return pending.future


def column_distribution(ws: Workspace, table: str, column: str, bins: int = 30) -> list[tuple[Any, Any, int]]:
    """Histogram bins (low, high, count) of a numeric column, computed in SQL."""
    source = open_source(ws)
    try:
        return histogram(source, table, column, bins)
    finally:
        source.close()


def check_trend(store: Store, workspace: str, check_name: str) -> list[check_store.MetricPoint]:
    """Metric values of one check over runs, oldest first."""
    return check_store.metric_history(store, workspace, check_name)

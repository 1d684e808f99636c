"""Run a workspace's checks: snapshot schemas, profile tables, run checks, score, store, hand off to incidents."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from datatruth.errors import ConfigError, NotFound
from datatruth.quality import schema_registry
from datatruth.quality.checks import CheckContext, run_check
from datatruth.quality.outcome import CheckOutcome
from datatruth.quality.profile import TableProfile, masked_profile, profile_table
from datatruth.quality.scores import WorkspaceScore, score_workspace
from datatruth.quality.source import Source, open_source
from datatruth.quality.spec import CheckSuite, load_checks, validate_against
from datatruth.store import checks as check_store
from datatruth.store.engine import Store, utcnow

if TYPE_CHECKING:
    from datatruth.workspace.registry import Workspace

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class QualityRun:
    """What one run produced."""

    run_id: str
    outcomes: tuple[CheckOutcome, ...]
    scores: WorkspaceScore
    started: dt.datetime
    finished: dt.datetime
    profiles: tuple[TableProfile, ...] = ()
    schema_versions: tuple[schema_registry.SchemaVersion, ...] = ()

    @property
    def failed(self) -> tuple[CheckOutcome, ...]:
        """Failing or erroring outcomes."""
        return tuple(o for o in self.outcomes if o.failed)

    @property
    def critical_failed(self) -> bool:
        """True when a critical check failed (the CLI exits 1)."""
        return any(o.failed and o.severity == "critical" for o in self.outcomes)


def workspace_now(ws: Workspace) -> dt.datetime:
    """'Now' for freshness: the end of the pinned clock day, or the real UTC time."""
    if ws.config.clock:
        return dt.datetime.combine(ws.config.clock, dt.time(23, 59, 59))
    return utcnow()


def load_suite(ws: Workspace, source: Source, tables: list[str]) -> CheckSuite:
    """The workspace's checks, validated against the warehouse's tables and columns (all issues at once)."""
    suite = load_checks(ws.config.checks_file)
    catalog = {t: {c.name for c in source.columns(t)} for t in tables}
    issues = validate_against(suite, catalog)
    if issues:
        raise ConfigError(
            f"{suite.path} names things the warehouse does not have", "fix every line listed", issues
        )
    return suite


def sensitive_of(ws: Workspace) -> frozenset[str]:
    """The columns whose values quality results store masked (none when allow_raw_samples is on)."""
    if ws.config.allow_raw_samples:
        return frozenset()
    return frozenset(s.lower() for s in ws.config.sensitive_columns)


def _exposed(ws: Workspace, tables: list[str]) -> frozenset[str]:
    return (
        frozenset(ws.config.exposed_tables)
        if ws.config.exposed_tables
        else frozenset(t.lower() for t in tables)
    )


def run_checks(
    ws: Workspace,
    store: Store,
    *,
    table: str | None = None,
    progress: Progress | None = None,
    user: str | None = None,
) -> QualityRun:
    """Profile, check and score the workspace (or one table), store every outcome and notify incidents.

    When `user` is given (the app), they must hold the run_checks permission; the CLI runs as the operator.
    """
    if user is not None:
        from datatruth.access import require

        require(store, ws.name, user, "run_checks")
    started = utcnow()
    run_id = uuid.uuid4().hex[:16]
    report = progress or (lambda _f, _m: None)
    now = workspace_now(ws)
    source = open_source(ws)
    try:
        all_tables = source.table_names()
        if table is not None and table not in all_tables:
            raise NotFound(
                f"table '{table}' does not exist in workspace {ws.name}", f"tables: {', '.join(all_tables)}"
            )
        tables = [table] if table else all_tables
        suite = load_suite(ws, source, all_tables)
        specs = suite.for_table(table)
        steps = max(1, 2 * len(tables) + len(specs))
        done = 0
        versions = []
        breaking: dict[str, list[str]] = {}
        profiles = []
        for t in tables:
            cols = tuple((c.name, c.type, c.nullable) for c in source.columns(t))
            version = schema_registry.snapshot(store, ws.name, t, cols)
            versions.append(version)
            if version.breaking and version.created_at >= started:
                breaking[t] = [f"{c.kind} {c.detail}" for c in version.changes if c.breaking] or [
                    "incompatible change"
                ]
            done += 1
            report(done / steps, f"profiling {t}")
            profiles.append(masked_profile(profile_table(source, t, now=now), sensitive_of(ws)))
            done += 1
        ctx = CheckContext(
            source=source,
            workspace=ws.name,
            run_id=run_id,
            now=now,
            sensitive=sensitive_of(ws),
            history=lambda name: [
                p.value for p in check_store.metric_history(store, ws.name, name) if p.value is not None
            ],
            baseline_get=lambda name: check_store.get_baseline(store, ws.name, name),
            baseline_put=lambda name, b: check_store.save_baseline(store, ws.name, name, b),
            breaking_changes=breaking,
            exposed_tables=_exposed(ws, all_tables),
            row_cap=ws.config.limits.row_cap,
        )
        outcomes = []
        for spec in specs:
            report(done / steps, f"check {spec.name}")
            outcomes.append(run_check(ctx, spec))
            done += 1
        # A breaking schema change fails the table's schema check; tables without one get an implicit check.
        declared = {s.table for s in specs if s.type == "schema"}
        for t, changes in breaking.items():
            if t not in declared:
                outcomes.append(_implicit_schema_outcome(run_id, now, t, changes))
        finished = utcnow()
        scores = score_workspace(profiles, outcomes)
        check_store.save_outcomes(store, ws.name, run_id, outcomes, started, finished)
        check_store.save_scores(
            store,
            ws.name,
            run_id,
            scores.as_dict() if table is None else {k: v for k, v in scores.as_dict().items() if k},
            finished,
        )
        _notify_incidents(store, ws, tuple(outcomes))
        report(1.0, f"{len(outcomes)} checks, {sum(o.failed for o in outcomes)} failed")
        return QualityRun(
            run_id, tuple(outcomes), scores, started, finished, tuple(profiles), tuple(versions)
        )
    finally:
        source.close()


def _implicit_schema_outcome(run_id: str, now: dt.datetime, table: str, changes: list[str]) -> CheckOutcome:
    """The failing outcome of the registry's own schema check on a table with a breaking change."""
    return CheckOutcome(
        check_name=f"schema_registry_{table}",
        check_type="schema",
        table=table,
        column=None,
        status="fail",
        severity="critical",
        owner=None,
        metric_value=float(len(changes)),
        threshold="no breaking change",
        message=f"breaking schema change in {table}: " + "; ".join(changes),
        run_id=run_id,
        at=now,
        detail={"dimension": "validity", "problems": changes},
    )


def _notify_incidents(store: Store, ws: Workspace, outcomes: tuple[CheckOutcome, ...]) -> None:
    """Hand outcomes to the incident board when that module is installed."""
    try:
        from datatruth.incidents.service import process_outcomes
    except ModuleNotFoundError as err:
        if err.name not in ("datatruth.incidents.service", "datatruth.incidents"):
            raise
        return
    process_outcomes(store, ws, outcomes)

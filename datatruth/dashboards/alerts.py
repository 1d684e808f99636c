"""Tile alerts: a threshold on a tile's metric, checked on refresh; a breach opens an incident, recovery resolves it.

The value an alert looks at is the tile's latest value: the single row of a KPI, the last period of a time
series, or every row of a result by category (the alert fires when any row breaches).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp

from datatruth.ask.answer import Answer
from datatruth.ask.explain import as_number, format_label, format_value
from datatruth.ask.rows import as_frame
from datatruth.dashboards.run import Filters, TileRun, run_tile
from datatruth.errors import InternalError, UserError, present
from datatruth.incidents.service import SEVERITY_ORDER, ProcessReport, Signal, process_signals
from datatruth.store import dashboards as repo
from datatruth.store.engine import Store
from datatruth.workspace.registry import Workspace

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_AST_OPS: dict[type, str] = {
    exp.LT: "<",
    exp.LTE: "<=",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.EQ: "==",
    exp.NEQ: "!=",
}


@dataclass(frozen=True)
class AlertRule:
    """Alert when `metric op value`, e.g. on_time_rate < 0.75 (percent metrics are fractions)."""

    metric: str
    op: str
    value: float
    severity: str = "warning"

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise UserError(f"unknown alert operator '{self.op}'", f"use one of {' '.join(OPERATORS)}")
        if self.severity not in SEVERITY_ORDER:
            raise UserError(f"unknown severity '{self.severity}'", f"use one of {', '.join(SEVERITY_ORDER)}")
        if not math.isfinite(self.value):
            raise UserError("an alert threshold must be a finite number", "e.g. 0.75")

    def describe(self) -> str:
        """The rule as text, e.g. 'on_time_rate < 0.75'."""
        return f"{self.metric} {self.op} {self.value:g}"

    def to_dict(self) -> dict[str, Any]:
        """The rule as JSON-able data (stored on the tile)."""
        return {"metric": self.metric, "op": self.op, "value": self.value, "severity": self.severity}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlertRule:
        """Read a stored rule."""
        try:
            return cls(
                str(data["metric"]),
                str(data["op"]),
                float(data["value"]),
                str(data.get("severity", "warning")),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise UserError(f"the stored alert is malformed: {err}", "set the alert again") from None


def parse_rule(text: str, severity: str = "warning") -> AlertRule:
    """Read 'on_time_rate < 75%' or 'revenue >= 1e6' (a trailing % divides by 100)."""
    cleaned = text.strip()
    percent = cleaned.endswith("%")
    if percent:
        cleaned = cleaned[:-1].rstrip()
    try:
        tree = sqlglot.parse_one(cleaned.replace("==", "="))
    except sqlglot.errors.ParseError:
        tree = None
    op = _AST_OPS.get(type(tree)) if tree is not None else None
    # Every operator in _AST_OPS is a Binary; the isinstance check only tells the type checker so.
    if (
        op is None
        or not isinstance(tree, exp.Binary)
        or not isinstance(tree.left, exp.Column)
        or not isinstance(tree.right, exp.Literal | exp.Neg)
    ):
        raise UserError(
            f"cannot read the alert rule '{text}'", "write METRIC OPERATOR NUMBER, e.g. on_time_rate < 75%"
        )
    number = float(tree.right.this.this if isinstance(tree.right, exp.Neg) else tree.right.this)
    if isinstance(tree.right, exp.Neg):
        number = -number
    return AlertRule(tree.left.name, op, number / 100 if percent else number, severity)


@dataclass(frozen=True)
class AlertCheck:
    """The value an alert looked at and whether it breached the rule."""

    value: float | None
    breached: bool
    where: str = ""  # the row it came from (a period or category), empty for a KPI
    format: str | None = None  # the metric's number format, for showing the value

    def shown(self) -> str:
        """The value in the metric's format (0.74 → 74.00% for a percent metric)."""
        return format_value(self.value, self.format)


def evaluate(rule: AlertRule, answer: Answer) -> AlertCheck:
    """Compare the answer's latest value(s) of the rule's metric with the threshold."""
    frame = as_frame(answer.frame)  # a dashboard's answers are DataFrames; Rows only come from `ask --json`
    fmt = next((c.format for c in answer.columns if c.name == rule.metric), None)
    if rule.metric not in frame.columns:
        raise UserError(
            f"the tile has no metric '{rule.metric}'",
            f"its metrics are {', '.join(c.name for c in answer.columns if c.role == 'metric')}",
        )
    if frame.empty:
        return AlertCheck(None, False, "no rows", fmt)
    times = [c for c in answer.columns if c.role == "time"]
    labels = [c for c in answer.columns if c.role in ("time", "dimension")]
    rows = frame
    if times:
        latest = frame[times[0].name].max()
        rows = frame[frame[times[0].name] == latest]
    compare = OPERATORS[rule.op]
    first: AlertCheck | None = None
    for _, row in rows.iterrows():
        value = as_number(row[rule.metric])
        where = ", ".join(format_label(row[c.name], c) for c in labels)
        check = AlertCheck(value, value is not None and compare(value, rule.value), where, fmt)
        if check.breached:
            return check
        first = first or check
    if first is None:  # no row holds the latest period (its time column is empty on every row)
        return AlertCheck(None, False, "no rows", fmt)
    return first


@dataclass(frozen=True)
class AlertOutcome:
    """One alert tile after a refresh."""

    tile: repo.Tile
    rule: AlertRule
    check: AlertCheck | None  # None when the tile could not be rendered (stale or failed)
    problem: str = ""

    @property
    def fired(self) -> bool:
        """True when the threshold was breached."""
        return self.check is not None and self.check.breached

    def describe(self) -> str:
        """One line for the CLI and the page."""
        if self.check is None:
            return f"tile {self.tile.id} '{self.tile.title}': not evaluated ({self.problem})"
        shown = self.check.shown()
        state = "FIRED" if self.fired else "ok"
        where = f" at {self.check.where}" if self.check.where else ""
        return (
            f"tile {self.tile.id} '{self.tile.title}': {state} — {self.rule.metric} = {shown}{where} "
            f"(alert when {self.rule.op} {format_value(self.rule.value, self.check.format)})"
        )


@dataclass(frozen=True)
class RefreshReport:
    """What a scheduled refresh did: tiles refreshed, alerts checked, incidents touched."""

    workspace: str
    tiles_refreshed: int
    alerts: tuple[AlertOutcome, ...]
    incidents: ProcessReport

    @property
    def fired(self) -> tuple[AlertOutcome, ...]:
        """The alerts that breached."""
        return tuple(a for a in self.alerts if a.fired)

    @property
    def unevaluated(self) -> tuple[AlertOutcome, ...]:
        """Alerts whose tile could not be rendered."""
        return tuple(a for a in self.alerts if a.check is None)


def dedup_key(tile: repo.Tile) -> str:
    """One incident per alert tile."""
    return f"alert:dashboard:{tile.dashboard_id}:tile:{tile.id}"


def outcome_of(tile_run: TileRun) -> AlertOutcome:
    """Evaluate the alert of a rendered tile."""
    if not tile_run.tile.alert:
        raise InternalError(f"tile {tile_run.tile.id} has no alert to evaluate")
    rule = AlertRule.from_dict(tile_run.tile.alert)
    if tile_run.answer is None:
        return AlertOutcome(tile_run.tile, rule, None, tile_run.error or "no answer")
    try:
        return AlertOutcome(tile_run.tile, rule, evaluate(rule, tile_run.answer))
    except UserError as err:
        return AlertOutcome(tile_run.tile, rule, None, err.message)


def signal_of(outcome: AlertOutcome) -> Signal:
    """The incident signal of an evaluated alert (failed when it breached)."""
    tile, rule, check = outcome.tile, outcome.rule, present(outcome.check, "the alert's evaluation")
    title = (
        f"Alert on '{tile.title}': {rule.metric} = {check.shown()}"
        f" ({rule.op} {format_value(rule.value, check.format)})"
    )
    return Signal(
        source="alert",
        dedup_key=dedup_key(tile),
        title=title,
        severity=rule.severity,
        failed=check.breached,
        metric_value=check.value,
        message=outcome.describe(),
        detail={
            "dashboard_id": tile.dashboard_id,
            "tile_id": tile.id,
            "rule": rule.to_dict(),
            "where": check.where,
        },
    )


def refresh(store: Store, ws: Workspace, user: str, dashboard_id: int | None = None) -> RefreshReport:
    """Re-run every tile (bypassing the cache) of one or all dashboards, then check alerts and open incidents."""
    from datatruth import access

    # A refresh opens and resolves incidents for everyone: the same role as running the quality checks.
    access.require(store, ws.name, user, "run_checks")
    boards = (
        [repo.get(store, ws.name, dashboard_id)]
        if dashboard_id is not None
        else repo.list_all(store, ws.name)
    )
    outcomes: list[AlertOutcome] = []
    count = 0
    for board in boards:
        filters = Filters.from_dict(board.filters)
        for tile in repo.tiles_of(store, ws.name, board.id):
            run = run_tile(ws, store, user, tile, filters, refresh=True)
            count += 1
            if tile.alert:
                outcomes.append(outcome_of(run))
    # Alerts that could not be evaluated send no signal: an unknown value neither opens nor resolves.
    signals = [signal_of(o) for o in outcomes if o.check is not None]
    report = process_signals(store, ws, signals)
    return RefreshReport(ws.name, count, tuple(outcomes), report)

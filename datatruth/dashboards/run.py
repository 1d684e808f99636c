"""Re-run pinned plans: dashboard filters folded into each tile's plan, then compile → guard → execute (cache).

A tile stores a plan, not rows, so every render goes through the same compiler, guard and result cache as a
question does. When the semantic model changed so that the stored plan no longer compiles, the tile is
reported as stale instead of failing the whole dashboard.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from datatruth import access
from datatruth.ask import pipeline
from datatruth.ask.answer import Answer
from datatruth.errors import UserError, present
from datatruth.semantic.model import SemanticLayer
from datatruth.semantic.plan import Filter, QueryPlan, TimeRange
from datatruth.store import dashboards as repo
from datatruth.store.engine import Store
from datatruth.workspace.registry import Workspace


@dataclass(frozen=True)
class CategoryFilter:
    """A dashboard filter on a categorical dimension, e.g. customer__region in (West, South)."""

    dimension: str
    values: tuple[str, ...]

    def describe(self) -> str:
        """The filter as short text."""
        return f"{self.dimension} in ({', '.join(self.values)})"


@dataclass(frozen=True)
class Filters:
    """The filters of a dashboard: a date range (both ends inclusive) and categorical filters."""

    start: dt.date | None = None
    end: dt.date | None = None
    categories: tuple[CategoryFilter, ...] = ()

    @property
    def empty(self) -> bool:
        """True when nothing is filtered."""
        return self.start is None and self.end is None and not self.categories

    def to_dict(self) -> dict[str, Any]:
        """The filters as JSON-able data (stored on the dashboard row)."""
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "categories": [{"dimension": c.dimension, "values": list(c.values)} for c in self.categories],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Filters:
        """Read stored filter data (None or {} means no filters); UserError for malformed data."""
        if not data:
            return cls()
        try:
            start = dt.date.fromisoformat(data["start"]) if data.get("start") else None
            end = dt.date.fromisoformat(data["end"]) if data.get("end") else None
            cats = tuple(
                CategoryFilter(str(c["dimension"]), tuple(str(v) for v in c.get("values") or ()))
                for c in data.get("categories") or ()
            )
        except (KeyError, TypeError, ValueError) as err:
            raise UserError(
                f"the dashboard's saved filters are malformed: {err}", "save the filters again"
            ) from None
        if start and end and end < start:
            raise UserError(
                f"the filter ends ({end}) before it starts ({start})", "pick an end on or after the start"
            )
        return cls(start, end, tuple(c for c in cats if c.values))


@dataclass(frozen=True)
class EffectivePlan:
    """A tile's plan with the dashboard filters that apply to it, and the ones that do not (with why)."""

    plan: QueryPlan
    applied: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class TileRun:
    """One tile rendered: its answer, or why there is none (stale plan or another error)."""

    tile: repo.Tile
    answer: Answer | None
    applied: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    stale: bool = False
    error: str = ""
    hint: str = ""


@dataclass(frozen=True)
class DashboardRun:
    """A dashboard rendered with the filters used."""

    dashboard: repo.Dashboard
    filters: Filters
    tiles: tuple[TileRun, ...]
    can_edit: bool


def model_version(store: Store, ws: Workspace) -> str:
    """The semantic model version to pin with: the stored version number, else the layer's content hash."""
    if importlib.util.find_spec("datatruth.semantic.versions") is not None:
        from datatruth.semantic.versions import current_version

        return f"v{current_version(store, ws)}"
    layer = present(pipeline.workspace_resources(ws, store).layer, "the semantic layer")
    return layer.version_hash


def _compiles(plan: QueryPlan, layer: SemanticLayer, dialect: str) -> str | None:
    """None when the plan compiles, else the compiler's message."""
    from datatruth.semantic.compiler import compile_plan

    try:
        compile_plan(plan, layer, dialect)
    except UserError as err:
        return err.message
    return None


def effective_plan(plan: QueryPlan, filters: Filters, layer: SemanticLayer, dialect: str) -> EffectivePlan:
    """Fold dashboard filters into a plan: the date range always, a category only where the dimension exists."""
    applied: list[str] = []
    skipped: list[str] = []
    if filters.start or filters.end:
        end = filters.end + dt.timedelta(days=1) if filters.end else None  # plans use an exclusive end
        label = f"{filters.start or '…'} to {filters.end or '…'}"
        candidate = replace(plan, time_range=TimeRange(filters.start, end, label))
        problem = _compiles(candidate, layer, dialect)
        if problem is None:
            plan = candidate
            applied.append(f"date {label}")
        else:
            skipped.append(f"date {label}: {problem}")
    for cat in filters.categories:
        if not layer.has_dimension(cat.dimension):
            skipped.append(f"{cat.describe()}: this model has no {cat.dimension}")
            continue
        candidate = replace(plan, filters=(*plan.filters, Filter(cat.dimension, "in", cat.values)))
        problem = _compiles(candidate, layer, dialect)
        if problem is None:
            plan = candidate
            applied.append(cat.describe())
        else:
            # The dimension exists but is not reachable from this tile's metrics (another fact table).
            skipped.append(f"{cat.describe()}: {problem}")
    return EffectivePlan(plan, tuple(applied), tuple(skipped))


_RUN_STAGES: tuple[tuple[str, Callable[[pipeline.AskState], pipeline.AskState]], ...] = (
    ("access", pipeline.stage_access),
    ("compile", pipeline.stage_compile),
    ("guard", pipeline.stage_guard),
    ("execute", pipeline.stage_execute),
    ("answer", pipeline.stage_answer),
)


def run_plan(
    ws: Workspace, plan: QueryPlan, *, user: str, store: Store, refresh: bool = False, question: str = ""
) -> Answer:
    """Execute a stored plan through the compiler, guard and result cache (no planner, quota or history)."""
    # A tile render is not a new question: it neither counts against the hourly quota nor fills the history.
    request = pipeline.AskRequest(ws, question.strip() or plan.describe(), user, store, refresh=refresh)
    state = pipeline.AskState(request, time.perf_counter(), plan=plan)
    for _name, stage in _RUN_STAGES:
        state = stage(state)
    return present(state.answer, "the answer (the last stages make it)")


def run_tile(
    ws: Workspace,
    store: Store,
    user: str,
    tile: repo.Tile,
    filters: Filters | None = None,
    refresh: bool = False,
) -> TileRun:
    """Render one tile: stale when its plan no longer compiles; other user errors are shown on the tile."""
    access.require(store, ws.name, user, "read")
    layer = present(pipeline.workspace_resources(ws, store).layer, "the semantic layer")
    try:
        plan = QueryPlan.from_dict(tile.plan)
    except UserError as err:
        return TileRun(tile, None, stale=True, error=err.message, hint="re-plan the tile from its question")
    problem = _compiles(plan, layer, ws.warehouse.dialect)
    if problem is not None:
        return TileRun(
            tile,
            None,
            stale=True,
            error=problem,
            hint=f"the semantic model changed since this tile was pinned ({tile.model_version or '?'}); "
            "re-plan it from its question",
        )
    effective = effective_plan(plan, filters or Filters(), layer, ws.warehouse.dialect)
    try:
        answer = run_plan(
            ws, effective.plan, user=user, store=store, refresh=refresh, question=tile.question or tile.title
        )
    except UserError as err:
        return TileRun(tile, None, effective.applied, effective.skipped, error=err.message, hint=err.hint)
    return TileRun(tile, answer, effective.applied, effective.skipped)


def run_dashboard(
    ws: Workspace,
    store: Store,
    user: str,
    dashboard_id: int,
    filters: Filters | None = None,
    refresh: bool = False,
) -> DashboardRun:
    """Render every tile of a dashboard with `filters` (default: the dashboard's saved filters)."""
    access.require(store, ws.name, user, "read")
    dashboard = repo.get(store, ws.name, dashboard_id)
    used = filters if filters is not None else Filters.from_dict(dashboard.filters)
    runs = tuple(
        run_tile(ws, store, user, tile, used, refresh) for tile in repo.tiles_of(store, ws.name, dashboard_id)
    )
    return DashboardRun(dashboard, used, runs, access.can(store, ws.name, user, "edit_dashboard"))

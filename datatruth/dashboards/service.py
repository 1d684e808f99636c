"""Dashboards as a service: pin answers, order and filter tiles, alerts, share links; roles checked here.

Viewers (and every other member) may open a dashboard; analysts and admins edit. Every write is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from datatruth import access
from datatruth.ask import pipeline
from datatruth.dashboards.alerts import AlertRule
from datatruth.dashboards.run import Filters, model_version
from datatruth.errors import NotFound, UserError, present
from datatruth.semantic.plan import QueryPlan
from datatruth.store import audit
from datatruth.store import dashboards as repo
from datatruth.store.engine import Store
from datatruth.workspace.registry import Workspace

KINDS = ("auto", "kpi", "chart", "table")


@dataclass(frozen=True)
class DashboardView:
    """A dashboard with its tiles (plans only, nothing run yet) and whether the user may edit it."""

    dashboard: repo.Dashboard
    tiles: tuple[repo.Tile, ...]
    can_edit: bool


def _require_edit(store: Store, ws_name: str, user: str) -> None:
    access.require(store, ws_name, user, "edit_dashboard")


def resolve(store: Store, ws_name: str, dashboard: int | str) -> repo.Dashboard:
    """A dashboard by id or by name (NotFound otherwise)."""
    if isinstance(dashboard, int) or str(dashboard).isdigit():
        return repo.get(store, ws_name, int(dashboard))
    found = repo.find(store, ws_name, str(dashboard))
    if found is None:
        names = ", ".join(d.name for d in repo.list_all(store, ws_name)) or "none yet"
        raise NotFound(f"no dashboard called '{dashboard}' in workspace '{ws_name}'", f"dashboards: {names}")
    return found


def create_dashboard(store: Store, ws_name: str, user: str, name: str) -> repo.Dashboard:
    """A new, empty dashboard (analyst+; audited)."""
    _require_edit(store, ws_name, user)
    with store.begin() as conn:
        board = repo.create(store, ws_name, name, user, conn=conn)
        audit.record(store, ws_name, user, "dashboard.create", str(board.id), {"name": board.name}, conn=conn)
    return board


def list_dashboards(store: Store, ws_name: str, user: str) -> list[repo.Dashboard]:
    """Every dashboard of the workspace (any member)."""
    access.require(store, ws_name, user, "read")
    return repo.list_all(store, ws_name)


def open_dashboard(store: Store, ws_name: str, user: str, dashboard_id: int) -> DashboardView:
    """A dashboard and its tiles for a member of the workspace (PermissionDenied otherwise)."""
    access.require(store, ws_name, user, "read")
    board = repo.get(store, ws_name, dashboard_id)
    return DashboardView(
        board,
        tuple(repo.tiles_of(store, ws_name, board.id)),
        access.can(store, ws_name, user, "edit_dashboard"),
    )


def open_shared(
    store: Store, ws_name: str, user: str, dashboard_id: int, tile_id: int | None = None
) -> DashboardView:
    """Open a shared link: only active members of the link's workspace get in, whoever sent the link."""
    # Membership is checked before the id is looked up so a non-member cannot probe which dashboards exist.
    view = open_dashboard(store, ws_name, user, dashboard_id)
    if tile_id is None:
        return view
    chosen = tuple(t for t in view.tiles if t.id == tile_id)
    if not chosen:
        raise NotFound(
            f"tile {tile_id} is not on dashboard '{view.dashboard.name}'", "the tile may have been removed"
        )
    return DashboardView(view.dashboard, chosen, view.can_edit)


def share_link(ws_name: str, dashboard_id: int, tile_id: int | None = None, base_url: str = "") -> str:
    """An absolute link to the Dashboards page that opens this dashboard (or one tile) for members of the
    workspace; the address comes from the DATATRUTH_BASE_URL setting unless `base_url` is given."""
    params: dict[str, Any] = {"ws": ws_name, "dashboard": dashboard_id}
    if tile_id is not None:
        params["tile"] = tile_id
    if not base_url:
        from datatruth.settings import load_settings

        base_url = load_settings().base_url
    return f"{base_url.rstrip('/')}/dashboards?{urlencode(params)}"


@dataclass(frozen=True)
class PinOutcome:
    """The tile an answer is on, and whether this pin added it (False: the same plan was already there)."""

    tile: repo.Tile
    added: bool


def _same_plan(stored: dict[str, Any], plan: QueryPlan) -> bool:
    try:
        other = QueryPlan.from_dict(stored)
    except UserError:
        return False
    # The evidence explains how words were read; two pins of the same numbers are the same tile.
    return replace(other, evidence=()) == replace(plan, evidence=())


def pin(
    store: Store,
    ws: Workspace,
    user: str,
    dashboard: int | str,
    title: str,
    question: str,
    plan: QueryPlan | dict[str, Any],
    kind: str = "auto",
) -> repo.Tile:
    """Pin an answer's plan (not its rows) with the model version; a dashboard named but missing is created.

    Pinning a plan the dashboard already shows returns that tile instead of adding a duplicate."""
    return pin_answer(store, ws, user, dashboard, title, question, plan, kind).tile


def pin_answer(
    store: Store,
    ws: Workspace,
    user: str,
    dashboard: int | str,
    title: str,
    question: str,
    plan: QueryPlan | dict[str, Any],
    kind: str = "auto",
) -> PinOutcome:
    """Like `pin`, and say whether a tile was added or the same plan was already on the dashboard."""
    _require_edit(store, ws.name, user)
    if kind not in KINDS:
        raise UserError(f"unknown tile kind '{kind}'", f"use one of {', '.join(KINDS)}")
    query_plan = plan if isinstance(plan, QueryPlan) else QueryPlan.from_dict(plan)
    layer = present(pipeline.workspace_resources(ws, store).layer, "the semantic layer")
    from datatruth.semantic.compiler import compile_plan

    compile_plan(query_plan, layer, ws.warehouse.dialect)  # only a plan the current model answers is pinned
    version = model_version(store, ws)
    board = None
    if isinstance(dashboard, str) and not dashboard.isdigit():
        board = repo.find(store, ws.name, dashboard)
    elif dashboard is not None:
        board = repo.get(store, ws.name, int(dashboard))
    if board is not None:
        for existing in repo.tiles_of(store, ws.name, board.id):
            if _same_plan(existing.plan, query_plan):
                return PinOutcome(existing, False)
    with store.begin() as conn:
        if board is None:
            board = repo.create(store, ws.name, str(dashboard), user, conn=conn)
            audit.record(
                store, ws.name, user, "dashboard.create", str(board.id), {"name": board.name}, conn=conn
            )
        tile = repo.add_tile(
            store,
            ws.name,
            board.id,
            title=(title or question or query_plan.describe()).strip()[:300],
            question=question.strip() or None,
            plan=query_plan.to_dict(),
            model_version=version,
            kind=kind,
            conn=conn,
        )
        audit.record(
            store,
            ws.name,
            user,
            "dashboard.pin",
            str(tile.id),
            {"dashboard_id": board.id, "question": question[:200], "model_version": version},
            conn=conn,
        )
    return PinOutcome(tile, True)


def replan(store: Store, ws: Workspace, user: str, tile_id: int) -> repo.Tile:
    """Re-run a tile's stored question through the planner and keep the new plan (for a stale tile)."""
    _require_edit(store, ws.name, user)
    tile = repo.get_tile(store, ws.name, tile_id)
    if not tile.question:
        raise UserError(
            f"tile {tile_id} has no stored question to re-plan", "remove it and pin the answer again"
        )
    plan, _sql = pipeline.plan_only(ws, tile.question, store=store)
    version = model_version(store, ws)
    with store.begin() as conn:
        repo.update_tile(store, ws.name, tile_id, conn=conn, plan=plan.to_dict(), model_version=version)
        audit.record(
            store, ws.name, user, "dashboard.replan", str(tile_id), {"model_version": version}, conn=conn
        )
    return repo.get_tile(store, ws.name, tile_id)


def move_tile(store: Store, ws_name: str, user: str, tile_id: int, offset: int) -> None:
    """Move a tile up (offset -1) or down (+1) by swapping it with its neighbour."""
    _require_edit(store, ws_name, user)
    tile = repo.get_tile(store, ws_name, tile_id)
    ordered = repo.tiles_of(store, ws_name, tile.dashboard_id)
    index = next(i for i, t in enumerate(ordered) if t.id == tile_id)
    target = index + offset
    if offset == 0 or not 0 <= target < len(ordered):
        return
    ordered.insert(target, ordered.pop(index))
    with store.begin() as conn:
        # Renumber all tiles: positions may have gaps or ties after removals, a swap alone would not fix that.
        for position, t in enumerate(ordered):
            if t.position != position:
                repo.update_tile(store, ws_name, t.id, conn=conn, position=position)
        audit.record(store, ws_name, user, "dashboard.move_tile", str(tile_id), {"to": target}, conn=conn)


def remove_tile(store: Store, ws_name: str, user: str, tile_id: int) -> None:
    """Delete a tile from its dashboard (audited)."""
    _require_edit(store, ws_name, user)
    tile = repo.get_tile(store, ws_name, tile_id)
    with store.begin() as conn:
        repo.delete_tile(store, ws_name, tile_id, conn)
        audit.record(
            store,
            ws_name,
            user,
            "dashboard.remove_tile",
            str(tile_id),
            {"dashboard_id": tile.dashboard_id, "title": tile.title},
            conn=conn,
        )


def rename_tile(store: Store, ws_name: str, user: str, tile_id: int, title: str) -> None:
    """Give a tile a new title."""
    _require_edit(store, ws_name, user)
    if not title.strip():
        raise UserError("a tile needs a title", "type a few words")
    repo.get_tile(store, ws_name, tile_id)
    with store.begin() as conn:
        repo.update_tile(store, ws_name, tile_id, conn=conn, title=title.strip()[:300])
        audit.record(
            store, ws_name, user, "dashboard.rename_tile", str(tile_id), {"title": title[:200]}, conn=conn
        )


def delete_dashboard(store: Store, ws_name: str, user: str, dashboard_id: int) -> None:
    """Delete a dashboard and its tiles (audited)."""
    _require_edit(store, ws_name, user)
    board = repo.get(store, ws_name, dashboard_id)
    with store.begin() as conn:
        repo.delete(store, ws_name, dashboard_id, conn)
        audit.record(
            store, ws_name, user, "dashboard.delete", str(dashboard_id), {"name": board.name}, conn=conn
        )


def save_filters(store: Store, ws_name: str, user: str, dashboard_id: int, filters: Filters) -> None:
    """Save a dashboard's filters for everyone who opens it (analyst+; audited)."""
    _require_edit(store, ws_name, user)
    repo.get(store, ws_name, dashboard_id)
    with store.begin() as conn:
        repo.set_filters(
            store, ws_name, dashboard_id, None if filters.empty else filters.to_dict(), conn=conn
        )
        audit.record(
            store, ws_name, user, "dashboard.filters", str(dashboard_id), filters.to_dict(), conn=conn
        )


def set_alert(store: Store, ws_name: str, user: str, tile_id: int, rule: AlertRule | None) -> None:
    """Put a threshold alert on a tile, or remove it with None (the metric must be one of the tile's)."""
    _require_edit(store, ws_name, user)
    tile = repo.get_tile(store, ws_name, tile_id)
    if rule is not None:
        metrics = list(tile.plan.get("metrics") or []) + [
            a["name"] for a in tile.plan.get("adhoc_metrics") or []
        ]
        if rule.metric not in metrics:
            raise UserError(
                f"tile {tile_id} does not show '{rule.metric}'", f"its metrics: {', '.join(metrics)}"
            )
    with store.begin() as conn:
        repo.update_tile(store, ws_name, tile_id, conn=conn, alert=rule.to_dict() if rule else None)
        audit.record(
            store,
            ws_name,
            user,
            "dashboard.alert",
            str(tile_id),
            rule.to_dict() if rule else {"removed": True},
            conn=conn,
        )

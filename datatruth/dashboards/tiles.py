"""Rendered tiles kept for the Dashboards page: a page load shows them; Refresh (or a change) runs them again.

Opening the page, switching dashboards or moving a tile reruns the page's script. Each tile would then be
compiled, guarded, read from the result cache and turned into an answer (chart, insights, explanation)
again. Instead the rendered `TileRun` is kept in this process, keyed by everything its numbers depend on:
the workspace, the user (masking depends on the role), the tile's plan and kind, the filters, the semantic
model's version and the warehouse's data version. A kept tile is older than the workspace's cache
time-to-live at most; Refresh runs every tile on the warehouse and keeps the new renders.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, replace

from datatruth import access
from datatruth.ask import pipeline
from datatruth.dashboards.run import DashboardRun, Filters, TileRun, run_tile
from datatruth.store import dashboards as repo
from datatruth.store.engine import Store
from datatruth.warehouse import dataversion
from datatruth.workspace.registry import Workspace

MAX_KEPT = 512


@dataclass(frozen=True)
class Kept:
    """A rendered tile and when it was rendered (epoch seconds)."""

    run: TileRun
    at: float


_KEPT: dict[tuple, Kept] = {}
_LOCK = threading.Lock()


def _key(ws: Workspace, store: Store, user: str, tile: repo.Tile, filters: Filters) -> tuple:
    layer = pipeline.workspace_resources(ws, store).layer
    return (ws.name, id(ws), user, tile.id, tile.kind, json.dumps(tile.plan, sort_keys=True, default=str),
            json.dumps(filters.to_dict(), sort_keys=True, default=str), layer.version_hash if layer else "",
            dataversion.stamp(ws.data_dir, ws.config.warehouse_url))


def render_dashboard(ws: Workspace, store: Store, user: str, dashboard_id: int, filters: Filters | None = None,
                     refresh: bool = False) -> tuple[DashboardRun, dict[int, float]]:
    """Every tile of a dashboard, kept renders first; also when each tile was rendered (tile id → epoch s)."""
    access.require(store, ws.name, user, "read")
    dashboard = repo.get(store, ws.name, dashboard_id)
    used = filters if filters is not None else Filters.from_dict(dashboard.filters)
    ttl = ws.config.limits.cache_ttl_s
    runs: list[TileRun] = []
    rendered: dict[int, float] = {}
    for tile in repo.tiles_of(store, ws.name, dashboard_id):
        key = _key(ws, store, user, tile, used)
        with _LOCK:
            kept = _KEPT.get(key)
        if kept is None or refresh or time.time() - kept.at > ttl:
            kept = Kept(run_tile(ws, store, user, tile, used, refresh), time.time())
            if kept.run.answer is not None or kept.run.stale:  # an error (warehouse down) is retried next time
                with _LOCK:
                    if len(_KEPT) >= MAX_KEPT:
                        _KEPT.clear()
                    _KEPT[key] = kept
        runs.append(replace(kept.run, tile=tile))  # the title, position and alert as they are now
        rendered[tile.id] = kept.at
    return DashboardRun(dashboard, used, tuple(runs), access.can(store, ws.name, user, "edit_dashboard")), rendered


def forget(ws: Workspace) -> None:
    """Drop the kept renders of a workspace (e.g. in tests, or after its data was reloaded)."""
    with _LOCK:
        for key in [k for k in _KEPT if k[:2] == (ws.name, id(ws))]:
            del _KEPT[key]

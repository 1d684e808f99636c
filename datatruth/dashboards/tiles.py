"""Rendered tiles kept for the Dashboards page: a page load shows them; Refresh (or a change) runs them again.

Opening the page, switching dashboards or moving a tile reruns the page's script. Each tile would then be
compiled, guarded, read from the result cache and turned into an answer (chart, insights, explanation)
again. Instead the rendered `TileRun` is kept in this process, keyed by everything its numbers depend on:
the workspace, the user (masking depends on the role), the tile's plan and kind, the filters, the semantic
model's version and the warehouse's data version. A kept tile is older than the workspace's cache
time-to-live at most; Refresh runs every tile on the warehouse and keeps the new renders.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, replace

from datatruth import access, resources
from datatruth.ask import pipeline
from datatruth.dashboards.run import DashboardRun, Filters, TileRun, run_tile
from datatruth.store import dashboards as repo
from datatruth.store.engine import Store
from datatruth.warehouse import dataversion
from datatruth.workspace.registry import Workspace


@dataclass(frozen=True)
class Kept:
    """A rendered tile and when it was rendered (epoch seconds)."""

    run: TileRun
    at: float


def _slot(ws: Workspace, user: str, tile: repo.Tile, filters: Filters) -> tuple:
    return (
        resources.workspace_stamp(ws),
        user,
        tile.id,
        tile.kind,
        json.dumps(tile.plan, sort_keys=True, default=str),
        json.dumps(filters.to_dict(), sort_keys=True, default=str),
    )


def _kept(ws: Workspace, store: Store, user: str, tile: repo.Tile, filters: Filters, refresh: bool) -> Kept:
    return Kept(run_tile(ws, store, user, tile, filters, refresh), time.time())


def _version(ws: Workspace, store: Store) -> tuple[str, str]:
    layer = pipeline.workspace_resources(ws, store).layer
    return (layer.version_hash if layer else "", dataversion.stamp(ws.data_dir, ws.config.warehouse_url))


def render_dashboard(
    ws: Workspace,
    store: Store,
    user: str,
    dashboard_id: int,
    filters: Filters | None = None,
    refresh: bool = False,
) -> tuple[DashboardRun, dict[int, float]]:
    """Every tile of a dashboard, kept renders first; also when each tile was rendered (tile id → epoch s)."""
    access.require(store, ws.name, user, "read")
    dashboard = repo.get(store, ws.name, dashboard_id)
    used = filters if filters is not None else Filters.from_dict(dashboard.filters)
    ttl = ws.config.limits.cache_ttl_s
    runs: list[TileRun] = []
    rendered: dict[int, float] = {}
    version = _version(ws, store)
    for tile in repo.tiles_of(store, ws.name, dashboard_id):
        kept = resources.get(
            "tile",
            ws.name,
            functools.partial(_kept, ws, store, user, tile, used, refresh),
            slot=_slot(ws, user, tile, used),
            version=version,
            fresh=lambda k: not refresh and time.time() - k.at <= ttl,
            keep=lambda k: k.run.answer is not None or k.run.stale,
        )  # an error (warehouse down) is retried next time
        runs.append(replace(kept.run, tile=tile))  # the title, position and alert as they are now
        rendered[tile.id] = kept.at
    return DashboardRun(
        dashboard, used, tuple(runs), access.can(store, ws.name, user, "edit_dashboard")
    ), rendered

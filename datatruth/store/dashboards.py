"""Dashboards and their tiles: rows in the store, always read and written per workspace."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from datatruth.errors import NotFound, UserError
from datatruth.store.engine import Store, inserted_id, utcnow
from datatruth.store.schema import dashboards, tiles


@dataclass(frozen=True)
class Dashboard:
    """One dashboard of a workspace; `filters` is the saved filter data (see dashboards.service.Filters)."""

    id: int
    workspace: str
    name: str
    filters: dict[str, Any] | None
    owner: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Tile:
    """One pinned answer: its plan (as data) and the model version it was pinned at, never its rows."""

    id: int
    workspace: str
    dashboard_id: int
    title: str
    question: str | None
    plan: dict[str, Any]
    model_version: str | None
    kind: str
    position: int
    alert: dict[str, Any] | None
    created_at: dt.datetime


def _dashboard(row: sa.Row) -> Dashboard:
    return Dashboard(**row._mapping)


def _tile(row: sa.Row) -> Tile:
    return Tile(**row._mapping)


def create(
    store: Store, workspace: str, name: str, owner: str, conn: sa.Connection | None = None
) -> Dashboard:
    """Insert a dashboard; UserError when the workspace already has one with that name."""
    name = name.strip()
    if not name:
        raise UserError("a dashboard needs a name", "e.g. 'Weekly sales'")
    if find(store, workspace, name) is not None:
        raise UserError(
            f"workspace '{workspace}' already has a dashboard called '{name}'", "pick another name"
        )
    values: dict[str, Any] = {
        "workspace": workspace,
        "name": name,
        "filters": None,
        "owner": owner,
        "created_at": utcnow(),
    }

    def run(c: sa.Connection) -> int:
        try:
            return inserted_id(c.execute(dashboards.insert().values(**values)))
        except sa.exc.IntegrityError:
            # Two sessions created the same name at once; the unique constraint decided.
            raise UserError(
                f"workspace '{workspace}' already has a dashboard called '{name}'", "pick another name"
            ) from None

    if conn is not None:
        new_id = run(conn)
    else:
        with store.begin() as c:
            new_id = run(c)
    return Dashboard(id=new_id, **values)


def get(store: Store, workspace: str, dashboard_id: int) -> Dashboard:
    """The dashboard with this id in this workspace (NotFound otherwise, also when it belongs elsewhere)."""
    with store.connect() as c:
        row = c.execute(
            sa.select(dashboards).where(dashboards.c.workspace == workspace, dashboards.c.id == dashboard_id)
        ).first()
    if row is None:
        raise NotFound(
            f"dashboard {dashboard_id} does not exist in workspace '{workspace}'",
            "list dashboards with `datatruth dashboards list`",
        )
    return _dashboard(row)


def find(store: Store, workspace: str, name: str) -> Dashboard | None:
    """The dashboard called `name` (case-insensitive) in this workspace, or None."""
    with store.connect() as c:
        row = c.execute(
            sa.select(dashboards).where(
                dashboards.c.workspace == workspace, sa.func.lower(dashboards.c.name) == name.strip().lower()
            )
        ).first()
    return _dashboard(row) if row else None


def list_all(store: Store, workspace: str) -> list[Dashboard]:
    """Every dashboard of a workspace, by name."""
    with store.connect() as c:
        rows = c.execute(
            sa.select(dashboards).where(dashboards.c.workspace == workspace).order_by(dashboards.c.name)
        ).all()
    return [_dashboard(r) for r in rows]


def set_filters(
    store: Store,
    workspace: str,
    dashboard_id: int,
    filters: dict[str, Any] | None,
    conn: sa.Connection | None = None,
) -> None:
    """Replace the saved filters of a dashboard."""
    stmt = (
        dashboards.update()
        .where(dashboards.c.workspace == workspace, dashboards.c.id == dashboard_id)
        .values(filters=filters)
    )
    if conn is not None:
        conn.execute(stmt)
        return
    with store.begin() as c:
        c.execute(stmt)


def delete(store: Store, workspace: str, dashboard_id: int, conn: sa.Connection) -> None:
    """Delete a dashboard and its tiles (inside the caller's transaction)."""
    conn.execute(tiles.delete().where(tiles.c.workspace == workspace, tiles.c.dashboard_id == dashboard_id))
    conn.execute(
        dashboards.delete().where(dashboards.c.workspace == workspace, dashboards.c.id == dashboard_id)
    )


def add_tile(
    store: Store,
    workspace: str,
    dashboard_id: int,
    *,
    title: str,
    question: str | None,
    plan: dict[str, Any],
    model_version: str | None,
    kind: str = "auto",
    conn: sa.Connection | None = None,
) -> Tile:
    """Append a tile at the end of a dashboard."""

    def run(c: sa.Connection) -> Tile:
        last = c.execute(
            sa.select(sa.func.max(tiles.c.position)).where(
                tiles.c.workspace == workspace, tiles.c.dashboard_id == dashboard_id
            )
        ).scalar()
        values: dict[str, Any] = {
            "workspace": workspace,
            "dashboard_id": dashboard_id,
            "title": title,
            "question": question,
            "plan": plan,
            "model_version": model_version,
            "kind": kind,
            "position": 0 if last is None else int(last) + 1,
            "alert": None,
            "created_at": utcnow(),
        }
        new_id = inserted_id(c.execute(tiles.insert().values(**values)))
        return Tile(id=new_id, **values)

    if conn is not None:
        return run(conn)
    with store.begin() as c:
        return run(c)


def tiles_of(store: Store, workspace: str, dashboard_id: int) -> list[Tile]:
    """The tiles of a dashboard in display order."""
    with store.connect() as c:
        rows = c.execute(
            sa.select(tiles)
            .where(tiles.c.workspace == workspace, tiles.c.dashboard_id == dashboard_id)
            .order_by(tiles.c.position, tiles.c.id)
        ).all()
    return [_tile(r) for r in rows]


def get_tile(store: Store, workspace: str, tile_id: int) -> Tile:
    """One tile of this workspace (NotFound otherwise)."""
    with store.connect() as c:
        row = c.execute(sa.select(tiles).where(tiles.c.workspace == workspace, tiles.c.id == tile_id)).first()
    if row is None:
        raise NotFound(
            f"tile {tile_id} does not exist in workspace '{workspace}'",
            "see the tiles with `datatruth dashboards show DASHBOARD`",
        )
    return _tile(row)


def update_tile(
    store: Store, workspace: str, tile_id: int, conn: sa.Connection | None = None, **values: Any
) -> None:
    """Change columns of one tile (title, plan, model_version, alert, position, kind)."""
    allowed = {"title", "plan", "model_version", "alert", "position", "kind", "question"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"tiles have no updatable column(s) {sorted(unknown)}")
    stmt = tiles.update().where(tiles.c.workspace == workspace, tiles.c.id == tile_id).values(**values)
    if conn is not None:
        conn.execute(stmt)
        return
    with store.begin() as c:
        c.execute(stmt)


def delete_tile(store: Store, workspace: str, tile_id: int, conn: sa.Connection) -> None:
    """Delete one tile (inside the caller's transaction)."""
    conn.execute(tiles.delete().where(tiles.c.workspace == workspace, tiles.c.id == tile_id))


def alert_tiles(store: Store, workspace: str) -> list[Tile]:
    """Every tile of a workspace that carries an alert, by dashboard and position."""
    with store.connect() as c:
        rows = c.execute(
            sa.select(tiles)
            .where(tiles.c.workspace == workspace, tiles.c.alert.is_not(None))
            .order_by(tiles.c.dashboard_id, tiles.c.position, tiles.c.id)
        ).all()
    # JSON null may be stored for "no alert" on some backends; only real rules count.
    return [_tile(r) for r in rows if r.alert]

"""The Dashboards page shows kept tile renders; Refresh, a change of plan, filters, data or user renders again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from isolation import demo_env

from datatruth import resources
from datatruth.ask import pipeline
from datatruth.dashboards import service, tiles
from datatruth.dashboards.run import CategoryFilter, Filters, TileRun
from datatruth.settings import load_settings
from datatruth.store.engine import Store
from datatruth.store.users import seed_from_config
from datatruth.warehouse import dataversion
from datatruth.workspace.registry import Workspace, load_workspace


@pytest.fixture()
def flights(tmp_path: Path) -> Iterator[tuple[Workspace, Store, int, int]]:
    settings = load_settings(demo_env(tmp_path))
    ws = load_workspace("flights", settings)
    store = Store(settings.resolved_store_url())
    seed_from_config(store, ws.name, ws.config.members)
    board = f"Ops {uuid.uuid4().hex[:6]}"
    tile_ids = []
    for question in ("flights by origin", "cancellation rate by carrier"):
        plan, _ = pipeline.plan_only(ws, question, store=store)
        tile_ids.append(service.pin(store, ws, "local", board, question, question, plan).id)
    yield ws, store, service.resolve(store, ws.name, board).id, tile_ids[0]
    resources.invalidate(ws.name)
    ws.close()
    store.dispose()


@pytest.fixture()
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Tile ids in the order run_tile ran them."""
    ran: list[int] = []
    real = tiles.run_tile

    def counting(ws, store, user, tile, filters=None, refresh=False) -> TileRun:  # type: ignore[no-untyped-def]
        ran.append(tile.id)
        return real(ws, store, user, tile, filters, refresh)

    monkeypatch.setattr(tiles, "run_tile", counting)
    return ran


def test_a_second_load_shows_the_kept_renders(flights, counted: list[int]) -> None:
    ws, store, board, _ = flights
    first, at_first = tiles.render_dashboard(ws, store, "local", board)
    assert len(counted) == 2 and all(t.answer is not None for t in first.tiles)
    again, at_again = tiles.render_dashboard(ws, store, "local", board)
    assert len(counted) == 2 and at_again == at_first
    assert [t.answer.frame.values.tolist() for t in again.tiles] == [
        t.answer.frame.values.tolist() for t in first.tiles
    ]


def test_refresh_renders_every_tile_on_the_warehouse(flights, counted: list[int]) -> None:
    ws, store, board, _ = flights
    tiles.render_dashboard(ws, store, "local", board)
    fresh, _ = tiles.render_dashboard(ws, store, "local", board, refresh=True)
    assert len(counted) == 4 and not any(t.answer.cached for t in fresh.tiles)
    tiles.render_dashboard(ws, store, "local", board)
    assert len(counted) == 4  # the refreshed renders are kept


def test_a_renamed_tile_keeps_its_render_and_shows_the_new_title(flights, counted: list[int]) -> None:
    ws, store, board, tile_id = flights
    tiles.render_dashboard(ws, store, "local", board)
    service.rename_tile(store, ws.name, "local", tile_id, "Departures per airport")
    after, _ = tiles.render_dashboard(ws, store, "local", board)
    assert len(counted) == 2
    assert next(t for t in after.tiles if t.tile.id == tile_id).tile.title == "Departures per airport"


def test_new_data_filters_or_user_render_again(flights, counted: list[int]) -> None:
    ws, store, board, _ = flights
    tiles.render_dashboard(ws, store, "local", board)
    dataversion.bump(ws.data_dir)
    tiles.render_dashboard(ws, store, "local", board)
    assert len(counted) == 4
    tiles.render_dashboard(
        ws, store, "local", board, Filters(categories=(CategoryFilter("origin_airport__faa", ("JFK",)),))
    )
    assert len(counted) == 6
    tiles.render_dashboard(ws, store, "vic", board)  # masking depends on who looks
    assert len(counted) == 8


def test_renders_older_than_the_cache_ttl_are_not_shown(
    flights, counted: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, store, board, _ = flights
    tiles.render_dashboard(ws, store, "local", board)
    later = tiles.time.time() + ws.config.limits.cache_ttl_s + 1
    monkeypatch.setattr(tiles.time, "time", lambda: later)
    tiles.render_dashboard(ws, store, "local", board)
    assert len(counted) == 4


def test_a_failed_tile_is_tried_again(flights, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, store, board, _ = flights
    calls: list[int] = []

    def failing(ws, store, user, tile, filters=None, refresh=False) -> TileRun:  # type: ignore[no-untyped-def]
        calls.append(tile.id)
        return TileRun(tile, None, error="the warehouse is not reachable")

    monkeypatch.setattr(tiles, "run_tile", failing)
    tiles.render_dashboard(ws, store, "local", board)
    tiles.render_dashboard(ws, store, "local", board)
    assert len(calls) == 4

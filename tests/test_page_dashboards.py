"""The Dashboards page: empty state, a grid of pinned tiles, ordering, roles, share links and stale tiles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from isolation import demo_env
from streamlit.testing.v1 import AppTest

from datatruth import resources
from datatruth.ask import pipeline
from datatruth.dashboards import service
from datatruth.settings import load_settings
from datatruth.store import dashboards as repo
from datatruth.store import open_store
from datatruth.store.engine import Store
from datatruth.store.users import seed_from_config
from datatruth.workspace.registry import Workspace, load_workspace

REPO = Path(__file__).resolve().parent.parent
PAGE = str(REPO / "pages" / "dashboards.py")


@pytest.fixture(scope="module")
def page_retail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, Store]]:
    """The retail demo for this module's pages: settings in os.environ, cwd at the repo, members seeded."""
    variables = demo_env(tmp_path_factory.mktemp("page-dashboards"))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in variables.items():
            mp.setenv(key, value)
        mp.chdir(REPO)
        settings = load_settings()
        ws = load_workspace("retail", settings)
        store = open_store(settings=settings)
        seed_from_config(store, ws.name, ws.config.members)
        yield ws, store
        resources.invalidate(ws.name)
        ws.close()


def page(user: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    if user:
        at.session_state["dt_user"] = user
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def pin(ws: Workspace, store: Store, board: str, question: str) -> repo.Tile:
    plan, _ = pipeline.plan_only(ws, question, store=store)
    return service.pin(store, ws, "ana", board, question.capitalize(), question, plan)


def test_empty_state_before_any_pin(page_retail) -> None:
    at = page()
    assert not at.exception
    assert any("No dashboards yet" in i.value for i in at.info)


def test_grid_of_tiles_orders_with_buttons_and_viewer_cannot_edit(page_retail) -> None:
    ws, store = page_retail
    first = pin(ws, store, "Sales", "revenue by month")
    second = pin(ws, store, "Sales", "orders by channel")
    at = page()
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader] == ["Revenue by month", "Orders by channel"]
    assert any(f"dashboard={first.dashboard_id}" in c.value for c in at.caption)  # the share link
    next(b for b in at.button if b.key == f"down-{first.id}").click().run()
    assert not at.exception
    assert [t.id for t in repo.tiles_of(store, "retail", first.dashboard_id)] == [second.id, first.id]
    assert [s.value for s in at.subheader] == ["Orders by channel", "Revenue by month"]

    viewer = page("vic")
    assert not viewer.exception
    assert [s.value for s in viewer.subheader] == ["Orders by channel", "Revenue by month"]
    assert not [b for b in viewer.button if b.key and b.key.startswith(("up-", "down-", "rm-"))]


def test_share_link_opens_one_tile_for_members_only(page_retail) -> None:
    ws, store = page_retail
    tile = pin(ws, store, "Shared", "revenue by customer region")
    pin(ws, store, "Shared", "units")
    at = page("vic", ws="retail", dashboard=str(tile.dashboard_id), tile=str(tile.id))
    assert not at.exception
    assert [s.value for s in at.subheader] == ["Revenue by customer region"]
    outsider = page("mallory", ws="retail", dashboard=str(tile.dashboard_id))
    assert not outsider.exception
    assert outsider.error and "not an active member" in outsider.error[0].value
    assert not outsider.subheader


def test_stale_tile_offers_replan(page_retail) -> None:
    ws, store = page_retail
    board = service.create_dashboard(store, "retail", "ana", "Stale board")
    tile = repo.add_tile(
        store,
        "retail",
        board.id,
        title="Old",
        question="units by month",
        plan={"metrics": ["units_old"]},
        model_version="v0",
    )
    at = page(dashboard=str(board.id), ws="retail")
    assert not at.exception
    assert any("no longer matches the semantic model" in w.value for w in at.warning)
    next(b for b in at.button if b.key == f"replan-{tile.id}").click().run()
    assert not at.exception
    assert repo.get_tile(store, "retail", tile.id).plan["metrics"] == ["units"]
    assert not at.warning


def test_filters_from_the_page_apply_to_tiles_with_the_dimension(page_retail) -> None:
    ws, store = page_retail
    region = pin(ws, store, "Filters", "revenue by customer region")
    spend = pin(ws, store, "Filters", "marketing spend by month")
    at = page(dashboard=str(region.dashboard_id), ws="retail")
    key = f"dash-filters-{region.dashboard_id}"
    assert not at.multiselect, "a closed panel draws no widgets"
    at.session_state[f"{key}-panel"] = True  # opening the panel reruns the page
    at.run()
    at.multiselect(key=f"{key}-dims").set_value(["customer__region"]).run()
    at.text_input(key=f"{key}-customer__region").input("West, South").run()
    at.button(key=f"{key}-apply").click().run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert charts
    bars = json.loads(charts[0].proto.spec)["data"][0]
    assert sorted(bars["x"]) == ["South", "West"]
    captions = " ".join(c.value for c in at.caption)
    assert "filter: Customer region in (West, South)" in captions
    assert "not applied: Customer region in (West, South)" in captions  # the marketing spend tile
    assert spend.dashboard_id == region.dashboard_id
    assert repo.get(store, "retail", region.dashboard_id).filters is None  # 'Apply' is not 'Save'


def test_share_links_on_the_page_are_absolute(page_retail, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, store = page_retail
    monkeypatch.setenv("DATATRUTH_BASE_URL", "https://dt.example.com")
    tile = pin(ws, store, "Absolute", "revenue by month")
    at = page(dashboard=str(tile.dashboard_id))
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert (
        f"https://dt.example.com/dashboards?ws=retail&dashboard={tile.dashboard_id}&tile={tile.id}"
        in captions
    )
    assert "`dashboards?ws=" not in captions
    assert [b.label for b in at.button if b.key and b.key.startswith(("up-", "down-", "rm-"))][:3] == [
        "Up",
        "Down",
        "Remove",
    ]

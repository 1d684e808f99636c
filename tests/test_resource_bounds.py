"""Issue 14, finding 6: every request is bounded; here DuckDB's memory and threads per workspace."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from datatruth.errors import ConfigError, WarehouseError
from datatruth.settings import load_settings
from datatruth.warehouse.engine import DUCKDB_MEMORY_MB, DUCKDB_THREADS, open_warehouse
from datatruth.workspace.registry import load_workspace

SETTINGS_SQL = "SELECT current_setting('memory_limit'), current_setting('threads')"


def _table(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE t AS SELECT range AS a, range * 7 AS b, md5(range::VARCHAR) AS c FROM range(200000)"
    )
    con.close()
    return path


def _mib(text: str) -> float:
    number, unit = text.split()
    return float(number) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[unit]


def test_duckdb_is_bounded_by_default(tmp_path: Path) -> None:
    # DuckDB's own default is 80% of RAM and every core: one question reached 5.2 GB.
    wh = open_warehouse(f"duckdb:///{_table(tmp_path / 'w.duckdb')}", allowed_directories=[str(tmp_path)])
    try:
        memory, threads = wh.run(SETTINGS_SQL, row_cap=1).frame.iloc[0].tolist()
    finally:
        wh.close()
    assert abs(_mib(memory) - DUCKDB_MEMORY_MB) < DUCKDB_MEMORY_MB * 0.1
    assert int(threads) == DUCKDB_THREADS


def test_workspace_limits_set_memory_and_threads(tmp_path: Path) -> None:
    (tmp_path / "data" / "shop").mkdir(parents=True)
    _table(tmp_path / "data" / "shop" / "warehouse.duckdb")
    folder = tmp_path / "workspaces" / "shop"
    folder.mkdir(parents=True)
    doc = {
        "warehouse": {"url": "duckdb:///{data_dir}/warehouse.duckdb"},
        "limits": {"memory_mb": 48, "threads": 1},
        "members": [{"user": "local", "role": "admin"}],
    }
    (folder / "workspace.yaml").write_text(yaml.safe_dump(doc))
    settings = load_settings(
        {
            "DATATRUTH_DATA_DIR": str(tmp_path / "data"),
            "DATATRUTH_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        }
    )
    ws = load_workspace("shop", settings)
    try:
        memory, threads = ws.warehouse.run(SETTINGS_SQL, row_cap=1).frame.iloc[0].tolist()
        assert _mib(memory) < 50 and int(threads) == 1
        # More than the workspace may use: a clear message, not a machine out of memory.
        with pytest.raises(WarehouseError, match="more memory than this workspace allows") as caught:
            ws.warehouse.run(
                "SELECT count(*) FROM (SELECT DISTINCT t.*, r.range FROM t, range(40) r)", row_cap=5
            )
        assert "limits.memory_mb" in caught.value.hint
    finally:
        ws.close()
    doc["limits"] = {"memory_mb": 0, "threads": -1}
    (folder / "workspace.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError) as bad:
        load_workspace("shop", settings)
    assert {i.message.split(";")[0] for i in bad.value.issues} == {"'memory_mb' is 0", "'threads' is -1"}


def test_workspace_limits_stay_under_the_operators_ceilings(tmp_path: Path) -> None:
    # A workspace admin edits limits on the Admin page; the server's ceilings are the operator's.
    folder = tmp_path / "workspaces" / "shop"
    folder.mkdir(parents=True)
    doc = {
        "warehouse": {"url": "duckdb:///:memory:"},
        "members": [{"user": "local", "role": "admin"}],
        "limits": {"row_cap": 900_000, "timeout_s": 3_000, "memory_mb": 200_000, "threads": 1000},
    }
    (folder / "workspace.yaml").write_text(yaml.safe_dump(doc))
    env = {
        "DATATRUTH_DATA_DIR": str(tmp_path / "data"),
        "DATATRUTH_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    with pytest.raises(ConfigError) as caught:
        load_workspace("shop", load_settings(env))
    found = {i.message.split("'")[1]: i for i in caught.value.issues}
    assert set(found) == {"row_cap", "timeout_s", "memory_mb", "threads"}
    assert "DATATRUTH_MAX_ROW_CAP" in found["row_cap"].hint
    roomy = {
        **env,
        "DATATRUTH_MAX_ROW_CAP": "1000000",
        "DATATRUTH_MAX_TIMEOUT_S": "3600",
        "DATATRUTH_MAX_MEMORY_MB": "250000",
    }
    doc["limits"]["threads"] = 1
    (folder / "workspace.yaml").write_text(yaml.safe_dump(doc))
    assert load_workspace("shop", load_settings(roomy)).config.limits.row_cap == 900_000
    with pytest.raises(ConfigError, match="DATATRUTH_MAX_ROW_CAP"):
        load_settings({"DATATRUTH_MAX_ROW_CAP": "lots"})

"""Faults 2, 3 and 11 (cache half): stale results after a load, corrupted entries, an ever-growing events file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from datatruth import resources
from datatruth.ask import pipeline
from datatruth.ask.cache import CacheKey, ResultCache, cache_for
from datatruth.settings import load_settings
from datatruth.store import open_store
from datatruth.store.users import seed_from_config
from datatruth.workspace.load_files import load_files
from datatruth.workspace.registry import create_workspace, load_workspace

COUNT = "SELECT COUNT(*) AS n FROM mixed"


@pytest.fixture()
def ws(private_dirs: dict[str, str], tmp_path: Path):
    settings = load_settings()
    create_workspace("mine", settings=settings)
    path = tmp_path / "mixed.csv"
    path.write_text("a,b\n" + "".join(f"x{i},{i}\n" for i in range(30_000)))
    load_files("mine", [path], settings)
    return settings


def _run(settings, sql: str = COUNT):
    ws = load_workspace("mine", settings)
    store = open_store(settings=settings)
    seed_from_config(store, ws.name, ws.config.members)
    try:
        answer = pipeline.run_sql(ws, sql, user="local", store=store)
        return int(answer.frame.iloc[0, 0]), answer.cached
    finally:
        resources.invalidate(ws.name)
        ws.close()


def _entries(settings) -> list[Path]:
    return sorted((settings.data_dir / "mine" / "cache").glob("v-*/*.parquet"))


def test_a_load_makes_cached_results_of_the_old_data_misses(ws, tmp_path: Path) -> None:
    assert _run(ws) == (30_000, False)
    assert _run(ws) == (30_000, True)
    emptied = tmp_path / "new" / "mixed.csv"
    emptied.parent.mkdir()
    emptied.write_text("a,b\n")
    load_files("mine", [emptied], ws, replace=True, allow_empty=True)  # the reported fault: emptied table
    assert _entries(ws) == []  # the load cleared the cache
    assert _run(ws) == (0, False)


def test_a_duckdb_file_changed_by_another_tool_is_a_miss(ws) -> None:
    assert _run(ws) == (30_000, False)
    con = duckdb.connect(str(ws.data_dir / "mine" / "warehouse.duckdb"))
    con.execute("DELETE FROM mixed WHERE b >= 10")
    con.close()
    assert _run(ws) == (10, False)  # the file's change stamp is part of the key


@pytest.mark.parametrize("damage", ["truncated", "empty", "random", "foreign parquet"])
def test_an_unreadable_entry_is_a_miss_and_is_replaced(ws, damage: str) -> None:
    assert _run(ws) == (30_000, False)
    (entry,) = _entries(ws)
    good = entry.read_bytes()
    if damage == "truncated":
        entry.write_bytes(good[: len(good) // 2])
    elif damage == "empty":
        entry.write_bytes(b"")
    elif damage == "random":
        entry.write_bytes(os.urandom(len(good)))
    else:  # a valid Parquet file that is not a cache entry (no metadata, other columns)
        pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}).to_parquet(entry)
    assert _run(ws) == (30_000, False)  # answered from the warehouse, no ArrowInvalid
    assert _run(ws) == (30_000, True)  # and the entry was rewritten


def test_hit_and_miss_counters_stay_one_small_file(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "cache", ttl_s=60)
    key = CacheKey("SELECT 1", "v1", "duckdb://x")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "events").write_bytes(b"hm" * 1000)  # the unbounded log of earlier versions
    for _ in range(300):
        cache.get(key)
    cache.put(key, pd.DataFrame({"a": [1]}))
    for _ in range(200):
        cache.get(key)
    stats = cache.stats()
    assert (stats.hits, stats.misses) == (200, 300)
    assert (tmp_path / "cache" / "counters").stat().st_size == 16
    assert not (tmp_path / "cache" / "events").exists()


def test_counters_lose_no_update_across_processes(tmp_path: Path) -> None:
    code = (
        "import sys; from datatruth.ask.cache import ResultCache, CacheKey; "
        "c = ResultCache(sys.argv[1], 60); k = CacheKey('q', 'v', 'i'); "
        "[c.get(k) for _ in range(150)]"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "cache")]) for _ in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    assert cache_for(tmp_path, 60).stats().misses == 600

"""The result cache: hits, TTL, model-version invalidation, stats, clear, and two processes at once."""

from __future__ import annotations

import datetime as dt
import decimal
import multiprocessing
from pathlib import Path

import pandas as pd
import pytest

from datatruth.ask.cache import CacheKey, ResultCache, cache_for


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["East", "West", None],
            "revenue": [decimal.Decimal("10.50"), decimal.Decimal("20.25"), decimal.Decimal("0.00")],
            "month": [dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1)],
            "orders": [3, 4, 5],
        }
    )


def test_put_then_get_roundtrips_types_and_order(tmp_path: Path) -> None:
    cache = cache_for(tmp_path, ttl_s=60)
    key = CacheKey("SELECT 1", "v1", "duckdb:x")
    assert cache.get(key) is None
    assert cache.put(key, _frame(), truncated=True)
    hit = cache.get(key)
    assert hit is not None and hit.truncated
    pd.testing.assert_frame_equal(hit.frame, _frame())
    assert isinstance(hit.frame["revenue"][0], decimal.Decimal)
    stats = cache.stats()
    assert (stats.entries, stats.hits, stats.misses) == (1, 1, 1)
    assert stats.hit_rate == pytest.approx(0.5) and stats.bytes > 0


@pytest.mark.parametrize(
    "other",
    [
        CacheKey("SELECT 2", "v1", "duckdb:x"),
        CacheKey("SELECT 1", "v2", "duckdb:x"),
        CacheKey("SELECT 1", "v1", "postgresql:y"),
    ],
)
def test_each_key_part_separates_entries(tmp_path: Path, other: CacheKey) -> None:
    cache = cache_for(tmp_path, ttl_s=60)
    cache.put(CacheKey("SELECT 1", "v1", "duckdb:x"), _frame())
    assert cache.get(other) is None


def test_ttl_expires_entries(tmp_path: Path) -> None:
    cache = cache_for(tmp_path, ttl_s=10)
    key = CacheKey("SELECT 1", "v1", "id")
    cache.put(key, _frame(), now=1000.0)
    assert cache.get(key, now=1009.0) is not None
    assert cache.get(key, now=1011.0) is None
    assert cache.stats().entries == 0  # the stale entry was deleted when met


def test_zero_ttl_disables_the_cache(tmp_path: Path) -> None:
    cache = cache_for(tmp_path, ttl_s=0)
    key = CacheKey("SELECT 1", "v1", "id")
    assert not cache.put(key, _frame())
    assert cache.get(key) is None


def test_new_model_version_purges_old_entries(tmp_path: Path) -> None:
    cache = cache_for(tmp_path, ttl_s=60)
    for sql in ("SELECT 1", "SELECT 2"):
        cache.put(CacheKey(sql, "v1", "id"), _frame())
    assert cache.stats().entries == 2
    cache.put(CacheKey("SELECT 1", "v2", "id"), _frame())
    cache.put(CacheKey("SELECT 1", "raw", "id"), _frame())
    assert cache.stats().versions == 3
    assert cache.purge_other_versions(["v2", "raw"]) == 1
    cache.purge_other_versions(["v2"])
    stats = cache.stats()
    assert (stats.entries, stats.versions) == (1, 1)
    assert cache.get(CacheKey("SELECT 2", "v1", "id")) is None


def test_clear_removes_entries_and_counters(tmp_path: Path) -> None:
    cache = cache_for(tmp_path, ttl_s=60)
    key = CacheKey("SELECT 1", "v1", "id")
    cache.put(key, _frame())
    cache.get(key)
    assert cache.clear() == 1
    stats = cache.stats()
    assert (stats.entries, stats.hits, stats.misses, stats.bytes) == (0, 0, 0, 0)


def test_unstorable_frames_are_not_cached(tmp_path: Path) -> None:
    cache = cache_for(tmp_path, ttl_s=60)
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    assert not cache.put(CacheKey("SELECT 1 AS a, 2 AS a", "v1", "id"), dup)
    mixed = pd.DataFrame({"x": [1, "a", dt.date(2020, 1, 1)]})
    assert not cache.put(CacheKey("SELECT x", "v1", "id"), mixed)


def _worker(directory: str, worker: int, rounds: int, queue: multiprocessing.Queue) -> None:
    cache = ResultCache(Path(directory), ttl_s=60)
    bad = 0
    for i in range(rounds):
        key = CacheKey(f"SELECT {i % 7}", "v1", "id")
        frame = pd.DataFrame({"n": list(range(i % 7 + 1)), "w": [worker] * (i % 7 + 1)})
        cache.put(key, frame)
        hit = cache.get(key)
        # Another process may have replaced the entry with its own frame for the same key: same shape.
        if hit is None or list(hit.frame["n"]) != list(range(i % 7 + 1)):
            bad += 1
    queue.put(bad)


def test_two_processes_share_the_cache_safely(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(tmp_path / "cache"), w, 60, queue)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert [queue.get(timeout=5), queue.get(timeout=5)] == [0, 0]
    stats = ResultCache(tmp_path / "cache", 60).stats()
    assert stats.entries == 7 and stats.hits == 120
    assert not list((tmp_path / "cache").glob("v-*/*.tmp"))

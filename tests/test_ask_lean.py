"""The JSON path of `datatruth ask` (datatruth.ask.lean): the same answers as the pipeline, without pandas."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from datatruth import resources
from datatruth.ask.cache import CacheKey, ResultCache
from datatruth.ask.rows import Rows, rows_of

REPO = Path(__file__).resolve().parent.parent
D = decimal.Decimal

# Questions of every shape: totals, groups, months, key + label pairs, comparisons, shares, lists, days of
# week, refusals.
QUESTIONS = {
    "retail": [
        "What was total revenue last year?",
        "revenu in 2025",
        "sales by customer region last quarter",
        "AOV by month in 2025",
        "gross margin % by product category this year",
        "top 5 products by revenue last year",
        "top 5 customers by number of orders in 2025",
        "revenue last quarter vs the previous quarter",
        "orders in Q3 2026 compared with the same period last year",
        "share of revenue by product category in 2025",
        "list the products in the Snacks subcategory with their brand and list price",
        "show the 5 most recent orders from customers in Oregon, with their order totals",
        "which stores opened in 2022? list them with their opening date",
        "what is the weather on mars",
    ],
    "flights": [
        "number of flights by origin",
        "avg dep delay by airline",
        "cancellation rate by airline",
        "daily flights last week",
        "flights per day of week",
        "median departure delay by airline",
        "departure delay and arrival delay by month",
        "which planes have more than 400 seats? show tail number, model and seats",
        "list the hours when the temperature at JFK was above 96 degrees, with the time and temperature",
    ],
}
# What a DuckDB query can return, NULLs included, for the cache and the Rows checks.
TYPED_SQL = """
SELECT ti::TINYINT AS ti, i::INTEGER AS i, bi::BIGINT AS bi, h::HUGEINT AS h, ub::UBIGINT AS ub, f::FLOAT AS f,
       d::DOUBLE AS d, dec::DECIMAL(18,2) AS dec, dec38::DECIMAL(38,18) AS dec38, s::VARCHAR AS s, day::DATE AS day,
       b::BOOLEAN AS b, n::BIGINT AS n
FROM (VALUES
  ('1', '2', '3', '170141183460469231731687303715884105', '18446744073709551615', '1.5', 'nan', '12.50',
   '1.123456789012345678', 'it''s "q" ✓', '2026-10-31', 'true', '7'),
  (NULL, '-2', NULL, '-5', '0', NULL, '2.25', NULL, '0.5', NULL, NULL, NULL, '8'),
  ('4', '0', '9223372036854775807', '0', '1', '-0.0', NULL, '-0.01', '-1', '', '1970-01-01', 'false', '9')
) AS t(ti, i, bi, h, ub, f, d, dec, dec38, s, day, b, n)
"""


def _same(a: list[Any], b: list[Any]) -> bool:
    """Equal cells of equal types (NaN equal to NaN)."""
    return len(a) == len(b) and all(
        type(x) is type(y) and (x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y)))
        for x, y in zip(a, b, strict=True)
    )


def _typed() -> tuple[list[str], list[str], list[tuple[Any, ...]]]:
    cursor = duckdb.connect().execute(TYPED_SQL)
    return [d[0] for d in cursor.description], [str(d[1]) for d in cursor.description], cursor.fetchall()


@pytest.mark.parametrize(
    "values",
    [
        [1, 2, 3],
        [1, None, 3],
        [None, None],
        [1.5, None, math.nan],
        [1, 2.5],
        [True, False],
        [True, None],
        ["a", None],
        [D("1.50"), None, D("-2.25")],
        [dt.date(2026, 1, 1), None],
        [2**63 - 1, -(2**63)],
        [],
    ],
)
def test_rows_hold_the_cells_a_dataframe_would(values: list[Any]) -> None:
    records = [(v, i) for i, v in enumerate(values)]
    rows = rows_of(["x", "n"], records)
    frame = pd.DataFrame.from_records(records, columns=["x", "n"])
    assert rows is not None and len(rows) == len(frame) and rows.empty == frame.empty
    assert _same(rows.column("x"), frame["x"].tolist())
    pd.testing.assert_frame_equal(rows.frame(), frame)


@pytest.mark.parametrize(
    "values",
    [
        [dt.datetime(2026, 1, 1, 10)],
        [dt.timedelta(seconds=3)],
        [2**63],
        [[1, 2]],
        [b"x"],
        [1, "a"],
    ],
)
def test_cells_pandas_would_convert_make_a_dataframe(values: list[Any]) -> None:
    assert rows_of(["x"], [(v,) for v in values]) is None
    assert rows_of(["x", "x"], [(1, 2)]) is None  # duplicate names


def test_cache_entries_written_by_duckdb_read_back_as_the_warehouse_values(tmp_path: Path) -> None:
    columns, types, records = _typed()
    cache, key = ResultCache(tmp_path, 60), CacheKey("SELECT 1", "v1", "duckdb://x")
    assert cache.put_records(key, columns, types, records, truncated=True)
    hit = cache.get(key)  # as the app reads it: the DataFrame Warehouse.run builds from the same rows
    assert hit is not None and hit.truncated
    pd.testing.assert_frame_equal(hit.frame, pd.DataFrame.from_records(records, columns=columns))
    assert [tuple(r) for r in hit.frame.astype(object).itertuples(index=False)] != []
    lean_hit = cache.get(key, rows=True)  # integers beyond int64 (uint64 or objects in pandas): a DataFrame
    assert lean_hit is not None and isinstance(lean_hit.frame, pd.DataFrame)
    pd.testing.assert_frame_equal(lean_hit.frame, hit.frame)
    keep = [i for i, c in enumerate(columns) if c not in ("h", "ub")]
    small, cut = [columns[i] for i in keep], [tuple(r[i] for i in keep) + (r[0],) for r in records]
    key2 = CacheKey("SELECT 2", "v1", "duckdb://x")
    assert cache.put_records(key2, [*small, "h"], [*(types[i] for i in keep), "HUGEINT"], cut)
    hit2 = cache.get(key2, rows=True)
    assert hit2 is not None and isinstance(hit2.frame, Rows)
    expected = rows_of([*small, "h"], cut)
    assert expected is not None
    for name in [*small, "h"]:
        assert _same(hit2.frame.column(name), expected.column(name)), name
    assert cache.stats().entries == 2


def test_cache_refuses_types_it_cannot_read_back(tmp_path: Path) -> None:
    cache, key = ResultCache(tmp_path, 60), CacheKey("SELECT 1", "v1", "duckdb://x")
    assert not cache.put_records(key, ["t"], ["TIMESTAMP"], [(dt.datetime(2026, 1, 1),)])
    assert not cache.put_records(key, ["h"], ["HUGEINT"], [(2**127 - 1,)])  # beyond DECIMAL(38,0)
    assert cache.get(key) is None and not list(tmp_path.rglob("*.tmp"))


def test_a_damaged_typed_entry_is_a_miss(tmp_path: Path) -> None:
    cache, key = ResultCache(tmp_path, 60), CacheKey("SELECT 1", "v1", "duckdb://x")
    assert cache.put_records(key, ["n"], ["BIGINT"], [(1,)])
    path = next(tmp_path.rglob("*.parquet"))
    path.write_bytes(path.read_bytes()[:20])
    assert cache.get(key, rows=True) is None and not path.exists()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    """Both demo workspaces, their warehouses copied into a private data dir with its own store."""
    root = tmp_path_factory.mktemp("lean")
    for name in QUESTIONS:
        built = REPO / ".datatruth" / name
        if not (built / "warehouse.duckdb").exists():
            pytest.skip("run `datatruth demo build` first")
        (root / "data" / name).mkdir(parents=True)
        for file in ("warehouse.duckdb", "warehouse.build.json"):
            shutil.copy2(built / file, root / "data" / name / file)
    env = {
        "DATATRUTH_WORKSPACES_DIR": str(REPO / "workspaces"),
        "DATATRUTH_DATA_DIR": str(root / "data"),
        "DATATRUTH_STORE_URL": f"sqlite:///{root / 'metadata.sqlite'}",
        "DATATRUTH_LOCAL_USER": "local",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    resources.clear()
    yield root, env
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    resources.clear()


def _payload(ws: Any, store: Any, user: str, question: str, refresh: bool, as_json: bool) -> str:
    from datatruth.cli.ask import ask_one

    payload = dict(ask_one(ws, store, user, question, refresh=refresh, as_json=as_json).payload)
    payload.pop("elapsed_ms", None)
    return json.dumps(payload)


@pytest.mark.parametrize("workspace", sorted(QUESTIONS))
def test_the_json_path_prints_what_the_pipeline_prints(demo, workspace: str) -> None:
    from datatruth.cli.ask import open_context

    ws, store, user = open_context(workspace)
    try:
        for question in QUESTIONS[workspace]:
            # From the warehouse, and from the cache entry the other path wrote (each writes its own kind).
            fresh = _payload(ws, store, user, question, True, as_json=False)
            cached = _payload(ws, store, user, question, False, as_json=True)
            assert _payload(ws, store, user, question, True, as_json=True) == fresh, question
            assert _payload(ws, store, user, question, False, as_json=False) == cached, question
            if '"cached": true' in cached:
                assert cached == fresh.replace('"cached": false', '"cached": true'), question
    finally:
        ws.close()


def test_cli_json_answer_imports_no_pandas(demo) -> None:
    _root, env = demo
    heavy = ("pandas", "pyarrow", "plotly", "chromadb", "duckdb_engine")
    code = (
        "import sys\nfrom datatruth.cli.main import main\n"
        "code = main(['ask', '-w', 'flights', '--refresh', '--json', 'number of flights by origin'])\n"
        f"print('LOADED', sorted(m for m in {heavy!r} if m in sys.modules), code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer, loaded = done.stdout.splitlines()
    assert json.loads(answer)["row_count"] == 3
    assert loaded == "LOADED [] 0"

"""The value index: building from a warehouse, sensitive columns, names and codes, matching, persistence.

Unit tests use a small DuckDB made here; the demo tests build (or copy) the demo warehouses into a tmp data
dir, check the index against the snapshot tests/golden/planner/<ws>_values.json that test_planner.py plans
with, and rewrite it under DATATRUTH_REWRITE_GOLDEN=1.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from datatruth.ask.planner import build_planner
from datatruth.ask.value_index import ValueIndex, build_value_index, distinct_sql, load_or_build
from datatruth.ask.vocabulary import split_words
from datatruth.errors import WarehouseError
from datatruth.semantic.model import parse_semantic_text

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden" / "planner"
REWRITE = os.environ.get("DATATRUTH_REWRITE_GOLDEN") == "1"

MODEL = """
semantic_models:
  - name: stores
    table: shops
    entities: [{name: store, type: primary, expr: id}]
    dimensions:
      - {name: state, type: categorical, sample_values: [Ohio]}
      - {name: state_code, type: categorical}
      - {name: owner, type: categorical}
      - {name: floors, type: categorical}
      - {name: sku, type: categorical}
      - {name: opened, type: time}
    measures: [{name: shop_count, agg: count}]
metrics: [{name: shops, type: simple, measure: shop_count}]
"""


@pytest.fixture()
def small(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(
        "CREATE TABLE shops (id INT, state VARCHAR, state_code VARCHAR, owner VARCHAR, floors INT, "
        "sku VARCHAR, opened DATE)"
    )
    rows = [
        (
            i,
            ["Texas", "New York", "Indiana", "Oregon"][i % 4],
            ["TX", "NY", "IN", "OR"][i % 4],
            f"Owner {i}",
            i % 3,
            f"SKU-{i}",
            None,
        )
        for i in range(60)
    ]
    con.executemany("INSERT INTO shops VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    yield con
    con.close()


def _fetch(con: duckdb.DuckDBPyConnection):
    return lambda sql: con.execute(sql).fetchall()


def test_build_collects_names_codes_and_numeric_columns(small: duckdb.DuckDBPyConnection) -> None:
    layer = parse_semantic_text(MODEL)
    index = build_value_index(layer, _fetch(small), max_distinct=50, sensitive=["shops.owner"])
    assert set(index.values["store__state"]) == {"Ohio", "Texas", "New York", "Indiana", "Oregon"}
    assert set(index.values["store__state_code"]) == {"TX", "NY", "IN", "OR"}
    assert index.numeric["store__floors"] == "int" and index.ranges["store__floors"] == [0.0, 2.0]
    assert set(index.numeric) == {"store__floors", "store__id"}  # the entity key is a column too
    assert index.skipped["store__owner"] == "sensitive column"
    assert "more than 50" in index.skipped["store__sku"]
    assert "store__opened" not in index.values  # time dimensions are not values
    assert index.samples["store__state"] == ["Ohio"]


def test_distinct_sql_is_built_from_the_model_expression() -> None:
    layer = parse_semantic_text(MODEL)
    sql = distinct_sql(layer.model("stores"), "upper(state)", 11)
    assert (
        sql
        == "SELECT DISTINCT UPPER(state) AS v FROM shops AS stores WHERE NOT UPPER(state) IS NULL LIMIT 11"
    )


def test_a_failing_dimension_is_skipped_not_fatal(small: duckdb.DuckDBPyConnection) -> None:
    layer = parse_semantic_text(MODEL)

    def fetch(sql: str):
        if "state_code" in sql:
            raise WarehouseError("column missing")
        return small.execute(sql).fetchall()

    index = build_value_index(layer, fetch)
    assert "column missing" in index.skipped["store__state_code"]
    assert "Texas" in index.values["store__state"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("shops in Texas", ("Texas", "store__state", "exact")),
        ("shops in TX", ("TX", "store__state_code", "code")),
        ("shops in new york", ("New York", "store__state", "exact")),
        ("shops in newyork", ("New York", "store__state", "compact")),
        ("shops in Texsa", ("Texas", "store__state", "fuzzy")),
        ("shops in Oregon or Ohio", ("Oregon", "store__state", "exact")),
    ],
)
def test_matching(small: duckdb.DuckDBPyConnection, question: str, expected: tuple[str, str, str]) -> None:
    index = build_value_index(parse_semantic_text(MODEL), _fetch(small))
    words = split_words(question)
    hits = index.matches(words, [True] * len(words))
    found = [(c.value, c.dimension, h.method) for h in hits for c in h.candidates]
    assert expected in found


def test_short_codes_need_capitals_or_a_cue(small: duckdb.DuckDBPyConnection) -> None:
    index = build_value_index(parse_semantic_text(MODEL), _fetch(small))
    for question in ("shops in ohio or texas", "which shops are in ny"):
        words = split_words(question)
        values = {c.value for h in index.matches(words, [True] * len(words)) for c in h.candidates}
        assert "IN" not in values and "OR" not in values  # the words "in" and "or" are not Indiana and Oregon
    words = split_words("which shops are in ny")
    assert "NY" in {c.value for h in index.matches(words, [True] * len(words)) for c in h.candidates}


def test_persisted_index_is_reused_and_rebuilt_when_the_model_changes(
    small: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    layer = parse_semantic_text(MODEL)
    calls: list[str] = []

    def fetch(sql: str):
        calls.append(sql)
        return small.execute(sql).fetchall()

    path = tmp_path / "ask" / "values.json"
    first = load_or_build(path, layer, fetch)
    n = len(calls)
    again = load_or_build(path, layer, fetch)
    assert len(calls) == n and again.values == first.values  # read from disk, no query
    changed = parse_semantic_text(MODEL.replace("sample_values: [Ohio]", "sample_values: [Utah]"))
    rebuilt = load_or_build(path, changed, fetch)
    assert len(calls) > n and "Utah" in rebuilt.values["store__state"]
    assert json.loads(path.read_text())["version"] == changed.version_hash
    path.write_text("{torn")
    assert load_or_build(path, layer, fetch).values == first.values


# -- the demo workspaces ----------------------------------------------------------------------------------------


def _demo_workspace(name: str, data_dir: Path):
    from datatruth.demo.build import ensure_demo
    from datatruth.settings import load_settings
    from datatruth.workspace.registry import load_workspace

    built = REPO / ".datatruth" / name
    if (built / "warehouse.duckdb").exists() and (built / "warehouse.build.json").exists():
        (data_dir / name).mkdir(parents=True, exist_ok=True)
        for file in ("warehouse.duckdb", "warehouse.build.json"):
            shutil.copy2(built / file, data_dir / name / file)
    settings = load_settings(
        {"DATATRUTH_DATA_DIR": str(data_dir), "DATATRUTH_WORKSPACES_DIR": str(REPO / "workspaces")}
    )
    ws = load_workspace(name, settings)
    ensure_demo(ws)
    return ws


@pytest.mark.slow
@pytest.mark.parametrize("name", ["retail", "flights"])
def test_demo_index_matches_the_planner_snapshot(name: str, tmp_path: Path) -> None:
    ws = _demo_workspace(name, tmp_path)
    try:
        planner = build_planner(ws)
        index = planner.value_index
        assert (ws.data_dir / "ask" / "value_index.json").is_file()
        snapshot = GOLDEN / f"{name}_values.json"
        if REWRITE:
            snapshot.write_text(
                json.dumps(index.to_dict(), indent=0, sort_keys=True, ensure_ascii=False) + "\n",
                encoding="utf-8",
            )
        saved = ValueIndex.from_dict(json.loads(snapshot.read_text(encoding="utf-8")))
        assert {k: sorted(v) for k, v in index.values.items()} == {
            k: sorted(v) for k, v in saved.values.items()
        }
        assert index.numeric == saved.numeric
        if name == "flights":
            assert "UA" in index.values["airline__carrier"]
            assert "United Air Lines Inc." in index.values["airline__name"]
            assert (
                "LGA" in index.values["origin_airport__faa"]
                and "La Guardia" in index.values["origin_airport__name"]
            )
        else:
            assert "TX" in index.values["customer__state_code"] and "Texas" in index.values["customer__state"]
            assert "customer__name" not in index.values  # customers.customer_name is a sensitive column
    finally:
        ws.close()

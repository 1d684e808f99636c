"""A dimension that is a join key is read from the foreign key: unmatched keys keep their own group."""

from __future__ import annotations

import duckdb
import pytest
from sqlglot import exp

from datatruth.semantic.compiler import compile_plan
from datatruth.semantic.model import parse_semantic_text
from datatruth.semantic.plan import DimensionRef, Filter, QueryPlan

LAYER = """
semantic_models:
  - name: trips
    table: trips
    entities:
      - {name: trip, type: primary, expr: trip_id}
      - {name: dest_airport, type: foreign, expr: dest}
    measures: [{name: trip_count, agg: count}]
  - name: dest_airport
    table: airports
    entities: [{name: dest_airport, type: primary, expr: faa}]
    dimensions:
      - {name: faa, type: categorical}
      - {name: name, type: categorical}
      - {name: region, type: categorical, expr: "lower(faa)"}
metrics:
  - {name: trips, type: simple, measure: trip_count}
"""


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    db.execute(
        "CREATE TABLE trips AS SELECT * FROM (VALUES (1, 'BOS'), (2, 'BOS'), (3, 'SJU'), (4, 'BQN'), "
        "(5, NULL)) t(trip_id, dest)"
    ).fetchall()
    db.execute("CREATE TABLE airports AS SELECT * FROM (VALUES ('BOS', 'Logan')) a(faa, name)").fetchall()
    yield db
    db.close()


def _run(con: duckdb.DuckDBPyConnection, plan: QueryPlan) -> tuple[set[tuple], exp.Expression]:
    compiled = compile_plan(plan, parse_semantic_text(LAYER, "keys.yaml"), "duckdb")
    return set(con.execute(compiled.sql).fetchall()), compiled.ast


def test_key_dimension_keeps_unmatched_keys_apart_and_skips_the_join(con: duckdb.DuckDBPyConnection) -> None:
    rows, ast = _run(con, QueryPlan(("trips",), (DimensionRef("dest_airport__faa"),)))
    assert rows == {("BOS", 2), ("SJU", 1), ("BQN", 1), (None, 1)}
    assert not list(ast.find_all(exp.Join))


@pytest.mark.parametrize(
    ("dimension", "expected"),
    [
        ("dest_airport__name", {("Logan", 2), (None, 3)}),  # a non-key column still needs the join
        ("dest_airport__region", {("bos", 2), (None, 3)}),  # an expression over the key is not the key itself
    ],
)
def test_other_dimensions_still_join(con: duckdb.DuckDBPyConnection, dimension: str, expected: set) -> None:
    rows, ast = _run(con, QueryPlan(("trips",), (DimensionRef(dimension),)))
    assert rows == expected
    assert len(list(ast.find_all(exp.Join))) == 1


def test_key_filter_matches_unmatched_keys(con: duckdb.DuckDBPyConnection) -> None:
    rows, _ = _run(con, QueryPlan(("trips",), filters=(Filter("dest_airport__faa", "=", ("SJU",)),)))
    assert rows == {(1,)}

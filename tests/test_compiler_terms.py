"""A ratio or derived metric said over its simple parts gives the same figure as the metric itself."""

from __future__ import annotations

import duckdb
import pytest

from datatruth.semantic.compiler import compile_plan, in_simple_terms
from datatruth.semantic.model import parse_semantic_text
from datatruth.semantic.plan import AdhocMetric, DimensionRef, FilteredInput, QueryPlan

LAYER = """
semantic_models:
  - name: sales
    table: sales
    entities: [{name: sale, type: primary, expr: sale_id}]
    dimensions: [{name: shop, type: categorical}]
    measures:
      - {name: amount, agg: sum, expr: amount}
      - {name: cost_amount, agg: sum, expr: cost}
metrics:
  - {name: revenue, type: simple, measure: amount}
  - {name: cost, type: simple, measure: cost_amount}
  - {name: margin, type: derived, expr: "takings - cost", metrics: [{name: revenue, alias: takings}, cost]}
  - {name: margin_pct, type: ratio, numerator: margin, denominator: revenue}
  - {name: last_year_revenue, type: derived, expr: rev, metrics: [{name: revenue, alias: rev, offset_window: 1 year}]}
"""


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    db.execute(
        "CREATE TABLE sales AS SELECT * FROM (VALUES (1, 'a', 100.0, 60.0), (2, 'a', 50.0, 10.0), "
        "(3, 'b', 80.0, 100.0)) t(sale_id, shop, amount, cost)"
    ).fetchall()
    return db


def test_metrics_in_simple_terms() -> None:
    layer = parse_semantic_text(LAYER)
    assert in_simple_terms(layer, "revenue") == ("revenue", ("revenue",))
    assert in_simple_terms(layer, "margin") == ("revenue - cost", ("revenue", "cost"))
    assert in_simple_terms(layer, "margin_pct", lambda m: f"{m}_x") == (
        "(revenue_x - cost_x) / revenue_x",
        ("revenue", "cost"),
    )
    # a part shifted in time is no plain sum of rows
    assert in_simple_terms(layer, "last_year_revenue") is None


def test_the_parts_give_the_metric_figure(con: duckdb.DuckDBPyConnection) -> None:
    layer = parse_semantic_text(LAYER)
    expr, parts = in_simple_terms(layer, "margin_pct", lambda m: f"{m}_part") or ("", ())
    inputs = tuple(FilteredInput(f"{m}_part", m, ()) for m in parts)
    shop = (DimensionRef("sale__shop"),)
    own = compile_plan(QueryPlan(metrics=("margin_pct",), dimensions=shop), layer, "duckdb")
    said = compile_plan(
        QueryPlan(metrics=(), dimensions=shop, adhoc_metrics=(AdhocMetric("said", expr, inputs, "percent"),)),
        layer,
        "duckdb",
    )
    got, want = sorted(con.execute(said.sql).fetchall()), sorted(con.execute(own.sql).fetchall())
    assert [r[0] for r in got] == [r[0] for r in want] == ["a", "b"]
    assert [r[1] for r in got] == pytest.approx([r[1] for r in want])
    assert [r[1] for r in got] == pytest.approx([(150 - 70) / 150, (80 - 100) / 80])

"""The compiler's Spark dialect: golden SQL for the flights model, exact percentiles, ISO weekdays, QUALIFY.

Every compiled query must also pass the SQL guard in the Spark dialect unchanged except for the row cap.
That the SQL gives DuckDB's answers on a real Spark server is tested in test_spark_warehouse.py.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from datatruth.semantic import dialects
from datatruth.semantic.compiler import compile_plan
from datatruth.semantic.model import SemanticLayer, load_semantic_model
from datatruth.semantic.plan import DimensionRef, Filter, OrderBy, QueryPlan, TimeRange
from datatruth.sql.guard import check_sql

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "spark"
REWRITE = os.environ.get("DATATRUTH_REWRITE_GOLDEN") == "1"

CASES = {
    "median_by_airline": QueryPlan(
        ("median_departure_delay",),
        (DimensionRef("airline__name"),),
        order=(OrderBy("median_departure_delay", True),),
        limit=5,
    ),
    "flights_by_weekday": QueryPlan(("flights",), (DimensionRef("metric_time", "day_of_week"),)),
    "on_time_rate_by_month_vs_previous": QueryPlan(
        ("on_time_rate",),
        (DimensionRef("metric_time", "month"),),
        time_range=TimeRange(dt.date(2013, 7, 1), dt.date(2013, 10, 1), "Q3 2013"),
        comparison="previous_period",
    ),
    "share_of_flights_by_origin_airport": QueryPlan(
        ("flights",), (DimensionRef("origin_airport__name"),), share_of_total=True
    ),
    "quoted_value_filter": QueryPlan(
        ("flights",),
        (DimensionRef("dest_airport__name"),),
        filters=(Filter("dest_airport__name", "=", ("Martha's Vineyard",)),),
    ),
}


@pytest.fixture(scope="module")
def layer() -> SemanticLayer:
    return load_semantic_model([REPO / "semantic_models" / "flights"])


@pytest.mark.parametrize("case", sorted(CASES))
def test_spark_sql_matches_golden_and_passes_the_guard(case: str, layer: SemanticLayer) -> None:
    compiled = compile_plan(CASES[case], layer, "spark")
    assert compiled.dialect == "spark"
    path = GOLDEN / f"{case}.sql"
    if REWRITE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(compiled.sql + "\n", encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with DATATRUTH_REWRITE_GOLDEN=1 to create it"
    assert compiled.sql + "\n" == path.read_text(encoding="utf-8"), (
        f"{path} differs (DATATRUTH_REWRITE_GOLDEN=1)"
    )
    verdict = check_sql(compiled.sql, "spark", row_cap=10_000)
    assert verdict.allowed, verdict.reason
    assert "APPROX" not in verdict.sql.upper() and "\\" not in verdict.sql


def test_median_is_exact_on_spark(layer: SemanticLayer) -> None:
    sql = compile_plan(CASES["median_by_airline"], layer, "spark").sql
    tree = sqlglot.parse_one(sql, read="spark")
    assert list(tree.find_all(exp.Quantile)) and not list(tree.find_all(exp.ApproxQuantile))


def test_iso_weekday_on_spark(layer: SemanticLayer) -> None:
    sql = compile_plan(CASES["flights_by_weekday"], layer, "spark").sql
    assert "EXTRACT(DAYOFWEEK_ISO FROM" in sql and "DAYOFWEEK(" not in sql


def test_nulls_sort_last_like_duckdb(layer: SemanticLayer) -> None:
    sql = compile_plan(CASES["share_of_flights_by_origin_airport"], layer, "spark").sql
    assert "ASC NULLS LAST" in sql


def test_other_dialects_are_untouched(layer: SemanticLayer) -> None:
    plan = CASES["median_by_airline"]
    assert "QUANTILE_CONT" in compile_plan(plan, layer, "duckdb").sql
    assert compile_plan(plan, layer, "duckdb").dialect == "duckdb"
    assert dialects.target_dialect("hive") == "spark" and dialects.build_dialect("spark") == "duckdb"
    assert dialects.target_dialect("postgresql") == "postgres"


QUALIFY = """
SELECT origin, carrier, COUNT(*) AS n
FROM flights GROUP BY origin, carrier
QUALIFY ROW_NUMBER() OVER (PARTITION BY origin ORDER BY COUNT(*) DESC) <= 2
ORDER BY origin, n DESC LIMIT 5
"""


def test_qualify_keeps_order_and_limit_outside_the_filter() -> None:
    tree = dialects.rewrite(sqlglot.parse_one(QUALIFY, read="duckdb"), "spark")
    assert tree.args.get("qualify") is None and tree.args.get("limit") is not None
    assert tree.args.get("order") is not None and tree.args.get("where") is not None
    inner = tree.args["from_" if "from_" in tree.args else "from"].this.this
    assert inner.args.get("order") is None and inner.args.get("limit") is None
    # sqlglot's own rewrite would put ORDER BY and LIMIT inside the subquery, before the filter:
    assert sqlglot.transpile(QUALIFY, read="duckdb", write="spark")[0].index("LIMIT") < sqlglot.transpile(
        QUALIFY, read="duckdb", write="spark"
    )[0].index("WHERE")
    assert check_sql(tree.sql("spark"), "spark", row_cap=100).allowed

"""The semantic model format (loading, lookups, version hash), the join graph and the QueryPlan round trip."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from datatruth.errors import ConfigError, NotFound, UserError
from datatruth.semantic.joins import JoinGraph
from datatruth.semantic.model import load_semantic_model, parse_semantic_text, parse_window
from datatruth.semantic.plan import (
    AdhocMetric,
    DimensionRef,
    Evidence,
    Filter,
    OrderBy,
    QueryPlan,
    TimeRange,
)

REPO = Path(__file__).resolve().parent.parent
RETAIL = REPO / "semantic_models" / "retail"
FLIGHTS = REPO / "semantic_models" / "flights"
SHOP = REPO / "tests" / "fixtures" / "semantic" / "shop.yaml"


@pytest.fixture(scope="module")
def retail():
    return load_semantic_model([RETAIL])


def test_retail_lookups(retail) -> None:
    assert retail.metric("revenue").measure == "revenue_amount"
    assert retail.metric("revenue").format == "currency"
    qd = retail.dimension("customer__region")
    assert (qd.model.name, qd.dimension.expr) == ("customers", "region")
    assert "South" in qd.dimension.sample_values
    assert retail.dimension("order__order_date").dimension.is_time
    assert [m.name for m in retail.models_for("roas")] == ["order_lines", "marketing_spend"]
    assert retail.measures_for("gross_margin_pct") == ("revenue_amount", "cost_amount")
    assert retail.model("returns").prefix == "return"
    assert set(retail.source_files) == {str(RETAIL / "retail.yaml"), str(RETAIL / "metrics.yaml")}
    assert len(retail.verified_questions) == 6
    assert sum(q.onboarding for q in retail.verified_questions) == 5
    assert {q.verified_by for q in retail.verified_questions} == {"datatruth"}


def test_lookup_misses_suggest_names(retail) -> None:
    with pytest.raises(NotFound, match="metric 'revenu' does not exist") as info:
        retail.metric("revenu")
    assert "'revenue'" in info.value.hint
    with pytest.raises(NotFound, match="did you mean 'customer__region'"):
        retail.dimension("customer__regoin")


def test_composite_and_role_playing_entities() -> None:
    flights = load_semantic_model([FLIGHTS])
    weather = flights.model("flights").entity("origin_weather")
    assert weather is not None and weather.key_exprs == ("origin", "time_hour")
    graph = JoinGraph.of(flights)
    step = graph.path("flights", "weather").steps[0]
    assert (step.source_exprs, step.target_exprs) == (("origin", "time_hour"), ("origin", "time_hour"))
    assert flights.model("origin_airport").table == flights.model("dest_airport").table == "airports"
    assert flights.dimension("origin_airport__faa").model.name == "origin_airport"
    assert flights.dimension("dest_airport__faa").model.name == "dest_airport"


def test_join_graph_paths_and_fanout(retail) -> None:
    graph = JoinGraph.of(retail)
    assert (
        graph.path("order_lines", "customers").describe()
        == "order_lines -[order]-> orders -[customer]-> customers"
    )
    assert graph.path("orders", "order_lines") is None
    assert graph.fans_out("orders", "order_lines")
    assert not graph.fans_out("marketing_spend", "orders")
    assert not graph.connected("marketing_spend", "orders")
    assert graph.ambiguous("order_lines", "customers") == []
    assert JoinGraph.of(retail) is graph  # built once per layer


def test_version_hash_follows_content_not_formatting(tmp_path: Path) -> None:
    text = SHOP.read_text(encoding="utf-8")
    base = parse_semantic_text(text, "a.yaml").version_hash
    assert parse_semantic_text("# a comment\n" + text, "b.yaml").version_hash == base
    assert (
        parse_semantic_text(text.replace("expr: amount}", "expr: amount * 2}", 1), "c.yaml").version_hash
        != base
    )
    assert len(base) == 16


def test_parse_window() -> None:
    assert parse_window("7 days") == (7, "day")
    assert parse_window("3 month") == (3, "month")
    assert parse_window("0 days") is None
    assert parse_window("soon") is None


def test_metricflow_spellings_are_read() -> None:
    layer = parse_semantic_text("""
semantic_models:
  - name: events
    table: events
    entities: [{name: event, type: primary, expr: id}]
    dimensions:
      - {name: happened_at, type: time, type_params: {time_granularity: hour}}
    measures:
      - {name: event_count, agg: count}
metrics:
  - {name: events, type: simple, measure: event_count}
""")
    assert layer.dimension("event__happened_at").dimension.time_granularity == "hour"
    assert layer.measure("event_count")[1].expr == "1"


def test_parse_semantic_text_reports_lines() -> None:
    with pytest.raises(ConfigError) as info:
        parse_semantic_text("metrics:\n  - {name: x, type: simple, measure: m, colour: red}\n", "up.yaml")
    assert [(i.file, i.line) for i in info.value.issues] == [("up.yaml", 2)]


# -- the QueryPlan -------------------------------------------------------------------------------------------
FULL_PLAN = QueryPlan(
    metrics=("revenue", "orders"),
    dimensions=(DimensionRef("customer__region"), DimensionRef("metric_time", "month")),
    filters=(
        Filter("customer__state", "in", ("Texas", "Ohio")),
        Filter("order__order_date", "between", (dt.date(2025, 1, 1), dt.date(2025, 3, 31))),
        Filter("customer__city", "not_null"),
    ),
    time_range=TimeRange(dt.date(2025, 1, 1), dt.date(2025, 4, 1), "Q1 2025", "quarter"),
    time_dimension="order__order_date",
    comparison="previous_period",
    share_of_total=True,
    order=(OrderBy("revenue", True),),
    limit=5,
    adhoc_metrics=(AdhocMetric("both", "revenue + orders"),),
    evidence=(Evidence("sales", "metric", "revenue", 0.93, "synonym"),),
)


def test_plan_round_trips_through_json() -> None:
    import json

    data = json.loads(json.dumps(FULL_PLAN.to_dict()))
    back = QueryPlan.from_dict(data)
    # dates come back as dates in the time range; filter values stay as the JSON gave them
    assert back.time_range == FULL_PLAN.time_range
    assert back.filters[1].values == ("2025-01-01", "2025-03-31")
    assert back.to_dict() == FULL_PLAN.to_dict()
    assert QueryPlan.from_dict(QueryPlan(("x",)).to_dict()) == QueryPlan(("x",))
    per_group = dataclasses.replace(FULL_PLAN, limit_per=("customer__region",))
    again = QueryPlan.from_dict(json.loads(json.dumps(per_group.to_dict())))
    assert again.limit_per == ("customer__region",) and again.to_dict() == per_group.to_dict()
    assert per_group.describe().endswith("top 5 per customer__region")


def test_plan_describe() -> None:
    line = FULL_PLAN.describe()
    assert line.startswith("revenue, orders, both by customer__region, metric_time (month)")
    assert "customer__state in (Texas, Ohio)" in line and "for Q1 2025" in line
    assert "vs previous period" in line and line.endswith("top 5")


def test_plan_shorthands() -> None:
    plan = QueryPlan.from_dict(
        {
            "metrics": ["m"],
            "dimensions": ["metric_time:week", "a__b"],
            "filters": [{"dimension": "a__b", "op": "==", "value": "x"}],
            "order": ["-m"],
        }
    )
    assert plan.dimensions == (DimensionRef("metric_time", "week"), DimensionRef("a__b"))
    assert plan.filters == (Filter("a__b", "=", ("x",)),)
    assert plan.order == (OrderBy("m", True),)
    assert plan.time_grain() == DimensionRef("metric_time", "week")


@pytest.mark.parametrize(
    "data, message",
    [
        ("revenue", "expected an object"),
        ({}, "a plan needs a metric, an aggregate, or dimensions to list"),
        ({"metrics": "revenue"}, "metrics: expected a list"),
        ({"metrics": [1]}, r"metrics\[0\]: expected non-empty text"),
        ({"metrics": ["m"], "sql": "SELECT 1"}, "unknown key"),
        ({"metrics": ["m"], "dimensions": [{"name": "metric_time", "grain": "fortnight"}]}, "unknown grain"),
        ({"metrics": ["m"], "filters": [{"dimension": "d", "op": "~", "values": [1]}]}, "unknown operator"),
        (
            {"metrics": ["m"], "filters": [{"dimension": "d", "op": "between", "values": [1]}]},
            "takes 2 value",
        ),
        (
            {"metrics": ["m"], "filters": [{"dimension": "d", "op": "=", "values": [{"a": 1}]}]},
            "filter value must be",
        ),
        (
            {"metrics": ["m"], "filters": [{"dimension": "d", "op": "is_null", "values": [1]}]},
            "takes 0 value",
        ),
        ({"metrics": ["m"], "time_range": {"start": "2025-13-01"}}, "expected a date"),
        (
            {"metrics": ["m"], "time_range": {"start": "2025-02-01", "end": "2025-01-01"}},
            "must be after start",
        ),
        ({"metrics": ["m"], "comparison": "yoy"}, "unknown comparison"),
        ({"metrics": ["m"], "share_of_total": "yes"}, "expected true or false"),
        ({"metrics": ["m"], "limit": 0}, "positive whole number"),
        ({"metrics": ["m"], "limit": True}, "positive whole number"),
        ({"metrics": ["m"], "limit_per": ["a__b"]}, "a limit per group needs a limit"),
        ({"metrics": ["m"], "limit": 2, "limit_per": "a__b"}, "limit_per: expected a list"),
        ({"metrics": ["m"], "order": [{"key": "m", "descending": "no"}]}, "expected true or false"),
        ({"metrics": ["m"], "adhoc_metrics": [{"name": "x"}]}, r"adhoc_metrics\[0\].expr"),
    ],
)
def test_plan_from_bad_data_names_the_field(data: Any, message: str) -> None:
    with pytest.raises(UserError, match=message):
        QueryPlan.from_dict(data)


@pytest.mark.parametrize("path", [RETAIL, FLIGHTS, SHOP])
def test_to_dict_writes_back_the_same_layer(path: Path) -> None:
    import yaml

    layer = load_semantic_model([path])
    again = parse_semantic_text(yaml.safe_dump(layer.to_dict(), sort_keys=False), "round-trip.yaml")
    assert again.version_hash == layer.version_hash
    assert again.metrics == layer.metrics and again.models == layer.models


def test_the_documented_example_loads_and_validates() -> None:
    from datatruth.semantic.validate import validate

    doc = (REPO / "docs" / "semantic_format.md").read_text(encoding="utf-8")
    block = doc.split("## A complete example")[1].split("```yaml\n")[1].split("```")[0]
    layer = parse_semantic_text(block, "docs-example.yaml")
    assert validate(layer) == []
    assert layer.metric("gross_margin").metrics[1].ref == "cogs"

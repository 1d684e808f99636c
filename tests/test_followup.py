"""Follow-up questions merged into the previous plan, on the shipped models (value index from the snapshot)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from datatruth.ask.followup import is_followup, merge_followup, mode_of
from datatruth.errors import PlanningError
from datatruth.semantic.compiler import compile_plan
from datatruth.semantic.plan import DimensionRef, Filter, OrderBy, QueryPlan

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_planner import layer_of, planner_of  # noqa: E402


def chain(ws: str, *questions: str) -> list[QueryPlan]:
    """Plan each question as a follow-up of the one before."""
    planner = planner_of(ws)
    plans: list[QueryPlan] = []
    previous = None
    for q in questions:
        previous = planner.plan(q, previous=previous)
        compile_plan(previous, layer_of(ws), "duckdb")
        plans.append(previous)
    return plans


def test_retail_conversation() -> None:
    p = chain(
        "retail",
        "revenue by month in 2025",
        "now by channel",
        "only 2024",
        "top 5 instead",
        "and margin?",
        "what about Texas",
    )
    assert p[1].metrics == ("revenue",) and p[1].dimensions == (DimensionRef("order__channel"),)
    assert p[1].time_range == p[0].time_range
    assert p[2].time_range is not None and p[2].time_range.start == dt.date(2024, 1, 1)
    assert p[2].dimensions == p[1].dimensions
    assert p[3].limit == 5 and p[3].order == (OrderBy("revenue", True),)
    assert p[4].metrics == ("revenue", "gross_margin") and p[4].limit == 5
    assert p[5].filters == (Filter("customer__state", "=", ("Texas",)),)
    assert p[5].metrics == ("revenue", "gross_margin")
    assert p[5].evidence[0].method == "followup"


def test_a_new_value_replaces_the_same_kind_of_filter() -> None:
    p = chain("retail", "revenue in California by category", "what about TX")
    assert p[1].filters == (Filter("customer__state_code", "=", ("TX",)),)
    assert p[1].dimensions == (DimensionRef("product__category"),)


def test_grain_instead_and_added_dimension() -> None:
    p = chain("retail", "revenue by region", "by month instead", "and by channel")
    assert p[1].dimensions == (DimensionRef("metric_time", "month"),)
    assert p[2].dimensions == (DimensionRef("metric_time", "month"), DimensionRef("order__channel"))


def test_grain_without_instead_keeps_the_grouping() -> None:
    p = chain("retail", "revenue by region", "by quarter")
    assert p[1].dimensions == (DimensionRef("customer__region"), DimensionRef("metric_time", "quarter"))


def test_same_for_keeps_the_analysis_and_changes_the_subset() -> None:
    p = chain(
        "flights",
        "cancellations by airline from LaGuardia",
        "same for flights from JFK",
        "top 3",
        "what about on time rate",
    )
    assert p[1].metrics == ("cancelled_flights",)
    # LaGuardia's filter is replaced; rows without an airline are not an airline's
    assert set(p[1].filters) == {
        Filter("origin_airport__faa", "=", ("JFK",)),
        Filter("airline__carrier", "not_null"),
    }
    assert p[1].dimensions == (DimensionRef("airline__carrier"), DimensionRef("airline__name"))
    assert p[2].limit == 3 and p[2].order == (OrderBy("cancelled_flights", True),)
    assert p[3].metrics == ("on_time_rate",) and p[3].order == (OrderBy("on_time_rate", True),)


def test_a_fresh_question_is_not_merged() -> None:
    p = chain("retail", "revenue by region in Texas", "orders by channel")
    assert p[1].metrics == ("orders",) and p[1].filters == () and p[1].time_range is None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("now by channel", True),
        ("and margin?", True),
        ("only 2024", True),
        ("what about Texas", True),
        ("same for Online", True),
        ("top 5 instead", True),
        ("by region", True),
        ("in 2024", True),
        ("revenue by region", False),
        ("how many orders last month", False),
        ("Andorra revenue", False),
    ],
)
def test_is_followup(question: str, expected: bool) -> None:
    assert is_followup(question, planner_of("retail").context) is expected


def test_modes() -> None:
    assert mode_of("and margin?").add and not mode_of("and margin?").replace
    assert mode_of("by month instead").replace
    assert mode_of("only 2024").narrow
    assert mode_of("same for flights from JFK").same
    assert mode_of("and what about Texas").replace


def test_follow_up_with_an_unknown_grouping_is_refused() -> None:
    previous = planner_of("retail").plan("revenue by region")
    with pytest.raises(PlanningError) as info:
        merge_followup(previous, "now by favourite colour", planner_of("retail").context)
    assert "colour" in " ".join(info.value.unmatched)


def test_follow_up_dimension_must_reach_the_metric() -> None:
    previous = planner_of("retail").plan("marketing spend by month")
    with pytest.raises(PlanningError):
        merge_followup(previous, "now by product category", planner_of("retail").context)


def test_follow_up_that_changes_nothing_is_refused() -> None:
    previous = planner_of("retail").plan("revenue by region")
    with pytest.raises(PlanningError) as info:
        planner_of("retail").plan("tell me a joke", previous=previous)
    assert "joke" in info.value.unmatched

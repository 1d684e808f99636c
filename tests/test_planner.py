"""The deterministic planner on the shipped retail and flights models: golden plans, refusals, evidence, speed.

Each question's plan is compared with tests/golden/planner/<workspace>.json (rewrite with
DATATRUTH_REWRITE_GOLDEN=1 and review the diff). The value index comes from the snapshot
tests/golden/planner/<workspace>_values.json, which test_value_index.py checks against the demo warehouse,
so these tests need no warehouse. Every golden plan must also compile with the semantic compiler.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from datatruth.ask.planner import Planner, plan_question
from datatruth.ask.value_index import ValueIndex
from datatruth.errors import PlanningError
from datatruth.semantic.compiler import compile_plan
from datatruth.semantic.model import SemanticLayer, load_semantic_model
from datatruth.semantic.plan import QueryPlan
from datatruth.store.feedback import LearnedSynonym

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden" / "planner"
REWRITE = os.environ.get("DATATRUTH_REWRITE_GOLDEN") == "1"
TODAY = {"retail": dt.date(2026, 10, 31), "flights": dt.date(2013, 12, 31)}

QUESTIONS: dict[str, list[str]] = {
    "retail": [
        "revenue by month in 2025",
        "top 10 customers by revenue",
        "revenue and orders by channel last quarter",
        "revnue by region",
        "rev by cust segment",
        "orders in Texas",
        "revenue in TX by month",
        "revenue minus cost by category",
        "revenue per order by month",
        "sum of revenue and refunds",
        "which state had the most orders",
        "worst 5 products by return rate",
        "gross margin % by brand this year",
        "revenue vs last year by region",
        "revenue share of total by category",
        "average order value in California and Texas",
        "online orders in 2025",
        "revenue excluding Online",
        "marketing spend by marketing channel",
        "roas by month in 2025",
        "units sold with discount over 10%",
        "how many customers in the West",
        "What were total sales in Q3 2025?",
        "new customers per week in the last 30 days",
        "aov by segment YTD",
        "refunds by return reason last month",
        "returns by reason between March and May",
        "revenue growth by quarter in 2025",
        "daily orders in the last 2 weeks",
        "orders by day of week",
        "revenue by hour",
        "top 3 categories by gross margin in 2024",
        "customers by region",
        "repeat rate by month this year",
        "revenue for Electronics and Home by month",
        "cogs by category in 2024",
        "qty by brand",
        "pct returned by category",
        "revenue yoy by quarter in 2025",
        "revenue in the first quarter",
        "revenue in the second half of the year",
        "revenue in July",
        "revenue since 2024 by quarter",
        "revenue 2024 vs 2025",
        "lowest 3 regions by revenue in 2025",
        "margin by channel and region",
        "turnover in Califronia",
        "signups by month in 2025",
        "revenue per customer by segment",
        "marketing spend per month",
        "revenue for Peakform",
        "returns in Texas last year",
        "revenue by sku name in the Sports category",
        "Show me the gross profit for Corporate customers MTD",
        "What share of revenue comes from each channel?",
        "difference between gross sales and revenue by month",
        "How much revenue did we make last year?",
        "best month for revenue",
        "which month had the most orders",
        "busiest day of the week for orders",
        "revenue / orders by month",
        "orders by store",
        "orders in store",
        "revenue in the south region last quarter",
        "revenue, orders and customers by month this year",
        "Revenue by state for 2025 Q1",
        "What's the AOV?",
        "gross margin for the Lumen brand in 2025",
        "marketing spend by channel in 2025",
        "year to date revenue by month in 2026",
        "revenue and orders by month this year",
    ],
    "flights": [
        "flights by carrier",
        "worst 5 airlines by on-time rate",
        "which carrier had the most cancellations",
        "flights from JFK",
        "flights from LaGuardia to Atlanta",
        "cancellation rate for United",
        "average departure delay by month",
        "flights longer than 1000 miles",
        "delays by origin airport in July",
        "flights to Chicago by airline",
        "on time rate by manufacturer",
        "flights by hour",
        "flights by day of week",
        "cancellations in Q1",
        "top 3 destinations by flights",
        "avg arr delay for Delta in December",
        "flights with more than 200 seats",
        "average delay when temperature below 32",
        "otp for jetblue vs last year",
        "flights from EWR to LAX last month",
        "median delay by origin",
        "cancelations from newark",
        "total distance by carrier in 2013",
        "average air time to Denver",
        "flights per week in the last 3 months",
        "monthly flights from LGA",
        "cancellation rate by month for American",
        "top 10 destinations from Newark by flights",
        "average distance by origin",
        "on-time rate by origin airport in the second half of the year",
        "flights by plane manufacturer",
        "arrival delay for BOEING planes",
        "flights by destination time zone",
        "departure delay when wind over 30",
        "cancellations by origin per month",
        "flights departing from JFK in March",
        "mean delay by hour of day",
        "share of flights by carrier",
        "cancellations per day in December",
        "average departure delay for UA and AA",
        "flights from JFK or LGA to ATL",
        "delay yoy",
        "Which airline had the lowest punctuality in Q3?",
        "How many flights went to Los Angeles Intl between June and August?",
        "flights from Kennedy by month",
        "How many flights were cancelled last month?",
        "busiest hour for departures from JFK",
        "average departure delay by weekday",
        "flights to SFO by carrier in Q4",
        "cancellation rate for flights to Chicago in January",
        "on-time percentage of Southwest",
        "typical delay at Newark",
        "number of departures by origin per quarter",
        "distance flown by United in 2013",
        "flights last quarter vs the quarter before",
        "average departure delay when precipitation is above 0",
        "ytd flights by month",
    ],
}

UNANSWERABLE: dict[str, list[str]] = {
    "retail": [
        "what is the weather on mars",
        "revenue by favourite colour",
        "how many stores",
        "profit in Narnia",
        "tell me a joke",
        "marketing spend by product category",
        "return rate by reason",
        "top customers",
    ],
    "flights": [
        "what is the weather on mars",
        "flights by favourite colour",
        "how many pilots",
        "flights to Gotham City",
        "top 5 airports by departures",
        "which airline flies the most to Atlanta",
        "",
    ],
}


@cache
def layer_of(ws: str) -> SemanticLayer:
    """The shipped semantic model of a demo workspace."""
    return load_semantic_model([REPO / "semantic_models" / ws])


@cache
def values_of(ws: str) -> ValueIndex:
    """The value-index snapshot of a demo workspace (kept honest by test_value_index.py)."""
    data = json.loads((GOLDEN / f"{ws}_values.json").read_text(encoding="utf-8"))
    data["version"] = layer_of(ws).version_hash  # the snapshot's values do not depend on the model's wording
    return ValueIndex.from_dict(data)


@cache
def planner_of(ws: str) -> Planner:
    return Planner(layer_of(ws), values_of(ws), TODAY[ws])


def plan_data(plan: QueryPlan) -> dict[str, Any]:
    data = plan.to_dict()
    data.pop("evidence", None)
    return data


def _golden_path(ws: str) -> Path:
    return GOLDEN / f"{ws}.json"


def _check_golden(ws: str, question: str, actual: dict[str, Any]) -> None:
    path = _golden_path(ws)
    golden = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if REWRITE:
        golden[question] = actual
        path.write_text(json.dumps(golden, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    assert question in golden, f"no golden plan for {question!r}; run with DATATRUTH_REWRITE_GOLDEN=1"
    assert actual == golden[question]


CASES = [(ws, q) for ws, qs in QUESTIONS.items() for q in qs]
REFUSALS = [(ws, q) for ws, qs in UNANSWERABLE.items() for q in qs]


def test_enough_questions_per_workspace() -> None:
    assert all(len(set(qs)) >= 40 for qs in QUESTIONS.values())


@pytest.mark.parametrize(("ws", "question"), CASES, ids=[f"{w}:{q}" for w, q in CASES])
def test_golden_plan(ws: str, question: str) -> None:
    plan = planner_of(ws).plan(question)
    _check_golden(ws, question, plan_data(plan))
    compile_plan(plan, layer_of(ws), "duckdb")  # the plan is one the compiler accepts


@pytest.mark.parametrize(("ws", "question"), CASES, ids=[f"{w}:{q}" for w, q in CASES])
def test_every_choice_has_evidence(ws: str, question: str) -> None:
    plan = planner_of(ws).plan(question)
    targets = {(e.kind, e.target) for e in plan.evidence}
    assert all(0.0 <= e.score <= 1.0 and e.method for e in plan.evidence)
    for metric in plan.metrics:
        assert ("metric", metric) in targets
    for adhoc in plan.adhoc_metrics:
        assert ("metric", adhoc.expr) in targets
    for dim in plan.dimensions:
        assert any(k in ("dimension", "time") and (dim.name in t or (dim.grain or "") in t) for k, t in targets)
    for f in plan.filters:
        assert any(k == "filter" and t.startswith(f.dimension) for k, t in targets)
    if plan.time_range is not None:
        assert any(k == "time" for k, _ in targets)


@pytest.mark.parametrize(("ws", "question"), REFUSALS, ids=[f"{w}:{q}" for w, q in REFUSALS])
def test_unanswerable_questions_are_refused_with_suggestions(ws: str, question: str) -> None:
    with pytest.raises(PlanningError) as info:
        planner_of(ws).plan(question)
    err = info.value
    assert err.message and err.hint
    if question:
        assert err.suggestions, "a refusal offers the nearest names"
    _check_golden(f"{ws}_refusals", question, {"message": err.message, "suggestions": err.suggestions,
                                               "unmatched": err.unmatched})


def test_never_guesses_a_metric() -> None:
    with pytest.raises(PlanningError) as info:
        planner_of("retail").plan("by region in 2025")
    assert "metric" in info.value.message
    assert info.value.suggestions and all(planner_of("retail").layer.has_metric(s) for s in info.value.suggestions)


def test_unknown_grouping_names_the_words_and_nearest_dimensions() -> None:
    with pytest.raises(PlanningError) as info:
        planner_of("retail").plan("revenue by regoin size")
    assert info.value.unmatched == ["size"] or "size" in info.value.unmatched


def test_typo_abbreviation_and_phonetic_are_reported_as_such() -> None:
    plan = planner_of("retail").plan("revnue by cust segmint")
    methods = {e.target: e.method for e in plan.evidence}
    assert plan.metrics == ("revenue",) and methods["revenue"] == "fuzzy"
    assert [d.name for d in plan.dimensions] == ["customer__segment"]
    assert methods["customer__segment"] in ("abbreviation", "corrected", "fuzzy")


def test_learned_synonym_is_used() -> None:
    layer = layer_of("retail")
    learned = [LearnedSynonym("bananas", "metric", "revenue", "ana")]
    plan = plan_question("bananas by region", layer, today=TODAY["retail"], value_index=values_of("retail"),
                         synonyms=learned)
    assert plan.metrics == ("revenue",)
    assert any(e.method == "learned" for e in plan.evidence)
    with pytest.raises(PlanningError):
        plan_question("bananas by region", layer, today=TODAY["retail"], value_index=values_of("retail"))


def test_numeric_condition_without_dimension_is_ignored_and_said() -> None:
    plan = planner_of("flights").plan("flights longer than 1000 miles")
    assert plan.filters == ()
    assert any(e.method == "ignored" and "1000" in e.phrase for e in plan.evidence)


def test_comparison_without_period_gets_a_default_range() -> None:
    plan = planner_of("retail").plan("revenue vs last year")
    assert plan.comparison == "same_period_last_year"
    assert plan.time_range is not None and plan.time_range.start == dt.date(2026, 1, 1)


@pytest.mark.parametrize(("ws", "word", "becomes", "method"), [
    ("retail", "revenew", "revenue", "fuzzy"), ("retail", "chanel", "channel", "fuzzy"),
    ("retail", "catagory", "category", "fuzzy"), ("retail", "cust", "customer", "abbreviation"),
    ("retail", "qty", "quantity", "abbreviation"), ("retail", "rev", "revenue", "abbreviation"),
    ("retail", "brnd", "brand", "abbreviation"), ("retail", "sails", "sale", "phonetic"),
    ("flights", "dilay", "delay", "phonetic"), ("flights", "destinashun", "destination", "phonetic"),
    ("flights", "cancelation", "cancellation", "fuzzy"), ("flights", "carier", "carrier", "fuzzy"),
])
def test_word_corrections(ws: str, word: str, becomes: str, method: str) -> None:
    fix = planner_of(ws).vocabulary.correct(word)
    assert fix is not None and (fix.becomes, fix.method) == (becomes, method)
    assert 0 < fix.score < 1


@pytest.mark.parametrize("word", ["the", "by", "texas", "weather", "mars", "revenue", "in"])
def test_known_or_unrelated_words_are_not_corrected(word: str) -> None:
    assert planner_of("retail").vocabulary.correct(word) is None


def test_normalisation() -> None:
    from datatruth.ask.vocabulary import normalize, split_words

    assert normalize("Customer_Regions") == "customer region"
    assert normalize("What's the AOV by categories?") == "what the aov by category"
    words = split_words("revenue / orders for O'Hare")
    assert [w.raw for w in words] == ["revenue", "/", "orders", "for", "OHare"]
    assert words[2].start == 10 and words[2].end == 16


_ENTITY_LAYER = """
semantic_models:
  - name: policy
    table: policy
    entities: [{name: policy, type: primary, expr: policy_id}]
    dimensions: [{name: policy_number, type: categorical}, {name: status_code, type: categorical}]
    measures: [{name: policy_count, agg: count}]
  - name: claim
    table: claim
    entities: [{name: claim_identifier, type: primary}, {name: policy, type: foreign, expr: policy_id}]
    dimensions: [{name: company_claim_number, type: categorical}]
    measures: [{name: claim_total, agg: sum, expr: amount}]
  - name: flight
    table: flights
    entities: [{name: flight, type: primary, expr: flight_id}]
    dimensions: [{name: flight_number, type: categorical}]
    measures: [{name: flight_count, agg: count}]
metrics:
  - {name: number_of_policies, type: simple, measure: policy_count}
  - {name: claim_total, type: simple, measure: claim_total}
  - {name: flight_count, type: simple, measure: flight_count, synonyms: [flights]}
"""


@pytest.mark.parametrize(("phrase", "target"), [
    ("policy", "policy__policy_number"),  # a plain entity name stands for its number column
    ("claim", "claim_identifier__company_claim_number"),  # as does an `_identifier` entity
    ("flight", None),  # "flights" names a metric: the entity word keeps meaning the metric
])
def test_entity_words_stand_for_their_label_column(phrase: str, target: str | None) -> None:
    from datatruth.ask.vocabulary import build_vocabulary
    from datatruth.semantic.model import parse_semantic_text

    vocabulary = build_vocabulary(parse_semantic_text(_ENTITY_LAYER, "entities.yaml"))
    entity_terms = [t.target for t in vocabulary.lookup(phrase) if t.source == "entity"]
    assert entity_terms == ([target] if target else [])

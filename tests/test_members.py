"""Members of an entity in a result: grouped by key, read by label, told apart when two share a label."""

from __future__ import annotations

import pandas as pd
import pytest
from isolation import REPO

from datatruth.ask.answer import AnswerColumn
from datatruth.ask.charts import choose_chart
from datatruth.ask.explain import explain
from datatruth.ask.members import label_columns, shown, with_labels
from datatruth.ask.pipeline import said_counts
from datatruth.errors import PlanningError
from datatruth.semantic.model import load_semantic_model
from datatruth.semantic.plan import Evidence, QueryPlan

COLUMNS = (
    AnswerColumn("customer__customer_id", "dimension", None, "Customer id", names="customer__name"),
    AnswerColumn("customer__name", "dimension", None, "Customer name"),
    AnswerColumn("revenue", "metric", "currency", "Revenue"),
)


def test_a_repeated_label_carries_its_key_and_a_unique_one_does_not() -> None:
    frame = pd.DataFrame(
        {
            "customer__customer_id": [4411, 95, 7],
            "customer__name": ["Wei Young", "Wei Young", "Ann Lee"],
            "revenue": [30.0, 20.0, 10.0],
        }
    )
    view, columns = shown(frame, COLUMNS)
    assert list(view["customer__name"]) == ["Wei Young (#4411)", "Wei Young (#95)", "Ann Lee"]
    assert [c.name for c in columns] == ["customer__name", "revenue"]
    assert list(frame.columns) == [
        "customer__customer_id",
        "customer__name",
        "revenue",
    ]  # the answer keeps keys
    chart = choose_chart(view, columns)
    assert chart is not None and chart["data"][0]["x"] == ["Wei Young (#4411)", "Wei Young (#95)", "Ann Lee"]
    assert "Wei Young (#4411) ($30.00)" in explain(view, columns)


def test_the_plan_says_which_column_names_a_key() -> None:
    layer = load_semantic_model([REPO / "semantic_models" / "retail"])
    plan = QueryPlan.from_dict(
        {
            "metrics": ["revenue"],
            "dimensions": ["customer__customer_id", "customer__name", "customer__region"],
        }
    )
    pairs = label_columns(plan, layer)
    assert pairs == {"customer__customer_id": "customer__name"}
    marked = with_labels((AnswerColumn("customer__customer_id"), AnswerColumn("customer__region")), pairs)
    assert marked[0].names == "customer__name" and marked[1].names == ""


def test_a_count_said_of_the_members_must_match_the_answer() -> None:
    """ "the three origin airports": an answer with another number of them is refused, not shown."""
    said = Evidence("three origin airports", "members", "3 origin_airport__faa", 1.0, "count")
    plan = QueryPlan(metrics=("flights",), evidence=(said,))
    frame = pd.DataFrame({"origin_airport__faa": ["EWR", "JFK", "LGA", "JFK"], "flights": [1, 2, 3, 4]})
    said_counts(plan, frame, truncated=False)  # three airports, each on one or more rows
    with pytest.raises(PlanningError, match="'three origin airports', but the answer has 2"):
        said_counts(plan, frame.iloc[1:3], truncated=False)
    said_counts(plan, frame.iloc[1:3], truncated=True)  # a cut answer cannot be counted

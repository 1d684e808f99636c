"""Charts, insights and explanations on plain frames; explanations quote only numbers of the frame."""

from __future__ import annotations

import datetime as dt
import decimal
import re

import pandas as pd
import plotly.graph_objects as go
import pytest

from datatruth.ask.answer import AnswerColumn, frame_rows, json_value
from datatruth.ask.charts import choose_chart
from datatruth.ask.explain import explain, format_label, format_value
from datatruth.ask.insights import find_insights

REV = AnswerColumn("revenue", "metric", "currency", "Revenue")
ORD = AnswerColumn("orders", "metric", "number", "Orders")
RATE = AnswerColumn("on_time_rate", "metric", "percent", "On-time rate")
REGION = AnswerColumn("customer__region", "dimension")
CHANNEL = AnswerColumn("order__channel", "dimension")
MONTH = AnswerColumn("metric_time__month", "time")


def _months(n: int) -> list[dt.date]:
    return [dt.date(2025 + (m // 12), m % 12 + 1, 1) for m in range(n)]


def kpi() -> tuple[pd.DataFrame, tuple[AnswerColumn, ...]]:
    return pd.DataFrame({"revenue": [decimal.Decimal("1234567.89")]}), (REV,)


def kpi_many() -> tuple[pd.DataFrame, tuple[AnswerColumn, ...]]:
    return pd.DataFrame({"revenue": [decimal.Decimal("99.5")], "orders": [12], "on_time_rate": [0.8123]}), (
        REV,
        ORD,
        RATE,
    )


def series() -> tuple[pd.DataFrame, tuple[AnswerColumn, ...]]:
    values = [100.0, 110.0, 125.0, 130.0, 150.0, 170.0]
    return pd.DataFrame({"metric_time__month": _months(6), "revenue": values}), (MONTH, REV)


def series_two_metrics() -> tuple[pd.DataFrame, tuple[AnswerColumn, ...]]:
    return pd.DataFrame(
        {"metric_time__month": _months(4), "revenue": [5.5, 6.25, 7.0, 4.75], "orders": [10, 12, 14, 9]}
    ), (MONTH, REV, ORD)


def series_by_dim() -> tuple[pd.DataFrame, tuple[AnswerColumn, ...]]:
    months = _months(3) * 2
    return pd.DataFrame(
        {
            "metric_time__month": months,
            "customer__region": ["East"] * 3 + ["West"] * 3,
            "revenue": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    ), (MONTH, REGION, REV)


def categories() -> tuple[pd.DataFrame, tuple[AnswerColumn, ...]]:
    regions = ["East", "West", "North", "South", "Central"]
    return pd.DataFrame(
        {
            "customer__region": regions,
            "revenue": [decimal.Decimal(x) for x in ("5000.10", "3000.00", "1500.55", "700.00", "20.5")],
        }
    ), (REGION, REV)


def categories_two_metrics() -> tuple[pd.DataFrame, tuple[AnswerColumn, ...]]:
    return pd.DataFrame({"customer__region": ["East", "West"], "revenue": [10.0, 20.0], "orders": [1, 2]}), (
        REGION,
        REV,
        ORD,
    )


def two_dims() -> tuple[pd.DataFrame, tuple[AnswerColumn, ...]]:
    return pd.DataFrame(
        {
            "customer__region": ["East", "East", "West", "West"],
            "order__channel": ["Online", "Store"] * 2,
            "orders": [1, 2, 3, 4],
        }
    ), (REGION, CHANNEL, ORD)


def with_outlier() -> tuple[pd.DataFrame, tuple[AnswerColumn, ...]]:
    names = [f"store {i}" for i in range(12)]
    values = [100, 102, 98, 101, 99, 103, 97, 100, 101, 99, 100, 900]
    return pd.DataFrame({"customer__region": names, "orders": values}), (REGION, ORD)


def percents() -> tuple[pd.DataFrame, tuple[AnswerColumn, ...]]:
    return pd.DataFrame({"customer__region": ["A", "B", "C"], "on_time_rate": [0.5, 0.25, 0.125]}), (
        REGION,
        RATE,
    )


@pytest.mark.parametrize(
    "make, kind",
    [
        (kpi, "indicator"),
        (kpi_many, "indicator"),
        (series, "scatter"),
        (series_two_metrics, "scatter"),
        (series_by_dim, "scatter"),
        (categories, "bar"),
        (categories_two_metrics, "bar"),
        (two_dims, "bar"),
    ],
)
def test_chart_kind_follows_the_shape(make, kind: str) -> None:
    frame, columns = make()
    spec = choose_chart(frame, columns, "t")
    assert spec is not None
    assert {trace["type"] for trace in spec["data"]} == {kind}
    go.Figure(spec)  # plotly validates the hand-written spec


def test_chart_series_counts() -> None:
    assert len(choose_chart(*series_two_metrics())["data"]) == 2
    assert len(choose_chart(*series_by_dim())["data"]) == 2
    assert len(choose_chart(*kpi_many())["data"]) == 3
    assert choose_chart(*two_dims())["layout"]["barmode"] == "group"


def test_no_chart_for_empty_or_label_only_results() -> None:
    assert choose_chart(pd.DataFrame({"revenue": []}), (REV,)) is None
    assert choose_chart(pd.DataFrame({"customer__region": ["a"]}), (REGION,)) is None


@pytest.mark.parametrize(
    "value, fmt, text",
    [
        (decimal.Decimal("1234567.891"), "currency", "$1,234,567.89"),
        (-5, "currency", "-$5.00"),
        (0.1234, "percent", "12.34%"),
        (1234, "number", "1,234"),
        (12.345, None, "12.35"),
        (None, "number", "n/a"),
    ],
)
def test_format_value(value, fmt, text: str) -> None:
    assert format_value(value, fmt) == text


@pytest.mark.parametrize(
    "value, column, text",
    [
        (dt.date(2025, 3, 1), MONTH, "2025-03"),
        (dt.date(2025, 1, 1), AnswerColumn("metric_time__year", "time"), "2025"),
        (pd.Timestamp("2025-04-01"), AnswerColumn("x__quarter", "time"), "2025-Q2"),
        (dt.date(2025, 4, 7), AnswerColumn("metric_time__day", "time"), "2025-04-07"),
        (None, REGION, "(blank)"),
    ],
)
def test_format_label(value, column, text: str) -> None:
    assert format_label(value, column) == text


_NUMBER = re.compile(r"-?\$?\d[\d,]*(?:\.\d+)?%?")


def _numbers_in(text: str, frame: pd.DataFrame, columns: tuple[AnswerColumn, ...]) -> list[str]:
    # Labels (dimension values and dates) are quoted from the frame too; take them out before reading numbers.
    labels = {format_label(v, c) for c in columns if c.role != "metric" for v in frame[c.name]}
    for label in sorted(labels, key=len, reverse=True):  # "store 11" before "store 1"
        # whole labels only: a key "4" is not the 4 inside "$1,045,817.56"
        text = re.sub(rf"(?<![\w$.,]){re.escape(label)}(?![\w]|[.,]\d)", " ", text)
    for column in columns:
        text = text.replace(column.title, " ")
    return _NUMBER.findall(text)


def _in_frame(token: str, frame: pd.DataFrame, columns: tuple[AnswerColumn, ...]) -> bool:
    percent = token.endswith("%")
    digits = token.replace("$", "").replace(",", "").rstrip("%")
    shown = float(digits)
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    for column in columns:
        if column.role != "metric":
            continue
        for value in frame[column.name]:
            if value is None:
                continue
            number = float(value) * (100 if percent else 1)
            if abs(number - shown) <= 0.5 * 10**-decimals + 1e-9:
                return True
    return False


ALL_SHAPES = [
    kpi,
    kpi_many,
    series,
    series_two_metrics,
    series_by_dim,
    categories,
    categories_two_metrics,
    two_dims,
    with_outlier,
    percents,
]


@pytest.mark.parametrize("make", ALL_SHAPES)
def test_every_number_in_an_explanation_is_in_the_frame(make) -> None:
    frame, columns = make()
    text = explain(frame, columns, "revenue by region")
    tokens = _numbers_in(text, frame, columns)
    assert tokens, text  # the explanation does quote numbers
    missing = [t for t in tokens if not _in_frame(t, frame, columns)]
    assert not missing, f"{missing} not in the frame: {text}"


def test_the_number_check_catches_an_invented_number() -> None:
    frame, columns = categories()
    assert not _in_frame("$9,999.99", frame, columns)
    assert _in_frame("$5,000.10", frame, columns)


def test_explanations_name_extremes() -> None:
    frame, columns = categories()
    text = explain(frame, columns)
    assert "East ($5,000.10)" in text and "lowest: Central ($20.50)" in text
    text = explain(*series())
    assert "from $100.00 in 2025-01 to $170.00 in 2025-06" in text
    assert explain(pd.DataFrame({"revenue": []}), (REV,)) == "No rows matched this question."


def test_series_insights_change_and_trend() -> None:
    insights = find_insights(*series())
    kinds = {i.kind: i.text for i in insights}
    assert "up 13.3% in 2025-06 vs 2025-05" in kinds["change"]
    assert "upward trend" in kinds["trend"]
    flat = pd.DataFrame({"metric_time__month": _months(5), "revenue": [100.0, 101.0, 99.0, 100.0, 100.5]})
    assert "roughly flat" in {i.kind: i.text for i in find_insights(flat, (MONTH, REV))}["trend"]
    down = pd.DataFrame({"metric_time__month": _months(4), "revenue": [200.0, 150.0, 120.0, 80.0]})
    texts = {i.kind: i.text for i in find_insights(down, (MONTH, REV))}
    assert "downward trend" in texts["trend"] and "down 33.3%" in texts["change"]


def test_outlier_found_by_zscore_and_iqr() -> None:
    outliers = [i for i in find_insights(*with_outlier()) if i.kind == "outlier"]
    assert len(outliers) == 1 and outliers[0].text.startswith("store 11 is unusually high")
    calm = [i for i in find_insights(*categories()) if i.kind == "outlier"]
    assert calm == []


def test_share_of_total_only_for_additive_metrics() -> None:
    share = [i for i in find_insights(*categories()) if i.kind == "share"]
    assert len(share) == 1 and "East accounts for 48.9%" in share[0].text
    assert not [i for i in find_insights(*percents()) if i.kind == "share"]


def test_json_values_and_rows() -> None:
    assert json_value(decimal.Decimal("5")) == 5 and isinstance(json_value(decimal.Decimal("5")), int)
    assert json_value(decimal.Decimal("5.50")) == 5.5
    assert json_value(pd.Timestamp("2025-01-01")) == "2025-01-01"
    assert json_value(float("nan")) is None
    frame = pd.DataFrame({"d": [dt.date(2025, 1, 2)], "n": [decimal.Decimal("1.25")]})
    assert frame_rows(frame) == [["2025-01-02", 1.25]]

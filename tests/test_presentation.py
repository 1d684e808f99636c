"""What a person reads of an answer: labels instead of model names, numbers in their metric's format,
a percent on its own axis, honest insights, weekday names, grammar, Excel files with numbers, file names,
and a still picture of each chart (issue 19, findings 1-5 and 13). Real answers from the demo warehouses."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import plotly.graph_objects as go
import pytest
from isolation import isolate

from datatruth import resources
from datatruth.ask import pipeline
from datatruth.ask.answer import Answer, AnswerColumn
from datatruth.ask.charts import choose_chart, untitled
from datatruth.ask.formats import number_style
from datatruth.ask.insights import find_insights
from datatruth.ask.present import as_text, csv_bytes, excel_bytes, file_stem, present
from datatruth.ask.static_chart import render_png
from datatruth.semantic.labels import column_label, describe_plan, in_sentence, label_words

INTERNAL = re.compile(
    r"\b[a-z]+(?:_[a-z]+)*__[a-z_]+\b"
)  # customer__region, metric_time__month, revenue__share


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Any, Any]]]:
    from datatruth.cli.ask import open_context

    out = {}
    with pytest.MonkeyPatch.context() as mp:
        for name in ("retail", "flights"):
            folder = tmp_path_factory.mktemp(f"present-{name}")
            isolate(mp, folder, name)
            ws, store, _user = open_context(name)
            out[name] = (ws, store)
        yield out
        for ws, _store in out.values():
            resources.invalidate(ws.name)
            ws.close()


def _ask(demos: dict, workspace: str, question: str) -> Answer:
    ws, store = demos[workspace]
    return pipeline.ask(ws, question, user="local", store=store)


def _layer(demos: dict, workspace: str) -> Any:
    ws, store = demos[workspace]
    return pipeline.workspace_resources(ws, store).layer


# -- 1. labels ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "workspace, question, headers",
    [
        ("retail", "revenue by month last quarter", ["Month", "Revenue"]),
        ("retail", "average order value by region", ["Customer region", "Average order value"]),
        ("retail", "orders by weekday", ["Day of week", "Orders"]),
        (
            "retail",
            "revenue by month last quarter vs previous period",
            ["Month", "Revenue", "Revenue (previous period)", "Revenue difference", "Revenue change"],
        ),
        # members are grouped by key and shown with their label
        (
            "flights",
            "flights by destination top 10",
            ["Destination airport code", "Destination airport", "Flights"],
        ),
        (
            "flights",
            "average departure delay by airline",
            ["Carrier code", "Airline", "Average departure delay (min)"],
        ),
    ],
)
def test_headers_axes_and_text_use_the_model_labels(
    demos, workspace: str, question: str, headers: list[str]
) -> None:
    answer = _ask(demos, workspace, question)
    shown = present(answer.frame, answer.columns)
    assert list(shown.frame.columns) == headers
    chart = answer.chart
    assert chart is not None
    axis_titles = [
        str(v.get("title", {}).get("text", ""))
        for k, v in chart["layout"].items()
        if k.startswith(("xaxis", "yaxis")) and isinstance(v, dict)
    ]
    trace_names = [str(t.get("name", "")) for t in chart["data"]]
    words = " ".join(
        [
            answer.explanation,
            *[i.text for i in answer.insights],
            *axis_titles,
            *trace_names,
            describe_plan(answer.plan, _layer(demos, workspace)),
        ]
    )
    assert not INTERNAL.findall(words), words
    # the axis names what is drawn: a member's label (the key only tells repeated labels apart)
    assert headers[1 if headers[0].endswith(("code", "id")) else 0] in axis_titles


def test_plan_panel_reads_as_words(demos) -> None:
    answer = _ask(demos, "retail", "online revenue by region last year")
    layer = _layer(demos, "retail")
    text = describe_plan(answer.plan, layer)
    assert text == "Revenue by customer region, where sales channel is Online, for last year (2025)"
    matched = [label_words(layer, e.target) for e in answer.plan.evidence]
    assert "Sales channel = Online" in matched and "Customer region" in matched
    assert not any(INTERNAL.search(m) for m in matched)


def test_share_tiles_are_labelled(demos) -> None:
    answer = _ask(demos, "flights", "share of flights by origin airport")
    titles = [c.title for c in answer.columns]
    assert "Flights share" in titles, titles
    assert not any("__" in t or "_" in t.split(" ")[0] for t in titles)


def test_label_helpers() -> None:
    assert in_sentence("Average order value") == "average order value"
    assert in_sentence("AOV by channel") == "AOV by channel"
    assert column_label(None, "dest_airport__faa") == "Dest airport faa"


# -- 2. number formats ---------------------------------------------------------------------------------------


def test_number_styles_per_renderer() -> None:
    money, percent = number_style("currency"), number_style("percent")
    whole, decimals = number_style("number", [17283, 5]), number_style("number", [21.9055478749])
    assert (money.streamlit, money.excel, money.prefix) == ("dollar", '"$"#,##0.00', "$")
    assert (percent.streamlit, percent.excel, percent.d3) == ("%.2f%%", "0.00%", ".2%")
    assert (whole.streamlit, whole.excel) == ("%,d", "#,##0")
    assert (decimals.streamlit, decimals.d3) == ("%,.2f", ",.2f")


def test_tables_tiles_charts_and_text_are_formatted(demos) -> None:
    answer = _ask(demos, "flights", "average departure delay")
    card = answer.chart["data"][0]
    assert card["type"] == "indicator" and card["number"]["valueformat"] == ",.2f"  # not 21.9055478749
    assert re.search(r"is \d+\.\d\d\.$", answer.explanation), answer.explanation
    by_dest = _ask(demos, "flights", "flights by destination top 10")
    text = as_text(by_dest.frame, by_dest.columns)
    assert re.fullmatch(r"\d{1,3}(,\d{3})+", text["Flights"].iloc[0])  # 17,283, not 17283
    assert "17,283" in by_dest.explanation or re.search(r"\(\d{1,3},\d{3}\)", by_dest.explanation)
    bar = by_dest.chart["data"][0]
    assert ":,.0f}" in bar["hovertemplate"] and by_dest.chart["layout"]["yaxis"]["tickformat"] == ",.0f"
    money = _ask(demos, "retail", "revenue by channel in 2025")
    styles = present(money.frame, money.columns).styles
    assert styles["Revenue"].streamlit == "dollar"
    assert re.fullmatch(r"\$\d{1,3}(,\d{3})+\.\d\d", as_text(money.frame, money.columns)["Revenue"].iloc[0])
    assert money.chart["layout"]["yaxis"]["tickprefix"] == "$"
    rate = _ask(demos, "flights", "cancellation rate by month")
    shown = present(rate.frame, rate.columns)
    assert shown.styles["Cancellation rate"].streamlit == "%.2f%%"  # 27.00%, never 27% next to 5.06%
    assert shown.frame["Cancellation rate"].iloc[0] == pytest.approx(rate.frame.iloc[0, 1] * 100)
    assert rate.chart["layout"]["yaxis"]["tickformat"].endswith("%")
    assert re.search(r"\d+\.\d\d%", rate.explanation)


# -- 3. a percent on its own axis ------------------------------------------------------------------------------


def test_percent_series_gets_its_own_axis(demos) -> None:
    answer = _ask(demos, "retail", "revenue by month last quarter vs previous period")
    chart = answer.chart
    traces = {t["name"]: t for t in chart["data"]}
    assert (
        traces["Revenue"].get("yaxis", "y") == "y"
        and traces["Revenue (previous period)"].get("yaxis", "y") == "y"
    )
    assert traces["Revenue change"]["yaxis"] == "y2"
    assert "Revenue difference" not in traces  # the gap between the two lines drawn, not a line of its own
    layout = chart["layout"]
    assert layout["yaxis"]["tickprefix"] == "$" and layout["yaxis2"]["tickformat"].endswith("%")
    assert layout["yaxis2"]["overlaying"] == "y" and layout["yaxis2"]["side"] == "right"
    go.Figure(chart)  # a valid plotly figure


def test_grouped_bars_of_two_formats_stand_side_by_side() -> None:
    frame = pd.DataFrame(
        {"order__channel": ["Online", "Store"], "revenue": [10.0, 20.0], "margin": [0.25, 0.5]}
    )
    columns = (
        AnswerColumn("order__channel", "dimension", label="Sales channel"),
        AnswerColumn("revenue", "metric", "currency", "Revenue"),
        AnswerColumn("margin", "metric", "percent", "Gross margin %"),
    )
    chart = choose_chart(frame, columns)
    assert [t.get("yaxis") for t in chart["data"]] == ["y", "y2"]
    assert [t.get("offsetgroup") for t in chart["data"]] == ["0", "1"]
    go.Figure(chart)


# -- 4. insights, weekdays, grammar ---------------------------------------------------------------------------


def test_no_share_of_an_average(demos) -> None:
    aov = _ask(demos, "retail", "average order value by region")
    assert not [i for i in aov.insights if i.kind == "share"], [i.text for i in aov.insights]
    delay = _ask(demos, "flights", "average departure delay by airline")
    assert not [i for i in delay.insights if i.kind == "share"]
    customers = _ask(demos, "retail", "customers by region")  # a distinct count does not add up either
    assert not [i for i in customers.insights if i.kind == "share"]
    orders = _ask(demos, "retail", "orders by channel")
    share = [i.text for i in orders.insights if i.kind == "share"]
    assert len(share) == 1 and "of the total orders shown" in share[0]


def test_weekdays_by_name(demos) -> None:
    answer = _ask(demos, "retail", "orders by weekday")
    assert answer.explanation.startswith("Highest orders: Saturday"), answer.explanation
    assert not re.search(r"Highest orders: \d", answer.explanation)
    assert answer.chart["data"][0]["x"] == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    assert present(answer.frame, answer.columns).frame["Day of week"].tolist()[0] == "Monday"


def test_trend_grammar_and_rate_changes_in_points() -> None:
    months = [dt.date(2025, m, 1) for m in range(1, 6)]
    month = AnswerColumn("metric_time__month", "time", label="Month")
    rev = AnswerColumn("revenue", "metric", "currency", "Revenue", True)
    rate = AnswerColumn("on_time_rate", "metric", "percent", "On-time rate", False)
    frame = pd.DataFrame(
        {
            "metric_time__month": months,
            "revenue": [50.0, 40.0, 30.0, 20.0, 10.0],
            "on_time_rate": [0.80, 0.79, 0.78, 0.77, 0.75],
        }
    )
    texts = [i.text for i in find_insights(frame, (month, rev, rate))]
    assert any("has a downward trend" in t for t in texts) and not any("an downward" in t for t in texts)
    assert any("On-time rate is down 2.0 percentage points" in t for t in texts), texts
    up = frame.assign(revenue=[10.0, 20.0, 30.0, 40.0, 50.0])
    assert any("has an upward trend" in i.text for i in find_insights(up, (month, rev)))


def test_comparison_helper_columns_get_no_insights_of_their_own(demos) -> None:
    answer = _ask(demos, "retail", "revenue by month last quarter vs previous period")
    assert answer.insights and all(i.column == "revenue" for i in answer.insights)


# -- 5. downloads --------------------------------------------------------------------------------------------


def test_excel_holds_numbers_with_formats_and_labelled_headers(demos) -> None:
    answer = _ask(demos, "retail", "revenue and orders by month last quarter")
    book = openpyxl.load_workbook(io.BytesIO(excel_bytes(answer.frame, answer.columns)))
    sheet = book.active
    assert [c.value for c in sheet[1]] == ["Month", "Revenue", "Orders"]
    month, revenue, orders = sheet[2]
    assert isinstance(month.value, dt.datetime) and month.number_format == "yyyy-mm"
    assert (
        revenue.data_type == "n"
        and isinstance(revenue.value, float)
        and revenue.number_format == '"$"#,##0.00'
    )
    assert orders.data_type == "n" and isinstance(orders.value, int) and orders.number_format == "#,##0"
    assert sheet.max_row == len(answer.frame) + 1
    read_back = pd.read_csv(io.BytesIO(csv_bytes(answer.frame, answer.columns)))
    assert list(read_back.columns) == ["Month", "Revenue", "Orders"]
    assert pd.api.types.is_float_dtype(read_back["Revenue"]) and pd.api.types.is_integer_dtype(
        read_back["Orders"]
    )


def test_decimal_and_weekday_cells() -> None:
    frame = pd.DataFrame({"metric_time__day_of_week": [1, 7], "revenue": [decimal.Decimal("10.50"), None]})
    columns = (
        AnswerColumn("metric_time__day_of_week", "dimension"),
        AnswerColumn("revenue", "metric", "currency"),
    )
    sheet = openpyxl.load_workbook(io.BytesIO(excel_bytes(frame, columns))).active
    assert [c.value for c in sheet[2]] == ["Monday", 10.5] and sheet[3][1].value is None


@pytest.mark.parametrize(
    "texts, stem",
    [
        (("Revenue by month, for last quarter (Q3 2026)",), "revenue-by-month-for-last-quarter-q3-2026"),
        (("", "orders by channel"), "orders-by-channel"),
        (("",), "datatruth-export"),
    ],
)
def test_file_names_say_what_they_hold(texts: tuple[str, ...], stem: str) -> None:
    assert file_stem(*texts) == stem


# -- 13. a still picture of every chart kind --------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "revenue by month last year",
        "revenue",
        "orders by channel by region",
        "revenue by month last quarter vs previous period",
    ],
)
def test_static_png_of_each_chart_kind(demos, question: str) -> None:
    answer = _ask(demos, "retail", question)
    png = render_png(answer.chart)
    assert png is not None and png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    assert image.width >= 800 and image.height >= 180
    assert render_png(untitled(answer.chart)) is not None


def test_notebook_bundle_has_the_plotly_chart_and_a_png(demos) -> None:
    from datatruth.notebook.display import chart_bundle

    answer = _ask(demos, "retail", "revenue by month last year")
    bundle = chart_bundle(answer.chart)
    assert bundle["application/vnd.plotly.v1+json"]["data"][0]["type"] == "scatter"
    assert base64.b64decode(bundle["image/png"])[:4] == b"\x89PNG"


def test_shipped_notebooks_are_unchanged_by_design() -> None:
    # The fallback lives in the display code, not in the notebooks: they stay committed without outputs.
    import nbformat

    repo = Path(__file__).resolve().parent.parent
    for path in (repo / "notebooks").glob("*.ipynb"):
        book = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in book.cells if c.cell_type == "code")

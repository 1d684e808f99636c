"""Forecasts: intervals, model choice, too-short series, a backtest on the retail demo, and the chart traces."""

from __future__ import annotations

import copy
import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from isolation import demo_env, open_demo

from datatruth import resources
from datatruth.ask import pipeline
from datatruth.errors import UserError
from datatruth.insights.forecast import (
    FORECAST_NAME,
    Forecast,
    add_forecast,
    enough_history,
    forecast,
    mape,
    seasonal_naive,
)
from datatruth.settings import load_settings
from datatruth.store.engine import Store
from datatruth.workspace.registry import Workspace


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, Store]]:
    """The retail demo and its store in this module's private data dir."""
    ws, store = open_demo(load_settings(demo_env(tmp_path_factory.mktemp("forecast"))), "retail")
    yield ws, store
    resources.invalidate(ws.name)
    ws.close()


def synthetic(n: int, period: int, seed: int, trend: float = 2.0, amplitude: float = 30.0) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.Series(500 + trend * t + amplitude * np.sin(2 * np.pi * t / period) + rng.normal(0, 4, n))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_seasonal_series_gets_a_seasonal_model_and_tracks_the_truth(seed: int) -> None:
    full = synthetic(60, 12, seed)
    result = forecast(full.iloc[:48], 12, 12)
    assert (
        result.seasonal == "add" and result.seasonal_periods == 12 and "seasonal_periods=12" in result.method
    )
    assert mape(tuple(full.iloc[48:]), result.mean) < 3.0
    assert mape(tuple(full.iloc[48:]), result.mean) < mape(
        tuple(full.iloc[48:]), seasonal_naive(full.iloc[:48], 12, 12)
    )


def test_intervals_nest_and_widen_and_the_result_is_frozen() -> None:
    result = forecast(synthetic(48, 12, 7), 8, 12)
    for lo95, lo80, mean, hi80, hi95 in zip(
        result.lower95, result.lower80, result.mean, result.upper80, result.upper95, strict=True
    ):
        assert lo95 < lo80 < mean < hi80 < hi95
    widths = [hi - lo for lo, hi in zip(result.lower95, result.upper95, strict=True)]
    assert widths[-1] > widths[0]
    assert result.steps == tuple(range(1, 9)) and result.n_obs == 48
    frame = result.frame()
    assert list(frame.columns) == ["step", "forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.mean = ()  # type: ignore[misc]
    assert isinstance(result, Forecast)


def test_non_seasonal_series_with_enough_points_gets_a_trend_model() -> None:
    rng = np.random.default_rng(5)
    series = pd.Series(100 + 3 * np.arange(30) + rng.normal(0, 1, 30))
    result = forecast(series, 5, None)
    assert result.seasonal is None and result.trend == "add"
    assert result.mean[0] == pytest.approx(100 + 3 * 30, rel=0.03)


@pytest.mark.parametrize(
    ("n", "period", "ok"),
    [
        (24, None, True),
        (23, None, False),
        (24, 12, True),
        (23, 12, False),
        (16, 7, True),
        (13, 7, False),
        (104, 52, True),
        (30, 52, True),
        (8, 4, True),
        (7, 4, False),
    ],
)
def test_enough_history(n: int, period: int | None, ok: bool) -> None:
    assert enough_history(n, period) is ok


@pytest.mark.parametrize(
    ("values", "periods"), [(list(range(10)), 3), (list(range(30)), 0), ([1.0] * 20 + [None] * 10, 3)]
)
def test_bad_input_is_a_user_error(values: list, periods: int) -> None:
    with pytest.raises(UserError):
        forecast(pd.Series(values, dtype=float), periods, 12)


def _series(ws: Workspace, store: Store, question: str, trim: bool) -> pd.Series:
    answer = pipeline.ask(ws, question, user="ana", store=store)
    time_col = next(c.name for c in answer.columns if c.role == "time")
    metric = next(c.name for c in answer.columns if c.role == "metric")
    values = answer.frame.sort_values(time_col)[metric].astype(float).reset_index(drop=True)
    return values.iloc[1:-1].reset_index(drop=True) if trim else values  # weeks cut short by the calendar


@pytest.mark.parametrize(
    ("question", "period", "holdout", "trim"),
    [
        ("revenue by month", 12, 6, False),
        ("revenue by month", 12, 12, False),
        ("revenue by week", 52, 13, True),
        ("orders by week", 52, 13, True),
    ],
)
def test_backtest_on_retail_beats_seasonal_naive(
    retail, question: str, period: int, holdout: int, trim: bool
) -> None:
    ws, store = retail
    values = _series(ws, store, question, trim)
    train, test = values.iloc[:-holdout], values.iloc[-holdout:]
    result = forecast(train, holdout, period)
    ours, baseline = mape(tuple(test), result.mean), mape(tuple(test), seasonal_naive(train, holdout, period))
    assert ours < baseline, f"{question}: {result.method} MAPE {ours:.1f}% vs seasonal-naive {baseline:.1f}%"
    inside = sum(lo <= a <= hi for a, lo, hi in zip(test, result.lower95, result.upper95, strict=True))
    assert inside / holdout >= 0.75  # a 95% band that misses most actuals would be a broken interval


def test_add_forecast_draws_a_separate_dashed_trace_with_bands(retail) -> None:
    import plotly.graph_objects as go

    ws, store = retail
    answer = pipeline.ask(ws, "revenue by month", user="ana", store=store)
    frame_before, chart_before = answer.frame.copy(), copy.deepcopy(answer.chart)
    spec = add_forecast(answer)
    assert spec is not None
    go.Figure(spec)  # a valid plotly figure
    names = [t["name"] for t in spec["data"]]
    assert names[: len(chart_before["data"])] == [t["name"] for t in chart_before["data"]]
    assert names[-3:] == ["95% interval", "80% interval", FORECAST_NAME]
    line = spec["data"][-1]
    assert line["line"]["dash"] == "dash" and len(line["x"]) == 7  # the last actual point + 6 months
    actual_x = chart_before["data"][0]["x"]
    assert line["x"][0] == actual_x[-1] and line["x"][1:] == [
        "2026-11",
        "2026-12",
        "2027-01",
        "2027-02",
        "2027-03",
        "2027-04",
    ]
    assert not set(line["x"][1:]) & set(actual_x)
    band = spec["data"][-3]
    assert band["fill"] == "toself" and len(band["x"]) == 12
    assert "forecast" in spec["layout"]["title"]["text"] and spec["layout"]["meta"]["forecast_periods"] == 6
    # The actual numbers are untouched: forecasts never enter the answer's frame or chart.
    pd.testing.assert_frame_equal(answer.frame, frame_before)
    assert answer.chart == chart_before


def test_add_forecast_weekly_labels_continue_by_seven_days(retail) -> None:
    ws, store = retail
    answer = pipeline.ask(ws, "orders by week", user="ana", store=store)
    spec = add_forecast(answer)
    assert spec is not None
    x = spec["data"][-1]["x"]
    days = pd.to_datetime(pd.Series(x)).diff().dropna().dt.days.tolist()
    assert days == [7] * (len(x) - 1) and len(x) == 9


@pytest.mark.parametrize(
    "question",
    ["revenue by customer region", "revenue", "revenue by month in 2025", "revenue by month and channel"],
)
def test_add_forecast_is_none_without_a_long_single_series(retail, question: str) -> None:
    ws, store = retail
    assert add_forecast(pipeline.ask(ws, question, user="ana", store=store)) is None


def test_benchmark_script_runs(retail, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    ws, _ = retail
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "forecast_backtest.py"
    spec = importlib.util.spec_from_file_location("forecast_backtest", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "forecast_backtest", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    values = _series(ws, retail[1], "orders by month", False)
    row = module.backtest(values, module.Case("orders by month", "month", 6))
    assert row.points == 36 and row.mape < row.baseline and 0 <= row.coverage95 <= 1

"""Backtest the forecast on the retail demo: hold out the last N periods, compare MAPE with a seasonal-naive baseline.

    python benchmarks/forecast_backtest.py [--workspace retail]

Series come from the Ask pipeline itself (revenue and orders by month and by week). Weekly series drop the
first and last week, which the data's calendar cuts short (orders run from a Wednesday to a Saturday).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import pandas as pd

from datatruth.insights.forecast import SEASONAL_PERIODS, forecast, mape, seasonal_naive


@dataclass(frozen=True)
class Case:
    """One backtest: a question, its grain and how many final periods to hold out."""

    question: str
    grain: str
    holdout: int
    trim_partial: bool = False


CASES = (
    Case("revenue by month", "month", 6),
    Case("revenue by month", "month", 12),
    Case("orders by month", "month", 6),
    Case("revenue by week", "week", 13, trim_partial=True),
    Case("revenue by week", "week", 26, trim_partial=True),
    Case("orders by week", "week", 13, trim_partial=True),
)


@dataclass(frozen=True)
class Row:
    """The result of one backtest."""

    case: Case
    points: int
    method: str
    mape: float
    baseline: float
    coverage95: float
    seconds: float


def series_of(ws: object, store: object, case: Case) -> pd.Series:
    """The metric of a one-time-column answer as floats in time order."""
    from datatruth.ask.pipeline import ask

    answer = ask(
        ws,
        case.question,
        user=ws.config.members[0].user if ws.config.members else "local",  # type: ignore[attr-defined]
        store=store,
    )
    time_col = next(c.name for c in answer.columns if c.role == "time")
    metric = next(c.name for c in answer.columns if c.role == "metric")
    values = answer.frame.sort_values(time_col)[metric].astype(float).reset_index(drop=True)
    return values.iloc[1:-1].reset_index(drop=True) if case.trim_partial else values


def backtest(values: pd.Series, case: Case) -> Row:
    """Fit on all but the last `holdout` points and score the forecast of those points."""
    train, test = values.iloc[: -case.holdout], values.iloc[-case.holdout :]
    seasonal = SEASONAL_PERIODS[case.grain]
    began = time.perf_counter()
    result = forecast(train, case.holdout, seasonal)
    seconds = time.perf_counter() - began
    inside = sum(lo <= a <= hi for a, lo, hi in zip(test, result.lower95, result.upper95, strict=True))
    baseline = (
        seasonal_naive(train, case.holdout, seasonal) if seasonal else tuple([train.iloc[-1]] * case.holdout)
    )
    return Row(
        case,
        len(values),
        result.method,
        mape(tuple(test), result.mean),
        mape(tuple(test), baseline),
        inside / len(test),
        seconds,
    )


def main(argv: list[str] | None = None) -> int:
    """Run every case and print a Markdown table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspace", default="retail")
    args = parser.parse_args(argv)
    from datatruth.settings import load_settings
    from datatruth.store import open_store
    from datatruth.store.users import seed_from_config
    from datatruth.workspace.registry import load_workspace

    settings = load_settings()
    ws = load_workspace(args.workspace, settings)
    store = open_store(settings=settings)
    seed_from_config(store, ws.name, ws.config.members)
    print(
        "| series | points | held out | chosen model (by AIC) | MAPE | seasonal-naive MAPE | 95% coverage | fit s |"
    )
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    wins = 0
    for case in CASES:
        row = backtest(series_of(ws, store, case), case)
        wins += row.mape < row.baseline
        print(
            f"| {case.question} | {row.points} | {case.holdout} | {row.method} | {row.mape:.1f}% | "
            f"{row.baseline:.1f}% | {row.coverage95:.0%} | {row.seconds:.2f} |"
        )
    print(f"\nbeats seasonal-naive on {wins} of {len(CASES)} series")
    return 0


if __name__ == "__main__":
    sys.exit(main())

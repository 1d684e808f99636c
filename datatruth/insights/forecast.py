"""Forecast the next periods of a time-series answer with 80% and 95% intervals, kept apart from the actuals.

Method: exponential smoothing in state-space form (statsmodels `ETSModel`, additive errors), the family
Holt-Winters belongs to. The candidates are level only, additive trend, damped additive trend, each with
and without additive seasonality (seasonality only with at least two full cycles); the one with the lowest
AIC wins. With two or more full cycles every candidate starts from statsmodels' heuristic initial states (a
decomposition of the first cycles) instead of estimating one initial state per season: a weekly model would
otherwise fit 52 extra parameters on three years of data, which is ten times slower and, in the retail
backtest, less accurate; all candidates of one series share the initialisation so their AICs compare.
ETS rather than ARIMA because the state-space form gives analytic prediction intervals for every
candidate, fits a 3-year monthly or weekly series in well under a second per candidate, and needs no
differencing order search that short business series cannot support.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from datatruth.errors import UserError

MIN_POINTS = 24  # without two seasonal cycles, this many points still allow a trend-only forecast
MIN_CYCLES = 2
SEASONAL_PERIODS = {"hour": 24, "day": 7, "week": 52, "month": 12, "quarter": 4, "year": None}
HORIZONS = {"hour": 24, "day": 14, "week": 8, "month": 6, "quarter": 4, "year": 2}
_STEP = {
    "hour": pd.DateOffset(hours=1),
    "day": pd.DateOffset(days=1),
    "week": pd.DateOffset(weeks=1),
    "month": pd.DateOffset(months=1),
    "quarter": pd.DateOffset(months=3),
    "year": pd.DateOffset(years=1),
}
FORECAST_NAME = "forecast"


@dataclass(frozen=True)
class Forecast:
    """Point forecasts and 80/95% intervals for the steps after the last observation (never actual numbers)."""

    method: str  # e.g. "ETS(A,Ad,A) seasonal_periods=12"
    steps: tuple[int, ...]  # 1 = the first period after the history
    mean: tuple[float, ...]
    lower80: tuple[float, ...]
    upper80: tuple[float, ...]
    lower95: tuple[float, ...]
    upper95: tuple[float, ...]
    aic: float
    n_obs: int
    seasonal_periods: int | None
    trend: str | None
    damped: bool
    seasonal: str | None

    def frame(self) -> pd.DataFrame:
        """The forecast as its own frame (step, forecast, lower/upper 80 and 95)."""
        return pd.DataFrame(
            {
                "step": self.steps,
                "forecast": self.mean,
                "lower_80": self.lower80,
                "upper_80": self.upper80,
                "lower_95": self.lower95,
                "upper_95": self.upper95,
            }
        )


@dataclass(frozen=True)
class _Candidate:
    trend: str | None
    damped: bool
    seasonal: str | None


def _candidates(n: int, seasonal_periods: int | None) -> list[_Candidate]:
    seasonal_options: list[str | None] = [None]
    if seasonal_periods and seasonal_periods > 1 and n >= MIN_CYCLES * seasonal_periods:
        seasonal_options.append("add")
    out = []
    for seasonal in seasonal_options:
        out += [
            _Candidate(None, False, seasonal),
            _Candidate("add", False, seasonal),
            _Candidate("add", True, seasonal),
        ]
    return out


def enough_history(n: int, seasonal_periods: int | None) -> bool:
    """True when a series of n points may be forecast (two seasonal cycles, or MIN_POINTS points)."""
    cycles_ok = bool(seasonal_periods and seasonal_periods > 1 and n >= MIN_CYCLES * seasonal_periods)
    return n >= MIN_POINTS or cycles_ok


def _label(c: _Candidate, seasonal_periods: int | None) -> str:
    trend = "N" if c.trend is None else ("Ad" if c.damped else "A")
    seasonal = "A" if c.seasonal else "N"
    return f"ETS(A,{trend},{seasonal})" + (f" seasonal_periods={seasonal_periods}" if c.seasonal else "")


def forecast(series: pd.Series, periods: int, seasonal_periods: int | None = None) -> Forecast:
    """Forecast `periods` steps after the series with the lowest-AIC additive ETS model and its intervals."""
    values = pd.to_numeric(pd.Series(series), errors="coerce").astype(float).to_numpy()
    if periods < 1:
        raise UserError(f"a forecast needs at least one period, got {periods}", "ask for 1 or more periods")
    if np.isnan(values).any():
        raise UserError("the series has missing values", "a forecast needs a number for every period")
    if not enough_history(len(values), seasonal_periods):
        need = MIN_POINTS if not seasonal_periods else min(MIN_POINTS, MIN_CYCLES * seasonal_periods)
        raise UserError(
            f"{len(values)} points are too few to forecast",
            f"a forecast needs at least {need} periods of history",
        )
    return _fit(tuple(float(v) for v in values), periods, seasonal_periods)


@functools.lru_cache(maxsize=64)
def _fit(values: tuple[float, ...], periods: int, seasonal_periods: int | None) -> Forecast:
    # Memoised: a page re-renders the same answer many times and a seasonal weekly fit takes about a second.
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = pd.Series(values, dtype=float)
    candidates = _candidates(len(y), seasonal_periods)
    init = "heuristic" if any(c.seasonal for c in candidates) else "estimated"
    best: tuple[float, _Candidate, Any] | None = None
    for cand in candidates:
        with warnings.catch_warnings():
            # Convergence chatter from the optimiser is expected on short series; the AIC judges the fit.
            warnings.simplefilter("ignore")
            try:
                fitted = ETSModel(
                    y,
                    error="add",
                    trend=cand.trend,
                    damped_trend=cand.damped,
                    seasonal=cand.seasonal,
                    seasonal_periods=seasonal_periods if cand.seasonal else None,
                    initialization_method=init,
                ).fit(disp=False)
            except (ValueError, np.linalg.LinAlgError):
                continue  # this candidate cannot be estimated on this series; the others can
        aic = float(fitted.aic)
        if math.isfinite(aic) and (best is None or aic < best[0]):
            best = (aic, cand, fitted)
    if best is None:
        raise UserError(
            "no forecasting model could be fitted to this series", "the series may be constant or too short"
        )
    aic, cand, fitted = best
    start, end = len(y), len(y) + periods - 1
    prediction = fitted.get_prediction(start=start, end=end)
    f80 = prediction.summary_frame(alpha=0.20)
    f95 = prediction.summary_frame(alpha=0.05)
    floor = 0.0 if (y >= 0).all() else -math.inf  # a non-negative history (revenue, counts) cannot go below 0

    def col(frame: pd.DataFrame, name: str) -> tuple[float, ...]:
        return tuple(max(float(v), floor) for v in frame[name].to_numpy())

    return Forecast(
        method=_label(cand, seasonal_periods),
        steps=tuple(range(1, periods + 1)),
        mean=col(f95, "mean"),
        lower80=col(f80, "pi_lower"),
        upper80=col(f80, "pi_upper"),
        lower95=col(f95, "pi_lower"),
        upper95=col(f95, "pi_upper"),
        aic=aic,
        n_obs=len(y),
        seasonal_periods=seasonal_periods if cand.seasonal else None,
        trend=cand.trend,
        damped=cand.damped,
        seasonal=cand.seasonal,
    )


def seasonal_naive(values: pd.Series, periods: int, seasonal_periods: int) -> tuple[float, ...]:
    """The baseline: each future period repeats the value one season earlier."""
    history = pd.to_numeric(pd.Series(values), errors="coerce").astype(float).to_numpy()
    last_cycle = history[-seasonal_periods:]
    return tuple(float(last_cycle[i % len(last_cycle)]) for i in range(periods))


def mape(actual: pd.Series | tuple[float, ...], predicted: tuple[float, ...]) -> float:
    """Mean absolute percentage error in percent (periods with an actual of 0 are left out)."""
    a = np.asarray(pd.to_numeric(pd.Series(list(actual)), errors="coerce"), dtype=float)
    p = np.asarray(predicted, dtype=float)
    mask = a != 0
    return float(np.mean(np.abs(p[mask] - a[mask]) / np.abs(a[mask])) * 100)


# -- drawing on an answer -----------------------------------------------------------------------------------


def _single_series(answer: Any) -> tuple[Any, Any] | None:
    """The one time column and one metric of an answer that is a single time series, else None."""
    times = [c for c in answer.columns if c.role == "time"]
    metrics = [c for c in answer.columns if c.role == "metric"]
    others = [c for c in answer.columns if c.role == "dimension"]
    if len(times) != 1 or len(metrics) != 1 or others or answer.chart is None:
        return None
    return times[0], metrics[0]


def add_forecast(answer: Any, periods: int | None = None) -> dict[str, Any] | None:
    """A copy of the answer's line chart with a dashed 'forecast' trace and 80/95% bands, or None.

    None when the answer is not a single time series, its grain is unknown, or its history is too short;
    the answer's own frame and chart are never changed.
    """
    from datatruth.ask.explain import format_label, grain_of

    found = _single_series(answer)
    if found is None:
        return None
    time_col, metric = found
    grain = grain_of(time_col)
    if grain not in _STEP:
        return None
    ordered = answer.frame.sort_values(time_col.name)
    values = pd.to_numeric(
        ordered[metric.name].map(lambda v: None if v is None else float(v)), errors="coerce"
    )
    seasonal_periods = SEASONAL_PERIODS[grain]
    if values.isna().any() or not enough_history(len(values), seasonal_periods):
        return None
    result = forecast(values.reset_index(drop=True), periods or HORIZONS[grain], seasonal_periods)
    last = pd.Timestamp(ordered[time_col.name].iloc[-1])
    future = [last + _STEP[grain] * step for step in result.steps]
    x = [format_label(stamp, time_col) for stamp in future]
    # The band joins the last actual point so the forecast visibly continues the line.
    anchor_x = format_label(last, time_col)
    anchor_y = float(values.iloc[-1])
    traces = [
        _band(x, result.lower95, result.upper95, "95% interval", "rgba(99,110,250,0.12)"),
        _band(x, result.lower80, result.upper80, "80% interval", "rgba(99,110,250,0.25)"),
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": FORECAST_NAME,
            "x": [anchor_x, *x],
            "y": [anchor_y, *result.mean],
            "line": {"dash": "dash"},
            "hovertemplate": "%{x}: %{y:,.2f} (forecast)<extra></extra>",
        },
    ]
    spec: dict[str, Any] = {
        "data": [*answer.chart["data"], *traces],
        "layout": dict(answer.chart.get("layout", {})),
    }
    title = spec["layout"].get("title", {}).get("text", "")
    spec["layout"]["title"] = {"text": f"{title} — forecast: {result.method}".strip(" —")}
    spec["layout"]["meta"] = {"forecast_method": result.method, "forecast_periods": len(result.steps)}
    return spec


def _band(
    x: list[str], lower: tuple[float, ...], upper: tuple[float, ...], name: str, color: str
) -> dict[str, Any]:
    # One closed polygon (upper left→right, lower right→left) so the band is a single legend entry.
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": [*x, *reversed(x)],
        "y": [*upper, *reversed(lower)],
        "fill": "toself",
        "fillcolor": color,
        "line": {"width": 0},
        "hoverinfo": "skip",
    }

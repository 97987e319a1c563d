"""Short-horizon price forecasts, trends and their rolling-origin backtest (pure: no I/O).

Model: exponential smoothing in state-space form (statsmodels `ETSModel`) on log prices, with
additive errors, a damped additive trend and, once the series holds two full days, an additive
daily seasonal component: ETS(A,Ad,A). GPU prices behave like a drifting level with a daily
rhythm; ETS tracks a moving level, the damped trend (the robust default in the forecasting
literature) keeps a short-lived move from being extrapolated forever, heuristic initial states
make a fit take milliseconds, and the prediction intervals are analytic. Logs make errors
relative and keep every price and bound positive (quantiles map through `exp` exactly), so the
point forecast is the median. As data shrink: under two days, ETS(A,Ad,N); under
`MIN_ETS_POINTS` points, for a constant series or when a fit fails, a naive random walk (last
price, interval ±z·σ·√h with σ the RMS of one-step log changes).

Gaps: missing (NaN/None) and non-positive prices are gaps. Inner gaps are interpolated linearly
in log price, leading gaps are dropped, and trailing gaps are forecast as part of the horizon, so
the forecast still starts one step after the last timestamp given.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import NormalDist
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

FloatArray = npt.NDArray[np.float64]
Values = Sequence[float | None] | FloatArray
ModelName = Literal["ets_damped_seasonal", "ets_damped", "naive"]
Direction = Literal["rising", "falling", "flat"]

SECONDS_PER_DAY = 86_400
MIN_ETS_POINTS = 16
"""Fewer points than this: the naive fallback (too few to estimate smoothing parameters)."""
MAX_SEASONAL_PERIOD = 96
"""Daily seasonality is modelled up to 96 steps a day (15-minute data); resample finer data."""
FLAT_PCT_PER_DAY = 0.2
"""A trend slower than 0.2 % of the price per day (about 6 % a month) is "flat"."""
TREND_CI_LEVEL = 0.9
MAX_TREND_POINTS = 1000
"""Theil–Sen is quadratic: longer series are thinned to every k-th price for the trend."""
DEFAULT_ORIGINS = 7


@dataclass(frozen=True)
class Trend:
    """Theil–Sen line through the observed prices of the whole series given (robust to spikes).

    `direction` is "rising" or "falling" only when the slope is both material (at least
    `FLAT_PCT_PER_DAY` % of the price per day) and significant (its 90 % confidence
    interval excludes zero); otherwise "flat". Fewer than three prices: flat, slope 0.
    Percentages are of the median price over the last day of the series.
    """

    per_day: float
    """$ per GPU-hour, per day."""
    pct_per_day: float
    """Percent of the recent price (median of the series' last day), per day."""
    direction: Direction


@dataclass(frozen=True)
class Forecast:
    times: tuple[datetime, ...]
    """One step after the last timestamp given, then every step, `horizon_steps` of them."""
    point: tuple[float, ...]
    """Median forecast, $ per GPU-hour."""
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    level: float
    """Nominal probability that a future price falls in [lower, upper]."""
    model: ModelName
    trend: Trend


@dataclass(frozen=True)
class Backtest:
    """Rolling-origin backtest: the forecast re-run as it would have run at earlier times.

    Origins are `spacing` steps apart (default: one day of steps, or the horizon when a day is
    not a whole number of steps), the latest one `horizon_steps` before the end, so the most
    recent window is scored; origins with fewer than two earlier points are skipped. Each origin
    forecasts from the data before it and is scored on the next `horizon_steps` prices; missing
    actual prices are not scored. Metrics are None when nothing could be scored.
    """

    horizon_steps: int
    level: float
    origins: tuple[datetime, ...]
    """Timestamp of the first forecast step of each origin, oldest first."""
    points: int
    """Forecast/actual pairs scored."""
    mape: float | None
    """Mean absolute percentage error, %."""
    mae: float | None
    """Mean absolute error, $ per GPU-hour."""
    coverage: float | None
    """Share of actual prices inside the prediction interval (nominal: `level`)."""


@dataclass(frozen=True)
class _Path:
    mean: FloatArray
    lower: FloatArray
    upper: FloatArray
    model: ModelName


def forecast(
    times: Sequence[datetime],
    values: Values,
    horizon_steps: int,
    step_seconds: float,
    level: float = 0.9,
) -> Forecast:
    """Forecast the next `horizon_steps` prices of a regular series, with an interval and trend."""
    _check(times, values, horizon_steps, step_seconds, level)
    prices = np.asarray(values, dtype=np.float64)
    path = _forecast_prices(prices, horizon_steps, step_seconds, level)
    step = timedelta(seconds=step_seconds)
    return Forecast(
        times=tuple(times[-1] + step * (i + 1) for i in range(horizon_steps)),
        point=_floats(path.mean),
        lower=_floats(path.lower),
        upper=_floats(path.upper),
        level=level,
        model=path.model,
        trend=trend(times, prices),
    )


def backtest(
    times: Sequence[datetime],
    values: Values,
    horizon_steps: int,
    step_seconds: float,
    origins: int = DEFAULT_ORIGINS,
    spacing: int | None = None,
    level: float = 0.9,
) -> Backtest:
    """Score the forecast at `origins` earlier points of the history (see `Backtest`)."""
    _check(times, values, horizon_steps, step_seconds, level)
    prices = np.asarray(values, dtype=np.float64)
    every = spacing or daily_period(step_seconds) or horizon_steps
    cuts = [c for c in _cuts(len(prices), horizon_steps, origins, every) if _usable(prices[:c])]
    paths = [_forecast_prices(prices[:c], horizon_steps, step_seconds, level) for c in cuts]
    actual = np.concatenate([prices[c : c + horizon_steps] for c in cuts] or [np.empty(0)])
    mape, mae, coverage = _metrics(actual, paths)
    return Backtest(
        horizon_steps=horizon_steps,
        level=level,
        origins=tuple(times[c] for c in cuts),
        points=int(np.sum(np.isfinite(actual) & (actual > 0))),
        mape=mape,
        mae=mae,
        coverage=coverage,
    )


def trend(times: Sequence[datetime], values: Values) -> Trend:
    """The `Trend` of a price series (missing and non-positive prices ignored)."""
    prices = np.asarray(values, dtype=np.float64)
    days = np.array([(t - times[0]).total_seconds() for t in times]) / SECONDS_PER_DAY
    ok = np.isfinite(prices) & (prices > 0)
    if ok.sum() < 3 or np.ptp(prices[ok]) == 0:
        return Trend(per_day=0.0, pct_per_day=0.0, direction="flat")
    x, y = days[ok], prices[ok]
    fit = stats.theilslopes(_thin(y), _thin(x), alpha=TREND_CI_LEVEL)
    slope, low, high = float(fit.slope), float(fit.low_slope), float(fit.high_slope)
    pct = 100 * slope / float(np.median(y[x >= x[-1] - 1]))
    material = abs(pct) >= FLAT_PCT_PER_DAY and (low > 0 or high < 0)
    direction: Direction = ("rising" if slope > 0 else "falling") if material else "flat"
    return Trend(per_day=slope, pct_per_day=pct, direction=direction)


def daily_period(step_seconds: float) -> int | None:
    """Steps per day when a day is a whole number of steps in 2..`MAX_SEASONAL_PERIOD`."""
    if not step_seconds > 0:
        return None
    steps = SECONDS_PER_DAY / step_seconds
    whole = round(steps)
    return whole if abs(steps - whole) < 1e-9 and 2 <= whole <= MAX_SEASONAL_PERIOD else None


def log_prices(values: Values) -> FloatArray:
    """Log prices, NaN where a price is missing or not positive."""
    prices = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(prices > 0, np.log(prices), np.nan)


def fill_gaps(logs: FloatArray) -> FloatArray:
    """Interpolate NaN gaps linearly; before the first and after the last value, hold it."""
    index = np.arange(logs.size, dtype=np.float64)
    ok = np.isfinite(logs)
    return np.interp(index, index[ok], logs[ok])


def _check(
    times: Sequence[datetime],
    values: Values,
    horizon_steps: int,
    step_seconds: float,
    level: float,
) -> None:
    if len(times) != len(values):
        raise ValueError(f"{len(times)} timestamps but {len(values)} values")
    if len(times) == 0:
        raise ValueError("empty price series")
    if horizon_steps < 1 or step_seconds <= 0:
        raise ValueError("horizon_steps and step_seconds must be positive")
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")


def _forecast_prices(
    prices: FloatArray, horizon_steps: int, step_seconds: float, level: float
) -> _Path:
    logs = log_prices(prices)
    seen = np.flatnonzero(np.isfinite(logs))
    if seen.size == 0:
        raise ValueError("no positive price to forecast from")
    trailing_gap = logs.size - 1 - int(seen[-1])
    history = fill_gaps(logs[seen[0] : seen[-1] + 1])
    path = _predict(history, trailing_gap + horizon_steps, daily_period(step_seconds), level)
    keep = slice(trailing_gap, None)
    return _Path(
        mean=np.exp(path.mean[keep]),
        lower=np.exp(path.lower[keep]),
        upper=np.exp(path.upper[keep]),
        model=path.model,
    )


def _predict(logs: FloatArray, steps: int, period: int | None, level: float) -> _Path:
    for model in _ets_candidates(logs, period):
        path = _try_ets(logs, steps, model, period, level)
        if path is not None:
            return path
    return _naive(logs, steps, level)


def _ets_candidates(logs: FloatArray, period: int | None) -> list[ModelName]:
    if logs.size < MIN_ETS_POINTS or np.ptp(logs) == 0:
        return []
    # The heuristic initial states need two full seasons and ten deseasonalised points.
    if period is not None and logs.size >= max(2 * period, 10 + 2 * (period // 2)):
        return ["ets_damped_seasonal", "ets_damped"]
    return ["ets_damped"]


def _try_ets(
    logs: FloatArray, steps: int, model: ModelName, period: int | None, level: float
) -> _Path | None:
    """Fit and forecast one ETS model; None if statsmodels fails or yields non-finite numbers."""
    seasonal = model == "ets_damped_seasonal"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            fitted = ETSModel(
                pd.Series(logs),  # with a bare ndarray, get_prediction fails in 0.15
                error="add",
                trend="add",
                damped_trend=True,
                seasonal="add" if seasonal else None,
                seasonal_periods=period if seasonal else None,
                initialization_method="heuristic",
            ).fit(disp=False)
            frame = fitted.get_prediction(start=logs.size, end=logs.size + steps - 1)
            table = frame.summary_frame(alpha=1 - level)
    except Exception:  # any failure of the fit falls back to a simpler model
        return None
    mean, lower, upper = (
        np.asarray(table[col], dtype=np.float64) for col in ("mean", "pi_lower", "pi_upper")
    )
    if mean.size != steps or not np.isfinite([mean, lower, upper]).all():
        return None
    return _Path(mean=mean, lower=lower, upper=upper, model=model)


def _naive(logs: FloatArray, steps: int, level: float) -> _Path:
    """Random walk: the last price, with an interval from the RMS of one-step log changes."""
    changes = np.diff(logs)
    sigma = float(np.sqrt(np.mean(changes**2))) if changes.size else 0.0
    half = _z(level) * sigma * np.sqrt(np.arange(1, steps + 1, dtype=np.float64))
    mean = np.full(steps, logs[-1])
    return _Path(mean=mean, lower=mean - half, upper=mean + half, model="naive")


def _cuts(n: int, horizon_steps: int, origins: int, spacing: int) -> list[int]:
    """Positions of the first forecast step of each origin, oldest first."""
    latest = n - horizon_steps
    return [c for c in (latest - k * spacing for k in reversed(range(origins))) if c >= 2]


def _usable(prices: FloatArray) -> bool:
    return bool((np.isfinite(prices) & (prices > 0)).any())


def _metrics(
    actual: FloatArray, paths: list[_Path]
) -> tuple[float | None, float | None, float | None]:
    """MAPE (%), MAE ($) and interval coverage over the actual prices that exist."""
    scored = np.isfinite(actual) & (actual > 0)
    if not scored.any():
        return None, None, None
    point, lower, upper = (
        np.concatenate([getattr(p, name) for p in paths])[scored]
        for name in ("mean", "lower", "upper")
    )
    truth = actual[scored]
    error = np.abs(point - truth)
    inside = (truth >= lower) & (truth <= upper)
    return float(np.mean(error / truth) * 100), float(np.mean(error)), float(np.mean(inside))


def _thin(values: FloatArray) -> FloatArray:
    """Every k-th value, so that at most `MAX_TREND_POINTS` remain."""
    return values[:: max(1, math.ceil(values.size / MAX_TREND_POINTS))]


def _z(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 2)


def _floats(values: FloatArray) -> tuple[float, ...]:
    return tuple(float(v) for v in values)

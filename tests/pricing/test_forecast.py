"""Forecasts, trends and backtests on generated price series whose structure is known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from gp4u.pricing import forecast as forecast_module
from gp4u.pricing.forecast import Forecast, backtest, daily_period, forecast

# Any warning escaping the module (statsmodels convergence, numpy) fails the test.
pytestmark = pytest.mark.filterwarnings("error")

START = datetime(2025, 3, 1, tzinfo=UTC)
HOUR = 3600


def hours(n: int) -> list[datetime]:
    return [START + timedelta(hours=i) for i in range(n)]


def hourly_prices(
    days: float = 30,
    *,
    level: float = 2.40,
    per_day: float = 0.004,
    season: float = 0.05,
    noise: float = 0.02,
    phi: float = 0.0,
    seed: int = 7,
) -> tuple[list[datetime], np.ndarray]:
    """level + per_day·t, times a daily sine of ±season, times (1 + AR(1) noise of sd `noise`)."""
    rng = np.random.default_rng(seed)
    n = round(days * 24)
    t = np.arange(n)
    shocks = rng.normal(0, noise * np.sqrt(1 - phi**2), n)
    shocks[0] = rng.normal(0, noise)
    error = np.zeros(n)
    for i in range(n):
        error[i] = phi * error[i - 1] + shocks[i] if i else shocks[0]
    prices = (level + per_day * t / 24) * (1 + season * np.sin(2 * np.pi * t / 24)) * (1 + error)
    return hours(n), prices


def sane_bounds(result: Forecast, cap: float = np.inf) -> bool:
    """0 < lower <= point <= upper < cap at every step."""
    lower, point, upper = (np.array(v) for v in (result.lower, result.point, result.upper))
    return bool(np.all((lower > 0) & (lower <= point) & (point <= upper) & (upper < cap)))


def step_like_prices(seed: int = 11) -> tuple[list[datetime], np.ndarray]:
    """A market median: a level that jumps by ±3 % about once a day, a daily rhythm, 1 % noise."""
    rng = np.random.default_rng(seed)
    n = 30 * 24
    t = np.arange(n)
    jumps = (rng.random(n) < 0.05) * rng.normal(0, 0.03, n)
    prices = 2.40 * np.exp(np.cumsum(jumps)) * (1 + 0.05 * np.sin(2 * np.pi * t / 24))
    return hours(n), prices * (1 + rng.normal(0, 0.01, n))


@pytest.mark.parametrize("phi", [0.0, 0.6], ids=["gaussian-noise", "ar1-noise"])
def test_24h_backtest_error_is_under_ten_percent(phi: float) -> None:
    times, prices = hourly_prices(phi=phi)

    result = backtest(times, prices, horizon_steps=24, step_seconds=HOUR)

    assert len(result.origins) == 7
    assert result.origins[-1] == times[-24]
    assert result.points == 7 * 24
    assert result.mape is not None and result.mape < 10
    assert result.mae is not None and result.mae < 0.1
    assert result.coverage is not None and result.coverage >= 0.8


def test_interval_coverage_is_near_nominal_level() -> None:
    for times, prices in (hourly_prices(), step_like_prices()):
        result = backtest(times, prices, 24, HOUR, origins=20, level=0.9)

        assert result.points == 20 * 24
        assert result.coverage is not None and abs(result.coverage - 0.9) <= 0.08
        assert result.mape is not None and result.mape < 10


def test_forecast_starts_after_the_last_timestamp_with_positive_ordered_bounds() -> None:
    times, prices = hourly_prices()

    result = forecast(times, prices, horizon_steps=24, step_seconds=HOUR, level=0.8)

    assert result.model == "ets_damped_seasonal"
    assert result.level == 0.8
    assert result.times == tuple(times[-1] + timedelta(hours=i) for i in range(1, 25))
    assert sane_bounds(result)
    # the daily rhythm is carried into the forecast: the peak hour is forecast above the trough
    peak, trough = np.argmax(np.sin(2 * np.pi * np.arange(720, 744) / 24)), 18
    assert result.point[peak] > result.point[trough] * 1.05


@pytest.mark.parametrize(("per_day", "direction"), [(0.03, "rising"), (-0.03, "falling")])
def test_forecast_continues_a_linear_trend(per_day: float, direction: str) -> None:
    times, prices = hourly_prices(per_day=per_day)

    result = forecast(times, prices, 24, HOUR)

    assert result.trend.direction == direction
    assert result.trend.per_day == pytest.approx(per_day, rel=0.1)
    last_day = float(np.mean(prices[-24:]))
    assert result.trend.pct_per_day == pytest.approx(100 * per_day / last_day, rel=0.1)
    assert np.sign(np.mean(result.point) - last_day) == np.sign(per_day)


def test_flat_series_is_flat() -> None:
    times = hours(200)
    constant = forecast(times, [2.40] * 200, 24, HOUR)
    noisy = forecast(*hourly_prices(per_day=0.0), 24, HOUR)

    assert constant.trend.direction == "flat"
    assert constant.trend.per_day == 0
    assert constant.model == "naive"
    assert set(constant.point) == set(constant.lower) == set(constant.upper) == {2.40}
    assert noisy.trend.direction == "flat"
    assert abs(noisy.trend.pct_per_day) < 0.2


def test_short_series_uses_the_naive_fallback_with_a_sane_interval() -> None:
    times, prices = hourly_prices(days=10 / 24, season=0.0)

    result = forecast(times, prices, 24, HOUR)

    assert result.model == "naive"
    assert set(result.point) == {prices[-1]}
    widths = np.subtract(result.upper, result.lower)
    assert np.all(np.diff(widths) > 0)  # uncertainty grows with the horizon
    assert min(result.lower) > 0 and max(result.upper) < 2 * 2.40
    assert result.trend.direction == "flat"


def test_two_day_series_uses_the_seasonal_model_and_one_day_the_trend_model() -> None:
    two_days = forecast(*hourly_prices(days=2), 24, HOUR)
    one_day = forecast(*hourly_prices(days=1), 24, HOUR)

    assert two_days.model == "ets_damped_seasonal"
    assert one_day.model == "ets_damped"
    assert min(one_day.lower) > 0 and max(one_day.upper) < 10


def test_gaps_are_interpolated_and_trailing_gaps_forecast() -> None:
    times, prices = hourly_prices()
    rng = np.random.default_rng(3)
    gappy: list[float | None] = [float(p) for p in prices]
    for i in rng.choice(len(gappy), size=70, replace=False):
        gappy[i] = float("nan")
    gappy[300:312] = [None] * 12
    gappy[-3:] = [None, float("nan"), 0.0]  # trailing gaps; a zero price is a gap too

    result = forecast(times, gappy, 24, HOUR)
    scored = backtest(times, gappy, 24, HOUR)

    assert result.model == "ets_damped_seasonal"
    assert result.times[0] == times[-1] + timedelta(hours=1)
    assert len(result.point) == 24
    assert sane_bounds(result)
    assert scored.points < 7 * 24  # missing actual prices are not scored
    assert scored.mape is not None and scored.mape < 10


def test_short_series_with_gaps_uses_the_fallback() -> None:
    times, prices = hourly_prices(days=10 / 24, season=0.0)
    values: list[float | None] = [float(p) for p in prices]
    values[2] = values[5] = None
    values[9] = float("nan")

    result = forecast(times, values, 12, HOUR)

    assert result.model == "naive"
    assert set(result.point) == {prices[8]}
    assert result.times[0] == times[-1] + timedelta(hours=1)
    assert sane_bounds(result, cap=5.0)
    assert min(np.subtract(result.upper, result.lower)) > 0


def test_a_single_price_forecasts_itself() -> None:
    result = forecast(hours(1), [3.10], 5, HOUR)

    assert result.model == "naive"
    assert result.point == result.lower == result.upper == (3.10,) * 5
    assert result.trend.direction == "flat"


def test_bounds_stay_positive_when_prices_collapse() -> None:
    times = hours(120)
    collapsing = 3.0 * np.exp(-np.arange(120) / 25)  # $3.00 down to $0.03

    result = forecast(times, collapsing, 168, HOUR, level=0.99)

    assert result.trend.direction == "falling"
    assert min(result.lower) > 0
    assert min(result.point) > 0


def test_a_failed_fit_falls_back_to_the_naive_forecast(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise np.linalg.LinAlgError("singular matrix")

    monkeypatch.setattr(forecast_module, "ETSModel", broken)
    times, prices = hourly_prices(per_day=0.03)

    result = forecast(times, prices, 24, HOUR)

    assert result.model == "naive"
    assert result.point[0] == pytest.approx(prices[-1])
    assert result.trend.direction == "rising"  # the trend does not depend on the model


def test_backtest_without_enough_history_scores_nothing() -> None:
    times, prices = hourly_prices(days=1)

    result = backtest(times, prices, 24, HOUR)

    assert result.origins == ()
    assert result.points == 0
    assert result.mape is None and result.mae is None and result.coverage is None


def test_backtest_origins_are_spaced_as_asked() -> None:
    times, prices = hourly_prices(days=3)

    result = backtest(times, prices, 6, HOUR, origins=4, spacing=12)

    assert result.origins == tuple(times[i] for i in (30, 42, 54, 66))
    assert result.points == 24


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"values": [2.0, 2.1]}, "3 timestamps but 2 values"),
        ({"horizon_steps": 0}, "must be positive"),
        ({"step_seconds": 0}, "must be positive"),
        ({"level": 1.0}, "level"),
        ({"values": [None, float("nan"), -1.0]}, "no positive price"),
    ],
)
def test_invalid_input_is_refused(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "times": hours(3),
        "values": [2.0, 2.1, 2.2],
        "horizon_steps": 4,
        "step_seconds": HOUR,
    }
    with pytest.raises(ValueError, match=message):
        forecast(**(args | kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("step", "period"), [(3600, 24), (900, 96), (1800, 48), (86400, None), (420, None), (300, None)]
)
def test_daily_period(step: int, period: int | None) -> None:
    assert daily_period(step) == period

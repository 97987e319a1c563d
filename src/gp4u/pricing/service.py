"""Pricing services over the current market (the process's search index, or one built from the
database when there is none): arbitrage opportunities, the savings calculator, side-by-side
comparison with value metrics and G-Score, and recommendations."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.kit.errors import InvalidQuery, NotFound
from gp4u.kit.money import micros_to_usd, usd_to_micros
from gp4u.offers.index import MarketIndex
from gp4u.offers.query import build_query
from gp4u.offers.service import (
    MarketSearch,
    get_offer,
    offers_by_ids,
    price_points,
    snapshot_index,
)
from gp4u.pricing import anomalies, arbitrage, forecast, history, ranking
from gp4u.pricing.arbitrage import ArbitrageQuery, SavingsQuery, Sort
from gp4u.pricing.ranking import parse_weights
from gp4u.pricing.value import (
    GScoreWeights,
    MarketReference,
    OfferArrays,
    coded_spec_columns,
    g_score,
    market_reference,
    value_metrics,
)
from gp4u.settings import Settings

# Keys whose integer values are micro-USD amounts, shown in dollars.
_MONEY_KEYS = frozenset(
    {
        "price_per_hour",
        "price_per_gpu_hour",
        "min_price_per_gpu_hour",
        "median_price_per_gpu_hour",
        "max_price_per_gpu_hour",
        "spread_per_gpu_hour",
        "saved_per_hour",
        "per_hour",
        "period",
        "per_month",
    }
)


def dollars(value: Any) -> Any:
    """A result with every micro-USD amount (by key) converted to dollars."""
    if isinstance(value, dict):
        return {
            k: micros_to_usd(v) if k in _MONEY_KEYS and isinstance(v, int) else dollars(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [dollars(v) for v in value]
    return value


def terms(q: str | None, **fields: Any) -> str:
    """A query-language string: `q` plus one `field=value` term per given field."""
    parts = [q] if q else []
    for name, value in fields.items():
        if value is None:
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        parts.append(f'{name}="{text}"' if " " in text else f"{name}={text}")
    return " ".join(parts)


async def opportunities(
    session: AsyncSession,
    market: MarketSearch | None,
    *,
    q: str | None = None,
    gpu: str | None = None,
    gpu_count: int | None = None,
    region: str | None = None,
    spot: bool | None = None,
    provider: str | None = None,
    min_spread_pct: float = 0.0,
    sort: Sort = "spread_pct",
    limit: int = 50,
) -> dict[str, Any]:
    if not 0 <= min_spread_pct <= 100:
        raise InvalidQuery("min_spread_pct must be between 0 and 100", field="min_spread_pct")
    if not 1 <= limit <= 1000:
        raise InvalidQuery("limit must be between 1 and 1000", field="limit")
    offers = build_query(terms(q, gpu=gpu, gpu_count=gpu_count, region=region, spot=spot))
    index = await snapshot_index(session, market)
    request = ArbitrageQuery(offers, min_spread_pct, provider, sort, limit)
    items, total = arbitrage.opportunities(index, request)
    return {"items": dollars(items), "groups": total}


async def savings(
    session: AsyncSession,
    market: MarketSearch | None,
    *,
    gpu: str,
    gpu_count: int,
    hours_per_day: float,
    days: float,
    spot: bool = False,
    provider: str | None = None,
    q: str | None = None,
) -> dict[str, Any]:
    if not 0 < hours_per_day <= 24:
        raise InvalidQuery(
            "hours_per_day must be more than 0 and at most 24", field="hours_per_day"
        )
    if not 0 < days <= 3660:
        raise InvalidQuery("days must be more than 0 and at most 3660", field="days")
    offers = build_query(terms(q, gpu=gpu, gpu_count=gpu_count, spot=spot))
    index = await snapshot_index(session, market)
    result = arbitrage.savings(index, SavingsQuery(offers, hours_per_day, days, provider))
    if result is None:
        raise NotFound(f"no available offer matches gpu={gpu} gpu_count={gpu_count} spot={spot}")
    presented: dict[str, Any] = dollars(
        {"gpu": gpu, "gpu_count": gpu_count, "spot": spot, **result}
    )
    return presented


def market_arrays(index: MarketIndex, slots: npt.NDArray[np.intp]) -> OfferArrays:
    bandwidth, tflops, precision = coded_spec_columns(
        index.texts["gpu"][slots],
        index.strings["gpu"].values,
        index.texts["gpu_variant"][slots],
        index.strings["gpu_variant"].values,
        index.numbers["gpu_memory_gb"][slots],
    )
    return OfferArrays(
        price_per_gpu_hour=index.numbers["price_per_gpu_hour"][slots],
        gpu_count=index.numbers["gpu_count"][slots],
        gpu_memory_gb=index.numbers["gpu_memory_gb"][slots],
        bandwidth_gbps=bandwidth,
        dense_tflops=tflops,
        precision=precision,
        reliability=index.numbers["reliability"][slots],
    )


def market_reference_of(index: MarketIndex) -> MarketReference:
    """The G-Score's reference points over every available offer of the market."""
    return market_reference(market_arrays(index, np.flatnonzero(index.bools["available"])))


def gscore_weights(settings: Settings) -> GScoreWeights:
    return GScoreWeights(
        settings.gscore_performance_weight,
        settings.gscore_reliability_weight,
        settings.gscore_efficiency_weight,
    )


async def compare(
    session: AsyncSession, market: MarketSearch | None, settings: Settings, ids: list[int]
) -> dict[str, Any]:
    """2-4 offers side by side: specs, price, value metrics, G-Score, reliability."""
    if not 2 <= len(ids) <= 4 or len(set(ids)) != len(ids):
        raise InvalidQuery("compare 2 to 4 different offer ids", field="ids")
    offers = await offers_by_ids(session, ids)
    missing = sorted(set(ids) - {o["id"] for o in offers})
    if missing:
        raise NotFound(f"no offer {', '.join(map(str, missing))}")
    reference = market_reference_of(await snapshot_index(session, market))
    weights = gscore_weights(settings)
    scores = [round(g_score(_micros(o), reference, weights), 1) for o in offers]
    items = [
        {"offer": o, "value": value_metrics(_micros(o)), "g_score": score}
        for o, score in zip(offers, scores, strict=True)
    ]
    cheapest = min(offers, key=lambda o: float(o["price_per_gpu_hour"]))
    best = offers[scores.index(max(scores))]
    return {
        "items": items,
        "cheapest_offer_id": cheapest["id"],
        "best_value_offer_id": best["id"],
    }


async def offer_detail(
    session: AsyncSession, market: MarketSearch | None, settings: Settings, offer_id: int
) -> dict[str, Any]:
    """One offer with its price history, value metrics and G-Score (scored against the whole
    market exactly as `compare` scores it)."""
    detail = await get_offer(session, offer_id)
    detail["value"] = value_metrics(_micros(detail))
    detail["g_score"] = None
    # Never build an index for one offer: while the process's index is being built there is no
    # score; while it catches up with an import, the previous market scores it.
    index = None if market is None else (await market.current(session) or market.index)
    if index is not None:
        reference = _cached_reference(index)
        detail["g_score"] = round(g_score(_micros(detail), reference, gscore_weights(settings)), 1)
    return detail


_last_reference: tuple[int, int, MarketReference] | None = None


def _cached_reference(index: MarketIndex) -> MarketReference:
    """`market_reference_of(index)`, computed once per index and version (every detail view of
    an unchanged market shares it)."""
    global _last_reference
    key = (id(index), index.version)
    if _last_reference is None or _last_reference[:2] != key:
        _last_reference = (*key, market_reference_of(index))
    return _last_reference[2]


def _micros(offer: dict[str, Any]) -> dict[str, Any]:
    """An API offer (dollars) with the micro-USD prices the value maths expects."""
    return {**offer, "price_per_gpu_hour": usd_to_micros(offer["price_per_gpu_hour"])}


async def recommendations(
    session: AsyncSession,
    market: MarketSearch | None,
    *,
    q: str | None = None,
    weights: str | None = None,
    regions: str | None = None,
    limit: int = 20,
) -> dict[str, Any]:
    """The best offers for a job: the query's conditions are hard constraints, the weights say
    what matters; each result explains its rank."""
    if not 1 <= limit <= 200:
        raise InvalidQuery("limit must be between 1 and 200", field="limit")
    try:
        chosen = parse_weights(weights)
    except ValueError as exc:
        raise InvalidQuery(str(exc), field="weights") from exc
    wanted = [r.strip() for r in (regions or "").split(",") if r.strip()]
    index = await snapshot_index(session, market)
    ranked, considered = ranking.recommend(index, build_query(q), chosen, wanted, limit)
    offers = {
        o["id"]: o for o in await offers_by_ids(session, [int(index.ids[r.slot]) for r in ranked])
    }
    items = []
    for r in ranked:
        offer = offers.get(int(index.ids[r.slot]))
        if offer is None:  # changed since the index saw it; the next request catches up
            continue
        items.append(
            {
                "rank": r.rank,
                "score": r.closeness,
                "offer": offer,
                "criteria": r.criteria,
                "helped_by": r.helped,
                "held_back_by": r.hurt,
            }
        )
    return {"items": items, "considered": considered, "weights": chosen, "regions": wanted}


RESOLUTIONS = {"15m": 900, "1h": 3600, "6h": 21600, "1d": 86400}
HORIZONS = {"24h": 24 * 3600, "7d": 7 * 24 * 3600}


async def _series(
    session: AsyncSession,
    market: MarketSearch | None,
    now: datetime,
    *,
    gpu: str,
    provider: str | None,
    spot: bool,
    gpu_count: int | None,
    step_seconds: int,
    days: float,
) -> list[history.Point]:
    if not 0 < days <= 366:
        raise InvalidQuery("days must be more than 0 and at most 366", field="days")
    q = terms(None, gpu=gpu, provider=provider, spot=spot, gpu_count=gpu_count)
    offers = build_query(q + " available in [true,false]")
    index = await snapshot_index(session, market)
    ids = index.ids[index.matching(offers)].tolist()
    step = timedelta(seconds=step_seconds)
    end = datetime.fromtimestamp(now.timestamp() // step_seconds * step_seconds, UTC)
    times = history.steps(end - timedelta(days=days), end, step)
    return history.series(await price_points(session, ids, end), times)


async def price_history(
    session: AsyncSession,
    market: MarketSearch | None,
    now: datetime,
    *,
    gpu: str,
    provider: str | None = None,
    spot: bool = False,
    gpu_count: int | None = None,
    resolution: str = "1h",
    days: float = 7,
) -> dict[str, Any]:
    """Min, median and offer count of $/GPU-hour at each step over the last `days`."""
    if resolution not in RESOLUTIONS:
        raise InvalidQuery(
            f"resolution must be one of {', '.join(RESOLUTIONS)}", field="resolution"
        )
    points = await _series(
        session,
        market,
        now,
        gpu=gpu,
        provider=provider,
        spot=spot,
        gpu_count=gpu_count,
        step_seconds=RESOLUTIONS[resolution],
        days=days,
    )
    return {
        "gpu": gpu,
        "provider": provider,
        "spot": spot,
        "resolution": resolution,
        "items": [
            {
                "at": p.at.isoformat(),
                "min_price_per_gpu_hour": None if p.min is None else micros_to_usd(p.min),
                "median_price_per_gpu_hour": None if p.median is None else micros_to_usd(p.median),
                "offers": p.offers,
            }
            for p in points
        ],
    }


async def price_forecast(
    session: AsyncSession,
    market: MarketSearch | None,
    now: datetime,
    *,
    gpu: str,
    provider: str | None = None,
    spot: bool = False,
    gpu_count: int | None = None,
    horizon: str = "24h",
    days: float = 30,
) -> dict[str, Any]:
    """Trend and forecast of the hourly median $/GPU-hour, with a 90 % prediction interval and
    the forecaster's backtest error on this very series."""
    if horizon not in HORIZONS:
        raise InvalidQuery(f"horizon must be one of {', '.join(HORIZONS)}", field="horizon")
    points = await _series(
        session,
        market,
        now,
        gpu=gpu,
        provider=provider,
        spot=spot,
        gpu_count=gpu_count,
        step_seconds=3600,
        days=days,
    )
    observed = [p for p in points if p.median is not None]
    if len(observed) < 2:
        raise NotFound(f"not enough price history for gpu={gpu} to forecast")
    times = [p.at for p in points]
    values = [math.nan if p.median is None else p.median / 1e6 for p in points]
    steps_ahead = HORIZONS[horizon] // 3600
    ahead = forecast.forecast(times, values, steps_ahead, 3600)
    check = forecast.backtest(times, values, steps_ahead, 3600)
    return {
        "gpu": gpu,
        "horizon": horizon,
        "model": ahead.model,
        "trend": {
            "direction": ahead.trend.direction,
            "per_day": round(ahead.trend.per_day, 6),
            "pct_per_day": round(ahead.trend.pct_per_day, 4),
        },
        "level": ahead.level,
        "items": [
            {
                "at": t.isoformat(),
                "median": round(m, 6),
                "lower": round(lo, 6),
                "upper": round(hi, 6),
            }
            for t, m, lo, hi in zip(ahead.times, ahead.point, ahead.lower, ahead.upper, strict=True)
        ],
        "backtest": {
            "mape_pct": None if check.mape is None else round(check.mape, 3),
            "mae": None if check.mae is None else round(check.mae, 6),
            "coverage": None if check.coverage is None else round(check.coverage, 3),
            "points": check.points,
        },
    }


async def price_anomalies(
    session: AsyncSession,
    market: MarketSearch | None,
    now: datetime,
    *,
    gpu: str,
    provider: str | None = None,
    spot: bool = False,
    gpu_count: int | None = None,
    days: float = 30,
) -> dict[str, Any]:
    """Spikes and drops of the hourly median beyond what the series' own variability explains."""
    points = await _series(
        session,
        market,
        now,
        gpu=gpu,
        provider=provider,
        spot=spot,
        gpu_count=gpu_count,
        step_seconds=3600,
        days=days,
    )
    values = [math.nan if p.median is None else p.median / 1e6 for p in points]
    found = anomalies.find_anomalies([p.at for p in points], values, step_seconds=3600)
    return {
        "gpu": gpu,
        "items": [
            {
                "at": a.time.isoformat(),
                "direction": a.direction,
                "price": round(a.value, 6),
                "expected": round(a.expected, 6),
                "size": round(a.size, 6),
                "size_pct": round(a.size_pct, 2),
                "score": round(a.score, 2),
            }
            for a in found
        ],
    }

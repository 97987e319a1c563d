"""Pricing API: arbitrage opportunities, the savings calculator, offer comparison,
recommendations, and price history, forecasts and anomalies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from gp4u.kit.errors import InvalidQuery
from gp4u.offers.schemas import OfferDetail
from gp4u.pricing import service
from gp4u.pricing.schemas import (
    AnomaliesOut,
    CompareOut,
    ForecastOut,
    HistoryOut,
    OpportunitiesOut,
    RecommendationsOut,
    SavingsOut,
)
from gp4u.web.deps import ClockDep, MarketDep, SessionDep, SettingsDep
from gp4u.web.downloads import CSV_RESPONSES, csv_response
from gp4u.web.errors import ERROR_RESPONSES
from gp4u.web.responses import FastJSON

router = APIRouter(prefix="/api/v1", tags=["pricing"])

Q_HELP = (
    "Offers taking part, in the query language of `/api/v1/offers` (available only unless asked)."
)


@router.get(
    "/arbitrage/opportunities",
    response_model=OpportunitiesOut,
    responses=ERROR_RESPONSES,
    summary="Where the same GPU configuration costs most and least across providers",
    description="Groups of comparable offers (same GPU model and memory, same variant, same GPU "
    "count; on-demand and spot apart) with offers from at least two providers: cheapest, median "
    "and most expensive $/GPU-hour, the spread in $ and as a share of the most expensive price, "
    "and the instance-hour saving. Prices in USD.",
)
async def opportunities(
    session: SessionDep,
    market: MarketDep,
    q: str | None = Query(None, description=Q_HELP),
    gpu: str | None = Query(None, description="GPU, any spelling (`A100-80GB`, `H100 SXM`)."),
    gpu_count: int | None = Query(None, ge=1, description="GPUs per instance."),
    region: str | None = Query(None, description="Only offers in this region."),
    spot: bool | None = Query(None, description="true: spot only; false: on-demand only."),
    provider: str | None = Query(None, description="Only groups where this provider has an offer."),
    min_spread_pct: float = Query(0.0, description="Only spreads of at least this % (0-100)."),
    sort: Literal["spread_pct", "spread", "saved_per_hour"] = Query(
        "spread_pct", description="spread_pct, spread ($/GPU-hour) or saved_per_hour (instance)."
    ),
    limit: int = Query(50, description="Groups to return, 1-1000."),
) -> FastJSON:
    return FastJSON(
        await service.opportunities(
            session,
            market,
            q=q,
            gpu=gpu,
            gpu_count=gpu_count,
            region=region,
            spot=spot,
            provider=provider,
            min_spread_pct=min_spread_pct,
            sort=sort,
            limit=limit,
        )
    )


@router.get(
    "/arbitrage/savings",
    response_model=SavingsOut,
    responses=ERROR_RESPONSES,
    summary="What a GPU configuration costs at the cheapest offer vs the median and a provider",
)
async def savings(
    session: SessionDep,
    market: MarketDep,
    gpu: str = Query(description="GPU, any spelling."),
    gpu_count: int = Query(1, ge=1),
    hours_per_day: float = Query(24.0, description="Hours of use per day (0-24]."),
    days: float = Query(30.0, description="Days of use."),
    spot: bool = Query(False),
    provider: str | None = Query(None, description="Also compare against this provider."),
    q: str | None = Query(None, description="More filters in the query language."),
) -> FastJSON:
    return FastJSON(
        await service.savings(
            session,
            market,
            gpu=gpu,
            gpu_count=gpu_count,
            hours_per_day=hours_per_day,
            days=days,
            spot=spot,
            provider=provider,
            q=q,
        )
    )


@router.get(
    "/offers/compare",
    response_model=CompareOut,
    responses=ERROR_RESPONSES,
    summary="2-4 offers side by side: specs, price, value metrics, G-Score",
    description="Value metrics per GPU-hour ($/GPU-hour, $/dense-BF16-PFLOP-hour, $/GB-VRAM-hour, "
    "estimated $/million tokens for 8B-parameter inference and full fine-tuning; formulas in "
    "docs/decisions.md) and the G-Score (0-100: performance and efficiency per dollar against the "
    "current market, and reliability; weights are settings).",
)
async def compare(
    session: SessionDep,
    market: MarketDep,
    settings: SettingsDep,
    ids: str = Query(description="Comma-separated offer ids, 2 to 4."),
) -> FastJSON:
    try:
        wanted = [int(i) for i in ids.split(",") if i.strip()]
    except ValueError:
        raise InvalidQuery("ids must be comma-separated integers", field="ids") from None
    return FastJSON(await service.compare(session, market, settings, wanted))


# `:int` keeps `/offers/summary`, `/offers/stream` (the offers router, included after this one)
# from matching here.
@router.get(
    "/offers/{offer_id:int}",
    response_model=OfferDetail,
    responses=ERROR_RESPONSES,
    tags=["market"],
    summary="One offer with its price history, value metrics and G-Score",
    description="Any availability. `history` holds its recent price and availability changes, "
    "oldest first; `value` and `g_score` are computed as in `/api/v1/offers/compare`.",
)
async def get_offer(
    session: SessionDep, market: MarketDep, settings: SettingsDep, offer_id: int
) -> FastJSON:
    return FastJSON(await service.offer_detail(session, market, settings, offer_id))


@router.get(
    "/recommendations",
    response_model=RecommendationsOut,
    responses=ERROR_RESPONSES,
    summary="The best offers for a job, ranked by TOPSIS with your weights, each explained",
    description="`q` (the query language) sets hard constraints; `weights` says how much each "
    "criterion matters: price (cost), performance (instance dense BF16 TFLOPS), vram (instance "
    "GB), reliability, availability, region (1 in one of `regions`). Each result names the "
    "criteria that helped and held it back most.",
)
async def recommendations(
    session: SessionDep,
    market: MarketDep,
    q: str | None = Query(None, description="Hard constraints in the query language."),
    weights: str | None = Query(
        None,
        description="e.g. `price:0.5,performance:0.3,reliability:0.2` (default: price 0.35, "
        "performance 0.25, vram 0.15, reliability 0.15, availability 0.05, region 0.05).",
    ),
    regions: str | None = Query(
        None, description="Preferred regions or countries, comma-separated."
    ),
    limit: int = Query(20, description="Results, 1-200."),
) -> FastJSON:
    return FastJSON(
        await service.recommendations(
            session, market, q=q, weights=weights, regions=regions, limit=limit
        )
    )


def _series_params(
    gpu: str = Query(description="GPU, any spelling (`A100-80GB` picks the 80 GB model)."),
    provider: str | None = Query(None, description="Only this provider's offers."),
    spot: bool = Query(False, description="Spot prices instead of on-demand."),
    gpu_count: int | None = Query(None, ge=1, description="Only instances with this many GPUs."),
) -> dict[str, Any]:
    return {"gpu": gpu, "provider": provider, "spot": spot, "gpu_count": gpu_count}


SeriesParams = Annotated[dict[str, Any], Depends(_series_params)]


@router.get(
    "/prices/history",
    response_model=HistoryOut,
    responses={**ERROR_RESPONSES, **CSV_RESPONSES},
    summary="Min and median $/GPU-hour and offer count over time, as JSON or CSV",
)
async def price_history(
    session: SessionDep,
    market: MarketDep,
    clock: ClockDep,
    series: SeriesParams,
    resolution: Literal["15m", "1h", "6h", "1d"] = Query("1h"),
    days: float = Query(7.0, description="How far back, up to 366 days."),
    format: Literal["json", "csv"] = Query("json"),
) -> Response:
    body = await service.price_history(
        session, market, clock.now(), resolution=resolution, days=days, **series
    )
    if format == "json":
        return FastJSON(body)
    return csv_response(
        f"gp4u-{series['gpu']}-{resolution}.csv",
        ("at", "min_price_per_gpu_hour", "median_price_per_gpu_hour", "offers"),
        (
            (p["at"], p["min_price_per_gpu_hour"], p["median_price_per_gpu_hour"], p["offers"])
            for p in body["items"]
        ),
    )


@router.get(
    "/prices/forecast",
    response_model=ForecastOut,
    responses=ERROR_RESPONSES,
    summary="Trend and 24 h / 7 d forecast of the median $/GPU-hour, with its backtest error",
    description="Exponential smoothing (statsmodels ETS: damped trend, daily season) on the hourly "
    "median of the last `days`; 90 % prediction interval; `backtest` is the same forecaster's "
    "error on this series (rolling origins over the last week).",
)
async def price_forecast(
    session: SessionDep,
    market: MarketDep,
    clock: ClockDep,
    series: SeriesParams,
    horizon: Literal["24h", "7d"] = Query("24h"),
    days: float = Query(30.0, description="History to learn from."),
) -> FastJSON:
    return FastJSON(
        await service.price_forecast(
            session, market, clock.now(), horizon=horizon, days=days, **series
        )
    )


@router.get(
    "/prices/anomalies",
    response_model=AnomaliesOut,
    responses=ERROR_RESPONSES,
    summary="Spikes and drops of the hourly median beyond the series' own variability",
)
async def price_anomalies(
    session: SessionDep,
    market: MarketDep,
    clock: ClockDep,
    series: SeriesParams,
    days: float = Query(30.0),
) -> FastJSON:
    return FastJSON(
        await service.price_anomalies(session, market, clock.now(), days=days, **series)
    )

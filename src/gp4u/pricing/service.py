"""Pricing services: arbitrage opportunities and the savings calculator over the current market
(the process's search index, or one built from the database when there is none)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.kit.errors import InvalidQuery, NotFound
from gp4u.kit.money import micros_to_usd
from gp4u.offers.query import build_query
from gp4u.offers.service import MarketSearch, snapshot_index
from gp4u.pricing import arbitrage
from gp4u.pricing.arbitrage import ArbitrageQuery, SavingsQuery, Sort

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

"""The simulated market: realistic, deterministic in time, moving, and marked as simulated."""

from __future__ import annotations

import statistics
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.clock import FrozenClock
from gp4u.offers import jobs, service
from gp4u.offers.models import OfferPrice
from gp4u.offers.query import build_query
from gp4u.providers.simulated.market import reference_providers, simulated_offers
from tests.conftest import CATALOGS, T0


def test_reference_prices_cover_the_main_providers() -> None:
    ids = {p.id for p in reference_providers()}
    assert {"vastai", "runpod", "lambda", "tensordock", "aws", "azure", "gcp", "akash"} <= ids


def test_same_time_same_market() -> None:
    first = simulated_offers(T0)
    assert first == simulated_offers(T0)
    assert len(first) > 1000
    assert all(o.price_per_hour > 0 and o.gpu_count > 0 for o in first)


def test_prices_stay_near_their_reference_and_move() -> None:
    def h100(at: object) -> list[float]:
        return [
            o.price_per_hour / o.gpu_count / 1e6
            for o in simulated_offers(at)  # type: ignore[arg-type]
            if o.gpu_name.startswith("H100") and not o.spot and o.provider == "vastai"
        ]

    now, later = h100(T0), h100(T0 + timedelta(hours=6))
    assert now != later  # the marketplace moved
    assert 1.0 < statistics.median(now) < 4.0  # Vast's H100 list price is about $1.9-2.1


def test_clouds_reprice_weekly_not_hourly() -> None:
    def aws(at: object) -> list[int]:
        return [o.price_per_hour for o in simulated_offers(at, {"aws"})]  # type: ignore[arg-type]

    assert aws(T0) == aws(T0 + timedelta(hours=3))


async def test_ticks_write_history_and_real_data_retires_it(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    assert await jobs.ensure_market(sessions, clock) == "active"
    assert await jobs.ensure_market(sessions, clock) is None  # already loaded
    async with sessions() as session:
        first_points = (await session.execute(select(func.count(OfferPrice.id)))).scalar_one()
    clock.advance(timedelta(hours=2))
    assert await jobs.tick_simulated_market(sessions, clock) == "active"
    async with sessions() as session:
        points = (await session.execute(select(func.count(OfferPrice.id)))).scalar_one()
        page = await service.search_offers(session, build_query("provider=vastai", limit=5))
    assert points > first_points  # marketplace prices moved and were recorded
    assert {i["source"] for i in page.items} == {"simulated"}

    await jobs.import_catalog_files(sessions, [CATALOGS / "lambda"], clock)
    async with sessions() as session:
        page = await service.search_offers(session, build_query(limit=1000))
        retired = await service.search_offers(
            session, build_query("source=simulated available=false")
        )
    assert {i["source"] for i in page.items} == {"catalog"}
    assert retired.items
    assert await jobs.tick_simulated_market(sessions, clock) == "retired"

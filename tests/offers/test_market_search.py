"""The server's search index stays exactly current: small changes at once, large ones off the
event loop with SQL answering meanwhile, and never a stale answer."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.clock import FrozenClock
from gp4u.offers import service
from gp4u.offers.query import build_query
from tests import factories

Sessions = async_sessionmaker[AsyncSession]


async def _import(sessions: Sessions, clock: FrozenClock, count: int, price: int) -> None:
    offers = [
        factories.offer(instance_type=f"t{i}", price_per_hour=price + i) for i in range(count)
    ]
    await factories.import_offers(sessions, clock.now(), *offers)


async def _search(sessions: Sessions, market: service.MarketSearch) -> list[float]:
    async with sessions() as session:
        page = await service.search_offers(session, build_query(limit=1000), market)
    return [i["price_per_hour"] for i in page.items]


async def test_small_changes_apply_at_once(sessions: Sessions, clock: FrozenClock) -> None:
    market = service.MarketSearch()
    await _import(sessions, clock, 3, 1_000_000)
    assert await market.build(sessions)
    assert await _search(sessions, market) == [1.0, 1.000001, 1.000002]
    clock.advance(timedelta(minutes=1))
    await _import(sessions, clock, 3, 2_000_000)
    assert await _search(sessions, market) == [2.0, 2.000001, 2.000002]  # no stale answer
    assert market.index is not None and market.index.size == 3


async def test_large_changes_catch_up_off_the_loop_and_sql_answers_meanwhile(
    sessions: Sessions, clock: FrozenClock
) -> None:
    market = service.MarketSearch()
    market.INLINE_ROWS = 2
    await _import(sessions, clock, 3, 1_000_000)
    assert await market.build(sessions)
    old_index = market.index
    clock.advance(timedelta(minutes=1))
    await _import(sessions, clock, 5, 3_000_000)
    # The delta is over the inline limit: this search is answered by SQL while a copy catches up.
    assert await _search(sessions, market) == [3.0, 3.000001, 3.000002, 3.000003, 3.000004]
    for _ in range(100):
        await asyncio.sleep(0.01)
        if market.index is not old_index:
            break
    assert market.index is not old_index and market.index is not None
    assert market.index.size == 5
    assert old_index is not None and old_index.size == 3  # the live index was never mutated
    assert await _search(sessions, market) == [3.0, 3.000001, 3.000002, 3.000003, 3.000004]

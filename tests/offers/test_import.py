"""Importing offers on both databases: real catalogs, idempotency, history, vanished offers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.db.engine import unit_of_work
from gp4u.kit.clock import FrozenClock
from gp4u.offers import jobs, service
from gp4u.offers.models import Offer, OfferPrice, SourceSync
from gp4u.offers.query import build_query
from gp4u.providers.base import ProviderOffer
from tests import factories
from tests.conftest import CATALOGS

Sessions = async_sessionmaker[AsyncSession]


async def _import(
    sessions: Sessions, clock: FrozenClock, *offers: ProviderOffer, provider: str = "acme"
) -> service.ProviderImport:
    return await factories.import_offers(sessions, clock.now(), *offers, provider=provider)


async def _count(sessions: Sessions, model: type) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_real_catalogs_import_and_reimport_idempotently(
    sessions: Sessions, clock: FrozenClock
) -> None:
    first = await jobs.import_catalog_files(sessions, [CATALOGS], clock)
    by_provider = {r.provider: r for r in first}
    assert sum(r.added for r in first) == 2450
    assert by_provider["azure"].skipped == {"no_gpu": 55842, "fractional_gpu": 108}
    assert by_provider["runpod"].fixed == {"spot_on_demand_swapped": 4}
    offers = await _count(sessions, Offer)
    history = await _count(sessions, OfferPrice)
    assert offers == history == 2450

    clock.advance(timedelta(hours=1))
    second = await jobs.import_catalog_files(sessions, [CATALOGS], clock)
    assert sum(r.added + r.changed + r.gone for r in second) == 0
    assert sum(r.unchanged for r in second) == 2450
    assert (await _count(sessions, Offer), await _count(sessions, OfferPrice)) == (offers, history)
    assert await _count(sessions, SourceSync) == 2 * len(first)


async def test_known_prices_are_searchable_after_import(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await jobs.import_catalog_files(sessions, [CATALOGS / "lambda", CATALOGS / "vast"], clock)
    async with sessions() as session:
        page = await service.search_offers(
            session, build_query("provider=lambda instance_type=gpu_8x_h100_sxm5 spot=false")
        )
    assert page.items and {i["price_per_hour"] for i in page.items} == {31.92}
    assert {i["price_per_gpu_hour"] for i in page.items} == {3.99}
    assert {(i["gpu"], i["gpu_memory_gb"], i["gpu_count"]) for i in page.items} == {("H100", 80, 8)}


async def test_price_change_is_recorded_in_history(sessions: Sessions, clock: FrozenClock) -> None:
    await _import(sessions, clock, factories.offer(price_per_hour=2_000_000))
    clock.advance(timedelta(minutes=5))
    result = await _import(sessions, clock, factories.offer(price_per_hour=1_800_000))
    assert (result.added, result.changed, result.unchanged) == (0, 1, 0)
    async with sessions() as session:
        offer_id = (await session.execute(select(Offer.id))).scalar_one()
        detail = await service.get_offer(session, offer_id)
    assert [p["price_per_hour"] for p in detail["history"]] == [2.0, 1.8]
    assert detail["price_per_hour"] == 1.8
    assert detail["updated_at"].startswith("2026-11-01T12:05")


async def test_spec_change_updates_the_offer_without_a_price_point(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await _import(sessions, clock, factories.offer(vcpus=26.0))
    result = await _import(sessions, clock, factories.offer(vcpus=32.0))
    assert result.changed == 1
    assert await _count(sessions, OfferPrice) == 1


async def test_vanished_offers_become_unavailable_and_come_back(
    sessions: Sessions, clock: FrozenClock
) -> None:
    a = factories.offer(instance_type="a")
    b = factories.offer(instance_type="b")
    await _import(sessions, clock, a, b)
    clock.advance(timedelta(hours=1))
    gone = await _import(sessions, clock, a)
    assert (gone.gone, gone.unchanged) == (1, 1)
    async with sessions() as session:
        visible = await service.search_offers(session, build_query())
        hidden = await service.search_offers(session, build_query("available=false"))
    assert [i["instance_type"] for i in visible.items] == ["a"]
    assert [i["instance_type"] for i in hidden.items] == ["b"]
    assert await _count(sessions, Offer) == 2  # never deleted

    clock.advance(timedelta(hours=1))
    back = await _import(sessions, clock, a, b)
    assert back.changed == 1
    async with sessions() as session:
        history = (
            (
                await session.execute(
                    select(OfferPrice.available)
                    .join(Offer)
                    .where(Offer.instance_type == "b")
                    .order_by(OfferPrice.at)
                )
            )
            .scalars()
            .all()
        )
    assert history == [True, False, True]


async def test_other_providers_are_untouched_by_an_import(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await _import(sessions, clock, factories.offer(), provider="one")
    await _import(sessions, clock, factories.offer(), provider="two")
    result = await _import(sessions, clock, provider="one")
    assert result.gone == 1
    async with sessions() as session:
        page = await service.search_offers(session, build_query())
    assert [i["provider"] for i in page.items] == ["two"]


async def test_duplicate_keys_keep_the_cheaper_offer(
    sessions: Sessions, clock: FrozenClock
) -> None:
    result = await _import(
        sessions,
        clock,
        factories.offer(price_per_hour=3_000_000),
        factories.offer(price_per_hour=2_000_000),
    )
    assert (result.added, result.duplicates) == (1, 1)
    async with sessions() as session:
        page = await service.search_offers(session, build_query())
    assert page.items[0]["price_per_hour"] == 2.0


async def test_unknown_gpus_are_kept_flagged_and_counted(
    sessions: Sessions, clock: FrozenClock
) -> None:
    result = await _import(
        sessions, clock, factories.offer(gpu_name="Imaginary RTX 9999", gpu_memory_gb=None)
    )
    assert result.unknown_gpus == {"Imaginary RTX 9999": 1}
    async with sessions() as session:
        page = await service.search_offers(session, build_query('gpu="Imaginary RTX 9999"'))
    assert page.items[0]["gpu_known"] is False
    assert page.items[0]["gpu_memory_gb"] == 0


async def test_a_failed_import_leaves_nothing_behind(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await _import(sessions, clock, factories.offer())
    try:
        async with unit_of_work(sessions) as session:
            await service.import_offers(
                session,
                source="catalog",
                provider="acme",
                report=factories.report(factories.offer(price_per_hour=1)),
                origin="test",
                now=clock.now(),
            )
            raise RuntimeError("crash after the writes")
    except RuntimeError:
        pass
    async with sessions() as session:
        page = await service.search_offers(session, build_query())
    assert page.items[0]["price_per_hour"] == 2.5
    assert await _count(sessions, OfferPrice) == 1

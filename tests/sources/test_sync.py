"""Syncing providers into the market: outcomes recorded per run, one failing provider stops
nothing, and a provider that stays down goes stale, then drops out, then comes back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.fakes import kit
from gp4u.kit.clock import FrozenClock
from gp4u.offers import jobs as offer_jobs
from gp4u.offers import service as market
from gp4u.offers.models import SourceSync
from gp4u.offers.query import build_query
from gp4u.offers.service import MarketSearch
from gp4u.providers.registry import ProviderSet
from gp4u.sources import service

Sessions = async_sessionmaker[AsyncSession]


async def test_catalog_providers_sync_and_a_failing_one_stops_nothing(
    sessions: Sessions,
    clock: FrozenClock,
    shared_catalogs: kit.RunningFake,
    make_providers: Callable[..., ProviderSet],
) -> None:
    await offer_jobs.ensure_market(sessions, clock)  # offline start: simulated market
    providers = make_providers(
        catalog_url=shared_catalogs.url, catalog_providers="lambda,vast,nowhere"
    )
    outcomes = {o.name: o for o in await service.sync_many(sessions, providers, clock)}
    assert (outcomes["catalog-lambda"].status, outcomes["catalog-lambda"].added) == ("ok", 391)
    assert outcomes["catalog-vast"].added == 67
    assert outcomes["catalog-lambda"].skipped == {"no_gpu": 34}
    nowhere = outcomes["catalog-nowhere"]
    assert (nowhere.status, nowhere.error_kind) == ("failed", "rejected")
    assert "404" in (nowhere.error or "")
    async with sessions() as session:
        runs = (await session.scalars(select(SourceSync).order_by(SourceSync.id))).all()
        simulated = await market.search_offers(session, build_query("source=simulated"))
        lambda_page = await market.search_offers(session, build_query("provider=lambda"))
    by = {(r.provider, r.status): r for r in runs if r.source == "catalog"}
    assert by[("lambda", "ok")].seen == 391 and by[("lambda", "ok")].duration_ms is not None
    assert by[("nowhere", "failed")].error_kind == "rejected"
    assert simulated.items == []  # real data retired the demo market
    assert lambda_page.items[0]["source"] == "catalog"

    again = await service.sync_provider(sessions, providers, "catalog-lambda", clock)
    assert (again.added, again.changed, again.gone) == (0, 0, 0)


async def test_a_slow_provider_times_out_on_its_own(
    sessions: Sessions,
    clock: FrozenClock,
    generated_catalogs: kit.RunningFake,
    shared_catalogs: kit.RunningFake,
    make_providers: Callable[..., ProviderSet],
) -> None:
    slow = make_providers(
        catalog_url=generated_catalogs.url, catalog_providers="slowpoke", sync_timeout_seconds=0.5
    )
    generated_catalogs.state.faults.latency_ms = 3000
    fast = make_providers(catalog_url=shared_catalogs.url, catalog_providers="lambda")
    late, ok = await asyncio_gather(
        service.sync_provider(sessions, slow, "catalog-slowpoke", clock),
        service.sync_provider(sessions, fast, "catalog-lambda", clock),
    )
    assert (late.status, late.error_kind) == ("failed", "timeout")
    assert (ok.status, ok.added) == ("ok", 391)


async def asyncio_gather(*aws: object) -> list[service.SyncOutcome]:
    import asyncio

    return list(await asyncio.gather(*aws))  # type: ignore[call-overload]


async def test_a_provider_that_stays_down_goes_stale_then_drops_out_then_recovers(
    sessions: Sessions,
    clock: FrozenClock,
    generated_catalogs: kit.RunningFake,
    shared_catalogs: kit.RunningFake,
    make_providers: Callable[..., ProviderSet],
) -> None:
    timing = {"catalog_sync_seconds": 60, "catalog_hard_stale_seconds": 600}
    flaky = make_providers(catalog_url=generated_catalogs.url, catalog_providers="flaky", **timing)
    steady = make_providers(catalog_url=shared_catalogs.url, catalog_providers="lambda", **timing)
    index = MarketSearch()

    async def search(q: str) -> list[dict[str, object]]:
        async with sessions() as session:
            by_sql = (await market.search_offers(session, build_query(q, limit=1000))).items
            await index.build(sessions)
            by_index = (
                await market.search_offers(session, build_query(q, limit=1000), index)
            ).items
        assert by_sql == by_index
        return by_sql

    assert (await service.sync_provider(sessions, flaky, "catalog-flaky", clock)).added == 54
    assert (await service.sync_provider(sessions, steady, "catalog-lambda", clock)).added == 391

    generated_catalogs.state.faults.fail_all = True
    clock.advance(timedelta(seconds=120))  # within 3 intervals: failures, not yet stale
    down = await service.sync_provider(sessions, flaky, "catalog-flaky", clock)
    assert (down.status, down.error_kind, down.stale) == ("failed", "unavailable", 0)
    assert not any(o["stale"] for o in await search("provider=flaky"))

    clock.advance(timedelta(seconds=120))  # 240 s > 3 × 60 s: stale, still listed
    down = await service.sync_provider(sessions, flaky, "catalog-flaky", clock)
    assert down.stale == 54
    flaky_offers = await search("provider=flaky")
    assert len(flaky_offers) == 54 and all(o["stale"] for o in flaky_offers)
    assert len(await search("provider=lambda")) == 391  # the others answer as before
    assert len(await search("stale=false")) == 391

    clock.advance(timedelta(seconds=400))  # past the hard limit: the sweep drops them
    swept = await service.sweep_staleness(sessions, flaky, clock)
    assert swept == {"catalog-flaky": {"stale": 0, "expired": 54}}
    assert await search("provider=flaky") == []
    assert len(await search("provider=flaky available=false")) == 54
    assert len(await search("gpu_count>=1")) == 391 + 0  # lambda only
    assert await service.sweep_staleness(sessions, steady, clock) == {
        "catalog-lambda": {"stale": 0, "expired": 391}
    }  # lambda has not synced in 640 s either

    generated_catalogs.state.faults.fail_all = False
    await flaky.gateway.breaker("catalog-flaky").reset()
    back = await service.sync_provider(sessions, flaky, "catalog-flaky", clock)
    assert (back.status, back.changed) == ("ok", 54)
    restored = await search("provider=flaky")
    assert len(restored) == 54 and not any(o["stale"] for o in restored)


async def test_old_sync_records_are_pruned_but_the_latest_and_latest_good_stay(
    sessions: Sessions,
    clock: FrozenClock,
    generated_catalogs: kit.RunningFake,
    make_providers: Callable[..., ProviderSet],
) -> None:
    providers = make_providers(catalog_url=generated_catalogs.url, catalog_providers="p")
    assert (await service.sync_provider(sessions, providers, "catalog-p", clock)).status == "ok"
    generated_catalogs.state.faults.fail_all = True
    for days in (1, 4, 4):  # failures on day 1, 5 and 9
        clock.advance(timedelta(days=days))
        await service.sync_provider(sessions, providers, "catalog-p", clock)
    await service.sweep_staleness(sessions, providers, clock)  # keeps 7 days by default
    async with sessions() as session:
        runs = (await session.scalars(select(SourceSync).order_by(SourceSync.id))).all()
    assert [(r.status, (r.finished_at - runs[0].finished_at).days) for r in runs] == [
        ("ok", 0),  # the latest good run: freshness is read from it
        ("failed", 5),
        ("failed", 9),
    ]


async def test_an_answer_with_no_usable_record_keeps_the_last_good_offers(
    sessions: Sessions,
    clock: FrozenClock,
    generated_catalogs: kit.RunningFake,
    make_providers: Callable[..., ProviderSet],
) -> None:
    providers = make_providers(catalog_url=generated_catalogs.url, catalog_providers="p")
    assert (await service.sync_provider(sessions, providers, "catalog-p", clock)).added == 54
    generated_catalogs.state.offers = [{"InstanceType": "x", "AcceleratorName": "H100"}] * 5
    broken = await service.sync_provider(sessions, providers, "catalog-p", clock)
    assert (broken.status, broken.error_kind) == ("failed", "invalid_response")
    assert "all 5 records unusable" in (broken.error or "")
    async with sessions() as session:
        page = await market.search_offers(session, build_query("provider=p", limit=100))
    assert len(page.items) == 54  # nothing was marked gone


async def test_a_provider_without_its_key_is_disabled_not_failed(
    sessions: Sessions, clock: FrozenClock, make_providers: Callable[..., ProviderSet]
) -> None:
    providers = make_providers(providers="lambda,local")
    outcome = await service.sync_provider(sessions, providers, "lambda", clock)
    assert outcome.status == "disabled"
    assert (outcome.error or "").startswith("no API key: set GP4U_LAMBDA_API_KEY")
    names = [o.name for o in await service.sync_many(sessions, providers, clock)]
    assert names == ["local"]  # the default run leaves disabled providers out
    async with sessions() as session:
        runs = (await session.scalars(select(SourceSync))).all()
    assert [r.provider for r in runs] == ["local"]  # nothing recorded for lambda

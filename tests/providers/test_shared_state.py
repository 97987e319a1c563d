"""Distributed mode: rate limits, breakers and the offer cache shared through the machine's real
Redis by separate processes (or gateways standing in for them)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from gp4u.fakes import kit
from gp4u.kit.clock import FrozenClock
from gp4u.providers.base import BreakerOpen, ProviderUnavailable
from gp4u.providers.breaker import BreakerPolicy
from gp4u.providers.cache import CachePolicy, OfferCache
from gp4u.providers.gateway import CallPolicy, Gateway
from tests.conftest import T0
from tests.factories import offer, report

REDIS_URL = os.environ.get("GP4U_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


def _app() -> FastAPI:
    state = kit.FakeState()
    app = FastAPI()
    kit.install(app, state, lambda n, s: [])

    @app.get("/items")
    async def items() -> object:
        return kit.json_response(state, {"items": []})

    return app


@pytest.fixture
def fake() -> Iterator[kit.RunningFake]:
    with kit.running(_app()) as running:
        yield running


def test_four_processes_share_one_bucket_and_the_provider_never_sees_too_many(
    fake: kit.RunningFake,
) -> None:
    fake.state.faults.max_per_second = 10  # the provider's own limit: beyond it, 429
    provider = f"rl-{uuid.uuid4().hex[:8]}"
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.providers.rate_worker",
                fake.url,
                "250",
                REDIS_URL,
                provider,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    failures = [int(w.communicate(timeout=300)[0].strip().splitlines()[-1]) for w in workers]
    assert failures == [0, 0, 0, 0]  # no request refused: never a 429
    arrivals = [r["at"] for r in fake.state.requests]
    assert len(arrivals) == 1000
    assert kit.max_in_window(arrivals, 1.0) <= 10


async def test_a_breaker_opened_by_one_process_fails_fast_in_another(
    fake: kit.RunningFake, redis: Redis
) -> None:
    provider = f"br-{uuid.uuid4().hex[:8]}"
    policy = CallPolicy(attempts=1, breaker=BreakerPolicy(failures=2, reset_seconds=60))
    first, second = Gateway(redis=redis), Gateway(redis=redis)
    a = first.client(provider, base_url=fake.url, policy=policy)
    b = second.client(provider, base_url=fake.url, policy=policy)
    fake.state.faults.fail_all = True
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            await a.json("GET", "/items")
    seen = len(fake.state.requests)
    with pytest.raises(BreakerOpen):
        await b.json("GET", "/items")
    assert len(fake.state.requests) == seen
    await b.breaker.reset()
    fake.state.faults.fail_all = False
    assert await a.json("GET", "/items") == {"items": []}
    await first.aclose()
    await second.aclose()


async def test_the_offer_cache_is_shared_and_serves_stale_while_one_process_revalidates(
    redis: Redis,
) -> None:
    provider = f"cache-{uuid.uuid4().hex[:8]}"
    clock = FrozenClock(T0)
    writer, reader = OfferCache(clock, redis), OfferCache(clock, redis)
    policy = CachePolicy(base_ttl=30, hard_limit=300)
    fetches: list[str] = []

    async def fetch() -> object:
        fetches.append("fetch")
        return report(offer(provider=provider, price_per_hour=1_000_000 + len(fetches)))

    first = await writer.get(provider, fetch, policy)  # type: ignore[arg-type]
    assert first.freshness == "fresh" and fetches == ["fetch"]
    again = await reader.get(provider, fetch, policy)  # type: ignore[arg-type]
    assert again.freshness == "fresh" and fetches == ["fetch"]  # another process's fetch
    assert again.report.offers[0].price_per_hour == 1_000_001

    clock.advance(timedelta(seconds=60))
    stale = await reader.get(provider, fetch, policy)  # type: ignore[arg-type]
    assert stale.freshness == "stale" and stale.report.offers[0].price_per_hour == 1_000_001
    also = await writer.get(provider, fetch, policy)  # type: ignore[arg-type]
    assert also.freshness == "stale"
    for _ in range(100):
        if await redis.get(f"gp4u:cache-refresh:{provider}") is None and fetches == ["fetch"] * 2:
            break
        await asyncio.sleep(0.01)
    assert fetches == ["fetch", "fetch"]  # one background revalidation across both
    assert await reader.invalidate(provider)
    assert await writer.age(provider) is None

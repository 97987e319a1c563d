"""Distributed mode: rate limits, breakers and the offer cache shared through the machine's real
Redis by separate processes (or gateways standing in for them)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from gp4u.fakes import generic, kit
from gp4u.kit.clock import FrozenClock
from gp4u.providers.base import BreakerOpen, ProviderUnavailable
from gp4u.providers.breaker import BreakerPolicy
from gp4u.providers.cache import CachePolicy, OfferCache
from gp4u.providers.gateway import CallPolicy, Gateway
from tests.conftest import T0
from tests.factories import offer, report

REDIS_URL = os.environ.get("GP4U_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[2]
GP4U = str(Path(sys.executable).parent / "gp4u")


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
def fake() -> Iterator[kit.RunningFake]:
    with kit.running(generic.create_app()) as running:
        yield running


@pytest.fixture
def fake_process(env_without_gp4u: dict[str, str]) -> Iterator[str]:
    """A fake provider in a process of its own, as a real provider is: its arrival times are
    not disturbed by this test process's pauses."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [GP4U, "fake-provider", "catalog", "--port", str(port), "--offers", "1"],
        env=env_without_gp4u,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/_fake/faults", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_four_processes_share_one_bucket_and_the_provider_never_sees_too_many(
    fake_process: str,
) -> None:
    # the provider's own limit: more than 10 calls in one second get a 429
    httpx.post(f"{fake_process}/_fake/faults", json={"max_per_second": 10})
    provider = f"rl-{uuid.uuid4().hex[:8]}"
    # The senders run at lower priority than the fake provider: on a busy 2-core machine a late
    # sender only spreads requests out, while a stalled provider would bunch them up when it
    # wakes (it timestamps arrivals as it gets to them).
    workers = [
        subprocess.Popen(
            [
                "nice",
                "-n",
                "10",
                sys.executable,
                "-m",
                "tests.providers.rate_worker",
                fake_process,
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
    arrivals = [r["at"] for r in httpx.get(f"{fake_process}/_fake/requests").json()]
    assert len(arrivals) == 1000
    # One bucket for all four: 1,000 calls at 10/s take ~99 s (four buckets: ~25 s), and the
    # provider's own per-second count never passed its limit (no 429 above). No sliding-window
    # count: a loaded machine may delay a send until just before the next one.
    assert max(arrivals) - min(arrivals) >= 0.98 * (1000 - 10) / 10


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
    assert await a.json("GET", "/items") == {"items": [1, 2, 3]}
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

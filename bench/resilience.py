"""Resilience benchmark: how fast a call fails while a provider's circuit breaker is open
(target: under 10 ms, without reaching the provider), in memory and with the breaker in Redis,
and the gateway's own cost per successful call against a local fake.

    python bench/resilience.py
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid

from common import emit, percentiles
from gp4u.fakes import generic, kit
from gp4u.kit.logging import configure_logging
from gp4u.kit.redis import connect_redis
from gp4u.providers.base import BreakerOpen, ProviderUnavailable
from gp4u.providers.breaker import BreakerPolicy
from gp4u.providers.gateway import CallPolicy, Gateway

REDIS_URL = os.environ.get("GP4U_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


async def fail_fast(url: str, fake: kit.RunningFake, shared: bool) -> dict[str, object]:
    redis = connect_redis(REDIS_URL) if shared else None
    gateway = Gateway(redis=redis)
    policy = CallPolicy(attempts=1, breaker=BreakerPolicy(failures=3, reset_seconds=600))
    client = gateway.client(f"bench-{uuid.uuid4().hex[:6]}", base_url=url, policy=policy)
    fake.state.faults.fail_all = True
    for _ in range(3):
        with contextlib.suppress(ProviderUnavailable):
            await client.json("GET", "/items")
    reached = len(fake.state.requests)
    samples = []
    for _ in range(2000):
        start = time.perf_counter()
        try:
            await client.json("GET", "/items")
        except BreakerOpen:
            samples.append((time.perf_counter() - start) * 1000)
    fake.state.faults.fail_all = False
    await gateway.aclose()
    if redis is not None:
        await redis.aclose()
    return {
        "breaker_open_call": percentiles(samples),
        "reached_provider": len(fake.state.requests) - reached,
    }


async def call_cost(url: str) -> dict[str, object]:
    gateway = Gateway()
    client = gateway.client("bench-ok", base_url=url, policy=CallPolicy())
    samples = []
    for _ in range(500):
        start = time.perf_counter()
        await client.json("GET", "/items")
        samples.append((time.perf_counter() - start) * 1000)
    await gateway.aclose()
    return percentiles(samples)


async def main() -> None:
    configure_logging("console", "WARNING")
    with kit.running(generic.create_app()) as fake:
        emit(
            {
                "fail_fast_memory": await fail_fast(fake.url, fake, shared=False),
                "fail_fast_redis": await fail_fast(fake.url, fake, shared=True),
                "successful_call_through_gateway": await call_cost(fake.url),
            }
        )


if __name__ == "__main__":
    asyncio.run(main())

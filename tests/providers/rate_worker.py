"""A worker process for the shared rate-limit test: sends N requests through its own gateway,
sharing the token bucket in Redis; prints how many failed."""

from __future__ import annotations

import asyncio
import sys

from gp4u.kit.redis import connect_redis
from gp4u.providers.breaker import BreakerPolicy
from gp4u.providers.gateway import CallPolicy, Gateway
from gp4u.providers.ratelimit import RatePolicy


async def main(url: str, count: int, redis_url: str, provider: str) -> int:
    redis = connect_redis(redis_url)
    gateway = Gateway(redis=redis)
    policy = CallPolicy(
        attempts=1, rate=RatePolicy(per_second=10), breaker=BreakerPolicy(failures=10_000)
    )
    client = gateway.client(provider, base_url=url, policy=policy, api_key="shared-account")
    failed = 0

    async def one() -> None:
        nonlocal failed
        try:
            await client.json("GET", "/items")
        except Exception as exc:  # noqa: BLE001 - counted and reported
            failed += 1
            print(f"failed: {exc!r}", file=sys.stderr)

    per_task = count // 4
    await asyncio.gather(*(asyncio.gather(*(one() for _ in range(per_task))) for _ in range(4)))
    await gateway.aclose()
    await redis.aclose()
    return failed


if __name__ == "__main__":
    url, count, redis_url, provider = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    print(asyncio.run(main(url, count, redis_url, provider)))

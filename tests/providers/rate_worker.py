"""A worker process for the shared rate-limit test: sends N requests (all at once) through its own
gateway, sharing the token bucket in Redis; prints how many failed."""

from __future__ import annotations

import asyncio
import sys

from gp4u.kit.logging import configure_logging
from gp4u.kit.redis import connect_redis
from gp4u.providers.breaker import BreakerPolicy
from gp4u.providers.gateway import CallPolicy, Gateway
from gp4u.providers.ratelimit import RatePolicy


async def main(url: str, count: int, redis_url: str, provider: str) -> int:
    configure_logging("console", "WARNING")
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
            (await client.request("GET", "/shared/vms.csv")).raise_for_status()
        except Exception as exc:
            failed += 1
            print(f"failed: {exc!r}", file=sys.stderr)

    await asyncio.gather(*(one() for _ in range(count)))
    await gateway.aclose()
    await redis.aclose()
    return failed


if __name__ == "__main__":
    url, count, redis_url, provider = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    print(asyncio.run(main(url, count, redis_url, provider)))

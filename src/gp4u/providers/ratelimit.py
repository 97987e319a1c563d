"""A token bucket per provider account, in memory or shared by every process through Redis.

The bucket is kept as GCRA (the "virtual scheduling" form of a token bucket): one number, the
theoretical arrival time `tat` of the next request. A caller reserves the next free slot
atomically and sleeps until it, so waiting callers queue fairly and never spin. With a burst of 1
requests are spaced at least `1 / rate` apart; `margin` widens the spacing a little so latency
jitter between us and the provider cannot make the provider count one request too many.

Hand-written: `limits` (the maintained library) has fixed and moving windows but no token bucket
and no waiting, and none of them take an injectable clock.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from redis.asyncio import Redis

from gp4u.kit.clock import Clock


@dataclass(frozen=True)
class RatePolicy:
    per_second: float
    burst: int = 1
    margin: float = 0.3  # fraction added to the spacing

    @property
    def interval(self) -> float:
        return (1.0 + self.margin) / self.per_second


def reserve(tat: float, now: float, policy: RatePolicy) -> tuple[float, float]:
    """GCRA: the new theoretical arrival time and how long this caller must wait."""
    start = max(tat, now)
    new_tat = start + policy.interval
    wait = max(0.0, new_tat - policy.burst * policy.interval - now)
    return new_tat, wait


# Atomic in Redis, on Redis's clock (one clock for every process and host): read tat, reserve,
# store (with an expiry so idle buckets vanish).
_RESERVE = """
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local start = math.max(tat, now)
local new_tat = start + interval
local wait = math.max(0, new_tat - burst * interval - now)
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return tostring(wait)
"""


def account_id(api_key: str | None) -> str:
    """A stable, non-secret name for the account a key belongs to."""
    if not api_key:
        return "anonymous"
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]


class RateLimiter:
    """Waits for a slot before each request. `waited` counts the seconds spent waiting."""

    def __init__(
        self,
        key: str,
        policy: RatePolicy,
        clock: Clock,
        redis: Redis | None = None,
    ) -> None:
        self.key = f"gp4u:rate:{key}"
        self.policy = policy
        self._clock = clock
        self._redis = redis
        self._tat = 0.0
        self._lock = asyncio.Lock()
        self.waits = 0
        self.waited = 0.0
        self.acquired = 0

    async def acquire(self) -> float:
        """Reserve the next slot and sleep until it; returns the seconds waited."""
        if self._redis is None:
            async with self._lock:
                now = self._clock.now().timestamp()
                self._tat, wait = reserve(self._tat, now, self.policy)
        else:
            raw = await self._redis.eval(
                _RESERVE, 1, self.key, repr(self.policy.interval), str(self.policy.burst)
            )
            wait = float(raw)
        self.acquired += 1
        if wait > 0:
            self.waits += 1
            self.waited += wait
            await asyncio.sleep(wait)
        return wait

    def usage(self) -> dict[str, float]:
        return {
            "per_second": self.policy.per_second,
            "acquired": self.acquired,
            "waits": self.waits,
            "seconds_waited": round(self.waited, 3),
        }

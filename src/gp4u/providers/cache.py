"""The offer cache: each provider's last good offer list, in memory or in Redis.

Readers ask for a provider's offers and get them from the cache while they are fresh. The TTL
adapts to the provider's recent success rate: a healthy provider's offers live `base_ttl`; as its
calls start failing the TTL stretches (up to `max_stretch` times) so readers keep the last good
answer instead of hammering a failing API. Past the TTL, readers are served the stale list at
once while one background fetch revalidates it (single-flight per provider, across processes
with Redis). Past `hard_limit` nothing is served: the caller must fetch, and if that fails the
answer is "unknown", never an old price. The sync jobs write every successful fetch here.

Hand-written: the caching libraries we looked at (cachetools, aiocache, cashews) have fixed TTLs;
the adaptive TTL, the hard limit and cross-process single-flight are the whole point here.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import astuple, dataclass
from typing import Literal

import orjson
from redis.asyncio import Redis

from gp4u.kit.clock import Clock
from gp4u.kit.logging import get_logger
from gp4u.providers import metrics
from gp4u.providers.base import ParseReport, ProviderOffer, ProviderUnavailable

log = get_logger(__name__)

Freshness = Literal["fresh", "stale", "miss"]
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
Fetch = Callable[[], Awaitable[ParseReport]]


@dataclass(frozen=True)
class CachePolicy:
    base_ttl: float  # seconds a healthy provider's offers stay fresh
    hard_limit: float  # never served past this age
    max_stretch: float = 4.0  # TTL grows up to (1 + max_stretch) × base as calls fail

    def ttl(self, success_rate: float | None) -> float:
        failing = 0.0 if success_rate is None else 1.0 - success_rate
        return min(self.base_ttl * (1.0 + self.max_stretch * failing), self.hard_limit)


@dataclass(frozen=True)
class CachedOffers:
    report: ParseReport
    fetched_at: float  # epoch seconds
    freshness: Freshness
    age: float


class OfferCache:
    def __init__(self, clock: Clock, redis: Redis | None = None) -> None:
        self._clock = clock
        self._redis = redis
        self._memory: dict[str, tuple[float, ParseReport]] = {}
        self._revalidating: dict[str, asyncio.Task[None]] = {}
        self.lookups: dict[str, Counter[str]] = {}

    async def get(
        self,
        provider: str,
        fetch: Fetch,
        policy: CachePolicy,
        success_rate: float | None = None,
    ) -> CachedOffers:
        """The provider's offers: cached when fresh; stale-while-revalidate past the TTL;
        fetched (raising ProviderError on failure) when missing or past the hard limit."""
        now = self._now()
        entry = await self._load(provider)
        if entry is not None:
            fetched_at, report = entry
            age = now - fetched_at
            if age <= policy.ttl(success_rate):
                self._count(provider, "fresh")
                return CachedOffers(report, fetched_at, "fresh", age)
            if age <= policy.hard_limit:
                self._count(provider, "stale")
                await self._revalidate(provider, fetch)
                return CachedOffers(report, fetched_at, "stale", age)
        self._count(provider, "miss")
        report = await fetch()
        await self.put(provider, report)
        return CachedOffers(report, now, "fresh", 0.0)

    async def put(self, provider: str, report: ParseReport) -> None:
        now = self._now()
        if self._redis is None:
            self._memory[provider] = (now, report)
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(provider), _encode(now, report))
            pipe.set(self._key(provider) + ":at", repr(now))
            await pipe.execute()

    async def age(self, provider: str) -> float | None:
        """Seconds since the cached list was fetched (without reading the list itself)."""
        if self._redis is None:
            entry = self._memory.get(provider)
            fetched = None if entry is None else entry[0]
        else:
            raw = await self._redis.get(self._key(provider) + ":at")
            fetched = None if raw is None else float(raw)
        return None if fetched is None else self._now() - fetched

    async def invalidate(self, provider: str) -> bool:
        if self._redis is None:
            return self._memory.pop(provider, None) is not None
        key = self._key(provider)
        return bool(await self._redis.delete(key, key + ":at"))

    async def aclose(self) -> None:
        """Stop background revalidations (at shutdown)."""
        for task in self._revalidating.values():
            task.cancel()
        await asyncio.gather(*self._revalidating.values(), return_exceptions=True)
        self._revalidating.clear()

    def hit_ratio(self, provider: str) -> float | None:
        seen = self.lookups.get(provider)
        total = sum(seen.values()) if seen else 0
        if not seen or not total:
            return None
        return round((seen["fresh"] + seen["stale"]) / total, 4)

    async def _revalidate(self, provider: str, fetch: Fetch) -> None:
        running = self._revalidating.get(provider)
        if running is not None and not running.done():
            return
        lock, token = f"gp4u:cache-refresh:{provider}", uuid.uuid4().hex
        if self._redis is not None and not await self._redis.set(lock, token, nx=True, ex=60):
            return  # another process is revalidating

        async def refresh() -> None:
            try:
                await self.put(provider, await fetch())
            except ProviderUnavailable as exc:
                log.info("cache revalidation failed", provider=provider, error=exc.message)
            except Exception as exc:  # a background task must not die silently
                log.warning("cache revalidation failed", provider=provider, error=repr(exc))
            finally:
                if self._redis is not None:  # release only our own lock
                    await self._redis.eval(_RELEASE, 1, lock, token)

        self._revalidating[provider] = asyncio.create_task(refresh())

    async def _load(self, provider: str) -> tuple[float, ParseReport] | None:
        if self._redis is None:
            return self._memory.get(provider)
        raw = await self._redis.get(self._key(provider))
        return None if raw is None else _decode(raw)

    def _count(self, provider: str, result: str) -> None:
        self.lookups.setdefault(provider, Counter())[result] += 1
        metrics.CACHE.labels(provider, result).inc()

    def _now(self) -> float:
        return self._clock.now().timestamp()

    @staticmethod
    def _key(provider: str) -> str:
        return f"gp4u:offers:{provider}"


def _encode(fetched_at: float, report: ParseReport) -> bytes:
    return orjson.dumps(
        {
            "fetched_at": fetched_at,
            "rows_read": report.rows_read,
            "skipped": dict(report.skipped),
            "offers": [astuple(o) for o in report.offers],
        }
    )


def _decode(raw: bytes | str) -> tuple[float, ParseReport]:
    data = orjson.loads(raw)
    report = ParseReport(
        offers=[ProviderOffer(*values) for values in data["offers"]],
        rows_read=data["rows_read"],
        skipped=Counter(data["skipped"]),
    )
    return data["fetched_at"], report

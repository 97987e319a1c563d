"""Adapters by name: the built-in ones, plus any out-of-tree adapter registered under the
`gp4u.providers` entry-point group (`name = "package.module:AdapterClass"`).

`build_providers(settings)` makes the configured set: the live adapters named in
`GP4U_PROVIDERS` (each with its key and base URL from settings) and one catalog adapter per
published catalog (`catalog-<provider>`). A name that cannot be built is kept in `problems` with
the reason; it never stops the others.
"""

from __future__ import annotations

import asyncio
import importlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.metadata import entry_points

from redis.asyncio import Redis

from gp4u.kit.clock import Clock
from gp4u.kit.logging import get_logger
from gp4u.providers.cache import CachedOffers, CachePolicy, OfferCache
from gp4u.providers.catalog.adapter import CatalogAdapter
from gp4u.providers.gateway import Gateway, Transport
from gp4u.providers.hosts.adapter import NAME as HOST_ADAPTER
from gp4u.providers.hosts.adapter import HostAdapter
from gp4u.providers.hosts.port import HostFleet
from gp4u.providers.interface import ProviderAdapter
from gp4u.settings import Settings

log = get_logger(__name__)

ENTRY_POINT_GROUP = "gp4u.providers"
BUILTIN: dict[str, str] = {
    "vastai": "gp4u.providers.vastai.adapter:VastaiAdapter",
    "runpod": "gp4u.providers.runpod.adapter:RunPodAdapter",
    "lambda": "gp4u.providers.lambda_cloud.adapter:LambdaAdapter",
    "tensordock": "gp4u.providers.tensordock.adapter:TensorDockAdapter",
    "akash": "gp4u.providers.akash.adapter:AkashAdapter",
    "local": "gp4u.providers.local.adapter:LocalAdapter",
}
CATALOG_PREFIX = "catalog-"
# Delete a lock only if it is still ours (it may have expired and been taken by another run).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _load(target: str) -> type[ProviderAdapter]:
    module_name, _, attribute = target.partition(":")
    adapter = getattr(importlib.import_module(module_name), attribute)
    if not (isinstance(adapter, type) and issubclass(adapter, ProviderAdapter)):
        raise TypeError(f"{target} is not a ProviderAdapter")
    return adapter


def adapter_targets() -> dict[str, str]:
    """Every known adapter name and where its class lives (entry points may add or override)."""
    targets = dict(BUILTIN)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        targets[point.name] = point.value
    return targets


def adapter_class(name: str) -> type[ProviderAdapter]:
    target = adapter_targets().get(name)
    if target is None:
        raise LookupError(f"no provider adapter named {name!r}")
    return _load(target)


@dataclass
class ProviderSet:
    """The configured adapters with the gateway and offer cache they share."""

    gateway: Gateway
    cache: OfferCache
    settings: Settings
    adapters: dict[str, ProviderAdapter] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # name → why it is not available
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def get(self, name: str) -> ProviderAdapter:
        adapter = self.adapters.get(name)
        if adapter is None:
            reason = self.problems.get(name, "not configured")
            raise LookupError(f"provider {name!r}: {reason}")
        return adapter

    def for_account(self, name: str, api_key: str) -> ProviderAdapter:
        """An adapter that acts with a user's own provider key (for that user's sessions). It
        shares the gateway: the same breaker, timeouts and, per key, rate limits."""
        return adapter_class(name).create(
            name,
            self.gateway,
            api_key=api_key,
            base_url=self.settings.base_url(name),
            options=_options(self.settings, name),
        )

    def sync_interval(self, adapter: ProviderAdapter) -> float:
        s = self.settings
        every = s.live_sync_seconds if adapter.live else s.catalog_sync_seconds
        return max(every, adapter.min_sync_seconds)

    def stale_after(self, adapter: ProviderAdapter) -> float:
        return self.sync_interval(adapter) * self.settings.stale_after_intervals

    def hard_limit(self, adapter: ProviderAdapter) -> float:
        """The configured limit, but always at least one interval after offers turn stale."""
        s = self.settings
        configured = s.live_hard_stale_seconds if adapter.live else s.catalog_hard_stale_seconds
        return max(configured, self.stale_after(adapter) + self.sync_interval(adapter))

    def cache_policy(self, adapter: ProviderAdapter) -> CachePolicy:
        return CachePolicy(self.sync_interval(adapter), self.hard_limit(adapter))

    async def current_offers(self, name: str) -> CachedOffers:
        """A provider's offers as it reports them now, through the offer cache: fresh within
        the adaptive TTL, else stale while one fetch revalidates, else fetched (raising
        ProviderError when that fails past the hard limit)."""
        adapter = self.get(name)
        success = self.gateway.stats(name).success_rate(self.gateway.clock.now().timestamp())
        return await self.cache.get(name, adapter.list_offers, self.cache_policy(adapter), success)

    @asynccontextmanager
    async def sync_lock(self, name: str) -> AsyncIterator[bool]:
        """Hold the right to sync one provider (across processes with Redis); yields False when
        another sync of it is running, so runs of one provider never overlap."""
        redis = self.gateway.redis
        if redis is None:
            lock = self._locks.setdefault(name, asyncio.Lock())
            if lock.locked():
                yield False
                return
            async with lock:
                yield True
            return
        key, token = f"gp4u:sync-lock:{name}", uuid.uuid4().hex
        ttl = int(self.settings.sync_timeout_seconds) + 60
        if not await redis.set(key, token, nx=True, ex=ttl):
            yield False
            return
        try:
            yield True
        finally:
            await redis.eval(_RELEASE, 1, key, token)

    async def aclose(self) -> None:
        await self.cache.aclose()
        await self.gateway.aclose()


def _options(settings: Settings, name: str) -> dict[str, str]:
    options = {"data_dir": str(settings.data_dir), "deployment": settings.deployment_id}
    if name == "lambda" and settings.lambda_ssh_key_name:
        options["ssh_key_name"] = settings.lambda_ssh_key_name
    return options


def build_providers(
    settings: Settings,
    clock: Clock,
    *,
    redis: Redis | None = None,
    transport: Transport | None = None,
    fleet: HostFleet | None = None,
) -> ProviderSet:
    """`fleet` (the hosts marketplace's runs) adds the `gp4u` adapter, which starts sessions on
    host machines."""
    gateway = Gateway(clock=clock, redis=redis, transport=transport)
    providers = ProviderSet(gateway, OfferCache(clock, redis), settings)
    if fleet is not None:
        providers.adapters[HOST_ADAPTER] = HostAdapter.attach(gateway, fleet)
    for name in settings.provider_list:
        try:
            cls = adapter_class(name)
            providers.adapters[name] = cls.create(
                name,
                gateway,
                api_key=settings.api_key(name),
                base_url=settings.base_url(name),
                options=_options(settings, name),
            )
        except (LookupError, ImportError, TypeError, AttributeError) as exc:
            providers.problems[name] = f"cannot load adapter: {exc}"
            log.warning("provider adapter unavailable", provider=name, error=str(exc))
    if settings.catalog_url:
        for provider in settings.catalog_provider_list:
            name = f"{CATALOG_PREFIX}{provider}"
            providers.adapters[name] = CatalogAdapter.create(
                name, gateway, base_url=settings.catalog_url, options={"provider": provider}
            )
    return providers

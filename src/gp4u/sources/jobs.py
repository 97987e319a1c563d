"""Source jobs: one sync schedule per configured provider (live every `live_sync_seconds`,
catalogs every `catalog_sync_seconds`) and a staleness sweep."""

from __future__ import annotations

from typing import Any

from gp4u.jobs.context import JobContext
from gp4u.jobs.registry import Schedule, job
from gp4u.providers.interface import Capability
from gp4u.sources import service

SYNC = "sources.sync_provider"


def sync_schedules(ctx: JobContext) -> list[Schedule]:
    """One schedule per provider that can list offers (one without its key is not polled)."""
    return [
        Schedule(f"sync:{name}", SYNC, ctx.providers.sync_interval(adapter), {"provider": name})
        for name, adapter in ctx.providers.adapters.items()
        if Capability.OFFERS in adapter.capabilities()
    ]


@job(SYNC, schedules=sync_schedules, max_attempts=1, timeout_seconds=300)
async def sync_provider(ctx: JobContext, provider: str) -> dict[str, Any]:
    outcome = await service.sync_provider(ctx.sessions, ctx.providers, provider, ctx.clock)
    return outcome.as_dict()


@job("sources.sweep_staleness", every=15.0, max_attempts=1)
async def sweep_staleness(ctx: JobContext) -> dict[str, dict[str, int]]:
    return await service.sweep_staleness(ctx.sessions, ctx.providers, ctx.clock)

"""Market jobs: import catalog files, move the simulated market. Each provider is imported in
its own unit of work, so one bad source never undoes or blocks the others."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.db.engine import unit_of_work
from gp4u.jobs.context import JobContext
from gp4u.jobs.registry import Schedule, job
from gp4u.kit.clock import Clock
from gp4u.kit.logging import get_logger
from gp4u.offers import service
from gp4u.offers.service import ProviderImport
from gp4u.providers.base import ParseReport
from gp4u.providers.catalog.files import (
    CatalogFile,
    CatalogFormat,
    find_catalog_files,
    parse_files,
)

log = get_logger(__name__)
Sessions = async_sessionmaker[AsyncSession]
TICK = "offers.tick_simulated_market"


Parsed = ParseReport | str  # a provider's offers, or why they could not be read


async def _import_each(
    sessions: Sessions, parsed: dict[str, tuple[Parsed, str]], clock: Clock
) -> list[ProviderImport]:
    """Import each provider's offers (or record why it failed) in its own unit of work, then
    retire the simulated market and refresh planner statistics once. (Two providers in flight
    at once was measured: no gain on this 2-core machine, so one at a time.)"""
    results: list[ProviderImport] = []
    for provider, (outcome, origin) in parsed.items():
        run: dict[str, Any] = {"source": "catalog", "provider": provider, "origin": origin}
        async with unit_of_work(sessions) as session:
            if isinstance(outcome, str):
                log.warning("catalog source failed", provider=provider, error=outcome)
                failed = await service.record_failure(
                    session, error=outcome, now=clock.now(), **run
                )
                results.append(failed)
            else:
                results.append(
                    await service.import_offers(session, report=outcome, now=clock.now(), **run)
                )
    async with unit_of_work(sessions) as session:
        await service.retire_simulated_market(session, clock.now())
        await service.refresh_statistics_after(session, results)
    return results


async def import_catalog_files(
    sessions: Sessions,
    paths: list[Path],
    clock: Clock,
    fmt: CatalogFormat | None = None,
    provider: str | None = None,
) -> list[ProviderImport]:
    """`gp4u catalog import`: parse files (SkyPilot or gpuhunt) and import them per provider.
    A provider whose files cannot be read is recorded as failed with the reason; the others
    import. (Parsing runs before writing: overlapping the two in threads was measured slower.)"""
    files = find_catalog_files(paths, provider)
    by_provider: dict[str, list[CatalogFile]] = {}
    for item in files:
        by_provider.setdefault(item.provider, []).append(item)

    def parse_all() -> dict[str, tuple[Parsed, str]]:
        parsed: dict[str, tuple[Parsed, str]] = {}
        for name, group in by_provider.items():
            origin = ", ".join(str(f.path) for f in group)
            try:
                parsed[name] = (parse_files(group, fmt)[name], origin)
            except (ValueError, OSError) as exc:
                parsed[name] = (str(exc), origin)
        return parsed

    return await _import_each(sessions, await asyncio.to_thread(parse_all), clock)


async def tick_simulated_market(sessions: Sessions, clock: Clock) -> str:
    async with unit_of_work(sessions) as session:
        return await service.refresh_simulated_market(session, clock.now())


def _simulated_schedule(ctx: JobContext) -> list[Schedule]:
    if not ctx.settings.simulated_market:
        return []
    return [Schedule(TICK, TICK, ctx.settings.simulated_tick_seconds)]


@job(TICK, schedules=_simulated_schedule, max_attempts=1)
async def tick_simulated(ctx: JobContext) -> str:
    """Move the simulated market while it is the only source (retire it otherwise)."""
    return await tick_simulated_market(ctx.sessions, ctx.clock)


async def ensure_market(sessions: Sessions, clock: Clock) -> str | None:
    """With nothing available in the market, load the simulated one at once so a first search
    answers. Returns what the simulated market did, or None when there was no need."""
    async with unit_of_work(sessions) as session:
        if await service.has_available_offers(session):
            return None
        return await service.refresh_simulated_market(session, clock.now())

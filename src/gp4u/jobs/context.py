"""What a job runs with: settings, clock, database sessions and the providers. One context per
process (the server, or each Celery worker process)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gp4u.kit.clock import Clock
from gp4u.providers.registry import ProviderSet
from gp4u.settings import Settings


@dataclass
class JobContext:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    providers: ProviderSet
    redis: Redis | None = None
    # The process's market search index (gp4u.offers.service.MarketSearch) when it keeps one:
    # jobs that read the whole market use it instead of loading every offer. Typed loosely
    # because jobs sit below the domains.
    market: Any = None

    async def aclose(self) -> None:
        await self.providers.aclose()
        if self.redis is not None:
            await self.redis.aclose()

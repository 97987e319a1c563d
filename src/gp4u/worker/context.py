"""Building a process's job context from settings: database engine and sessions, Redis when
configured, and the provider set (adapters, gateway, offer cache)."""

from __future__ import annotations

from gp4u.db.engine import engine_from_settings, session_factory
from gp4u.jobs.context import JobContext
from gp4u.jobs.registry import load_jobs
from gp4u.kit.clock import Clock, SystemClock
from gp4u.kit.redis import connect_redis
from gp4u.offers.service import MarketSearch
from gp4u.providers.gateway import Transport
from gp4u.providers.registry import build_providers
from gp4u.settings import Settings


def open_context(
    settings: Settings, clock: Clock | None = None, *, transport: Transport | None = None
) -> JobContext:
    load_jobs()
    clock = clock or SystemClock()
    engine = engine_from_settings(settings)
    redis = connect_redis(settings.redis_url) if settings.redis_url else None
    return JobContext(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=session_factory(engine),
        providers=build_providers(settings, clock, redis=redis, transport=transport),
        redis=redis,
        market=MarketSearch(),
    )

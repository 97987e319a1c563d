"""Building a process's job context from settings: database engine and sessions, Redis when
configured, and the provider set (adapters, gateway, offer cache, and the `gp4u` adapter that
starts sessions on host machines through the hosts marketplace's runs)."""

from __future__ import annotations

from gp4u.db.engine import engine_from_settings, session_factory
from gp4u.hosts.runs import Fleet
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
    sessions = session_factory(engine)
    redis = connect_redis(settings.redis_url) if settings.redis_url else None
    fleet = Fleet(sessions, settings, clock)
    return JobContext(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=sessions,
        providers=build_providers(settings, clock, redis=redis, transport=transport, fleet=fleet),
        redis=redis,
        market=MarketSearch(),
    )

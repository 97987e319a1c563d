"""The application factory: `create_app(settings)` wires the database, the routers, the error
envelope, request ids, the providers and, when asked, the in-process job runner."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from gp4u import __version__
from gp4u.accounts.endpoints import routers as account_routers
from gp4u.accounts.keyring import keyring
from gp4u.accounts.throttle import LoginThrottle, MemoryThrottleStore, RedisThrottleStore
from gp4u.alerts.endpoints import router as alerts_router
from gp4u.audit.endpoints import router as audit_router
from gp4u.clusters.endpoints import router as clusters_router
from gp4u.costs.endpoints import router as costs_router
from gp4u.db.engine import ensure_data_dir
from gp4u.db.migrate import upgrade
from gp4u.gpus.endpoints import router as gpus_router
from gp4u.hosts.endpoints import agent_router as host_agent_router
from gp4u.hosts.endpoints import host_router
from gp4u.hosts.endpoints import router as machines_router
from gp4u.jobs.context import JobContext
from gp4u.kit.clock import Clock, SystemClock
from gp4u.kit.logging import configure_logging, get_logger
from gp4u.offers import jobs as offer_jobs
from gp4u.offers import service as offer_service
from gp4u.offers.endpoints import router as offers_router
from gp4u.pricing.endpoints import router as pricing_router
from gp4u.provisioning.endpoints import agent_router
from gp4u.provisioning.endpoints import router as sessions_router
from gp4u.provisioning.reconcile import reconcile
from gp4u.reservations.endpoints import router as reservations_router
from gp4u.settings import Settings
from gp4u.sources.endpoints import router as providers_router
from gp4u.system.endpoints import router as system_router
from gp4u.wallet.endpoints import router as wallet_router
from gp4u.wallet.rails import build_rails
from gp4u.web.errors import document_error_envelope, install_error_handlers
from gp4u.web.middleware import BodyLimitMiddleware, RequestIdMiddleware
from gp4u.web.responses import FastJSON
from gp4u.web.spa import DEFAULT_DIST, install_spa
from gp4u.wizard.endpoints import router as wizard_router
from gp4u.worker.context import open_context
from gp4u.worker.inprocess import InProcessRunner

log = get_logger(__name__)

DESCRIPTION = """
GP4U, the Kayak of GPUs: every provider's GPU offers in one normalised, searchable market.

Prices are USD (exact to the micro-dollar). GPU names are normalised: `gpu` is the family used for
comparison (`H100`, `A100`, `RTX4090`…), `gpu_variant` the form factor where the provider states
it, `gpu_memory_gb` the memory per GPU. Errors share one envelope:
`{"error": "<Name>", "detail": "…"}`.
"""


def prepare_routes(app: FastAPI) -> None:
    """Build every route's request handling now. FastAPI prepares an included router's routes
    the first time a request is matched against them, and a path outside the API (the web UI's
    first page) is matched against all of them: ~0.4 s that the first visitor would wait."""
    for _ in iter_route_contexts(app.routes):
        pass


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    background_jobs: bool = True,
) -> FastAPI:
    settings = settings or Settings()
    settings.check_auth()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ensure_data_dir(settings)
        if settings.migrate_on_start:
            await upgrade(settings.effective_database_url)
        ctx = open_context(settings, clock)
        sessions = ctx.sessions
        app.state.engine, app.state.sessions = ctx.engine, sessions
        app.state.providers, app.state.jobs = ctx.providers, ctx
        store = RedisThrottleStore(ctx.redis) if ctx.redis is not None else MemoryThrottleStore()
        app.state.login_throttle = LoginThrottle(store, clock)
        if settings.simulated_market:
            outcome = await offer_jobs.ensure_market(sessions, clock)
            if outcome:
                log.info("market bootstrapped", simulated=outcome)
        market = app.state.market = ctx.market
        runner = None
        background: set[asyncio.Task[object]] = set()
        app.state.sessions_ready = False
        if background_jobs:
            # Build the search index and run the marketplace's first search once, so the first
            # visitor after a start does not pay for it (readyz says "building" meanwhile).
            warm = offer_service.warm_up(sessions, market, settings.search_max_limit)
            background.add(asyncio.create_task(warm))
            background.add(asyncio.create_task(_recover_sessions(app, ctx)))
            if settings.jobs_backend == "inprocess":
                runner = app.state.runner = InProcessRunner(ctx)
                runner.start()
        else:
            await market.build(sessions)
            await _recover_sessions(app, ctx, retry=False)
        prepare_routes(app)
        try:
            yield
        finally:
            if runner is not None:
                await runner.stop()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await ctx.aclose()
            await ctx.engine.dispose()

    app = FastAPI(
        title="GP4U",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        default_response_class=FastJSON,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.keyring = keyring(settings)
    app.state.rails = build_rails(settings.rail_list, settings.test_rail_settle_seconds)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(system_router)
    app.include_router(pricing_router)  # before offers: /offers/compare is not an offer id
    app.include_router(offers_router)
    app.include_router(gpus_router)
    app.include_router(providers_router)
    app.include_router(alerts_router)
    for router in account_routers:
        app.include_router(router)
    app.include_router(wallet_router)
    app.include_router(sessions_router)
    app.include_router(costs_router)
    app.include_router(agent_router)
    app.include_router(machines_router)
    app.include_router(host_router)
    app.include_router(host_agent_router)
    app.include_router(reservations_router)
    app.include_router(clusters_router)
    app.include_router(wizard_router)
    app.include_router(audit_router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_error_envelope(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    install_spa(
        app, settings.web_dist or DEFAULT_DIST
    )  # the web UI at /: after every other route, it answers the rest

    return app


async def _recover_sessions(app: FastAPI, ctx: JobContext, *, retry: bool = True) -> None:
    """Reconcile provider instances before new sessions are accepted (until then a launch gets
    503). The embedded server is the only process launching, so every launch it finds
    unfinished was cut off by a crash."""
    startup = ctx.settings.jobs_backend == "inprocess"
    while True:
        try:
            report = await reconcile(ctx, startup=startup)
            log.info("sessions reconciled on start", **report)
            app.state.sessions_ready = True
            return
        except Exception as exc:  # the database may not be up (or migrated) yet
            log.warning("startup reconciliation failed", error=repr(exc))
            if not retry:
                return
            await asyncio.sleep(5)


def app_from_env() -> FastAPI:
    """Entry point for `uvicorn --factory gp4u.app:app_from_env`."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    return create_app(settings)


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, from an app that is never started (it does not depend on the
    database, the environment or a developer's .env)."""
    settings = Settings(
        _env_file=None,
        env="test",
        database_url="sqlite+aiosqlite://",
        secret_key="document-only-" + "x" * 32,
        migrate_on_start=False,
        simulated_market=False,
        catalog_url=None,
    )
    return create_app(settings, background_jobs=False).openapi()


__all__ = ["create_app", "openapi_document"]

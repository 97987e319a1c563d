"""Where the CLI gets market data: the embedded database (no server needed) or a remote GP4U
server (`--api URL` / GP4U_API_URL). Both return the API's JSON shapes.

The embedded SQLite path runs searches through the standard library's sqlite3 with the same
compiled SQL as the server, so `gp4u offers` starts fast; everything else goes through the
async services. An empty or outdated embedded database is set up on first use, exactly as
`gp4u serve` would (migrations, then the simulated market when nothing else is there)."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from gp4u.cli.remote import RemoteClient, RemoteError
from gp4u.db.schema_version import SCHEMA_REVISION
from gp4u.kit.errors import NotFound
from gp4u.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from gp4u.clusters.export import ExportFormat
    from gp4u.clusters.requirements import JobRequirement
    from gp4u.offers.query import OfferQuery

T = TypeVar("T")
_SQLITE_PREFIX = "sqlite+aiosqlite:///"


class Market(Protocol):
    def offers(self, q: str, sort: str | None, limit: int | None, cursor: str | None) -> Any: ...
    def summary(self, q: str, by: str) -> Any: ...
    def offer(self, offer_id: int) -> Any: ...
    def gpus(self) -> Any: ...
    def providers(self) -> Any: ...
    def arbitrage(self, params: dict[str, Any]) -> Any: ...
    def savings(self, params: dict[str, Any]) -> Any: ...
    def compare(self, ids: list[int]) -> Any: ...
    def recommend(self, params: dict[str, Any]) -> Any: ...
    def plan(self, body: dict[str, Any]) -> Any: ...
    def wizard(self, body: dict[str, Any]) -> Any: ...
    def history(self, params: dict[str, Any]) -> Any: ...
    def forecast(self, params: dict[str, Any]) -> Any: ...
    def watches(self) -> Any: ...
    def add_watch(self, body: dict[str, Any]) -> Any: ...
    def remove_watch(self, watch_id: int) -> None: ...


class RemoteMarket(RemoteClient):
    def offers(self, q: str, sort: str | None, limit: int | None, cursor: str | None) -> Any:
        return self.get("/api/v1/offers", {"q": q, "sort": sort, "limit": limit, "cursor": cursor})

    def summary(self, q: str, by: str) -> Any:
        return self.get("/api/v1/offers/summary", {"q": q, "by": by})

    def offer(self, offer_id: int) -> Any:
        return self.get(f"/api/v1/offers/{offer_id}")

    def gpus(self) -> Any:
        return self.get("/api/v1/gpus")

    def providers(self) -> Any:
        return self.get("/api/v1/providers")

    def arbitrage(self, params: dict[str, Any]) -> Any:
        return self.get("/api/v1/arbitrage/opportunities", params)

    def savings(self, params: dict[str, Any]) -> Any:
        return self.get("/api/v1/arbitrage/savings", params)

    def compare(self, ids: list[int]) -> Any:
        return self.get("/api/v1/offers/compare", {"ids": ",".join(map(str, ids))})

    def recommend(self, params: dict[str, Any]) -> Any:
        return self.get("/api/v1/recommendations", params)

    def plan(self, body: dict[str, Any]) -> Any:
        return self.send("POST", "/api/v1/clusters/plan", body)

    def wizard(self, body: dict[str, Any]) -> Any:
        return self.send("POST", "/api/v1/wizard/estimate", body)

    def history(self, params: dict[str, Any]) -> Any:
        return self.get("/api/v1/prices/history", params)

    def forecast(self, params: dict[str, Any]) -> Any:
        return self.get("/api/v1/prices/forecast", params)

    def watches(self) -> Any:
        return self.get("/api/v1/alerts")

    def add_watch(self, body: dict[str, Any]) -> Any:
        return self.send("POST", "/api/v1/alerts", body)

    def remove_watch(self, watch_id: int) -> None:
        self.send("DELETE", f"/api/v1/alerts/{watch_id}")


def _sqlite_path(settings: Settings) -> Path | None:
    url = settings.effective_database_url
    return Path(url[len(_SQLITE_PREFIX) :]) if url.startswith(_SQLITE_PREFIX) else None


def _revision(path: Path) -> str | None:
    if not path.exists():
        return None
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]  # type: ignore[no-any-return]
    except sqlite3.Error:
        return None
    finally:
        conn.close()


async def _bootstrap(settings: Settings) -> None:
    from gp4u.db.engine import engine_from_settings, session_factory
    from gp4u.db.migrate import upgrade
    from gp4u.kit.clock import SystemClock
    from gp4u.offers import jobs

    engine = engine_from_settings(settings)
    try:
        await upgrade(settings.effective_database_url)
        if settings.simulated_market:
            await jobs.ensure_market(session_factory(engine), SystemClock())
    finally:
        await engine.dispose()


def ensure_embedded_ready(settings: Settings) -> None:
    """Set up the embedded SQLite database when it is empty or outdated, as `gp4u serve` would
    (every command that uses it locally calls this first)."""
    path = _sqlite_path(settings)
    if path is not None and _revision(path) != SCHEMA_REVISION:
        print(f"Setting up the embedded database at {path} …", file=sys.stderr)
        asyncio.run(_bootstrap(settings))


class EmbeddedMarket:
    """The local database of this data directory (or GP4U_DATABASE_URL)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path = _sqlite_path(settings)
        self._ready = False

    def _ensure_ready(self) -> None:
        """Set up an empty or outdated embedded database on first use (after the input was
        validated, so a typo never costs a setup)."""
        if self._ready:
            return
        self._ready = True
        ensure_embedded_ready(self.settings)

    def _query(
        self, q: str, sort: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> OfferQuery:
        from gp4u.offers.query import build_query

        return build_query(
            q,
            sort=sort,
            limit=limit,
            cursor=cursor,
            default_limit=self.settings.search_default_limit,
            max_limit=self.settings.search_max_limit,
        )

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        self._ensure_ready()
        conn = sqlite3.connect(self.path)
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA query_only=ON")
        return conn

    def _run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        self._ensure_ready()

        async def go() -> T:
            from gp4u.db.engine import engine_from_settings, session_factory, unit_of_work

            engine = engine_from_settings(self.settings)
            try:
                async with unit_of_work(session_factory(engine)) as session:
                    return await work(session)
            finally:
                await engine.dispose()

        return asyncio.run(go())

    def offers(self, q: str, sort: str | None, limit: int | None, cursor: str | None) -> Any:
        query = self._query(q, sort, limit, cursor)
        if self.path is not None:
            from gp4u.offers.embedded import search_offers_embedded

            with closing(self._connect()) as conn:
                return search_offers_embedded(conn, query).as_json()
        from gp4u.offers import service

        return self._run(lambda s: service.search_offers(s, query)).as_json()

    def summary(self, q: str, by: str) -> Any:
        query = self._query(q)
        if self.path is not None:
            from gp4u.offers.embedded import summarize_embedded

            with closing(self._connect()) as conn:
                return {"by": by, "items": summarize_embedded(conn, query, by)}
        from gp4u.offers import service

        return {"by": by, "items": self._run(lambda s: service.summarize(s, query, by))}

    def offer(self, offer_id: int) -> Any:
        from gp4u.offers import service

        return self._run(lambda s: service.get_offer(s, offer_id))

    def gpus(self) -> Any:
        from gp4u.gpus import service

        return self._run(service.list_gpus)

    def providers(self) -> Any:
        from gp4u.kit.clock import SystemClock
        from gp4u.providers.registry import build_providers
        from gp4u.sources import service

        clock = SystemClock()

        async def listing(session: AsyncSession) -> Any:
            providers = build_providers(self.settings, clock)
            try:
                return await service.list_providers(session, providers, clock.now())
            finally:
                await providers.aclose()

        return {"items": self._run(listing)}

    def arbitrage(self, params: dict[str, Any]) -> Any:
        return self._run(lambda s: _arbitrage(s, params))

    def savings(self, params: dict[str, Any]) -> Any:
        return self._run(lambda s: _savings(s, params))

    def compare(self, ids: list[int]) -> Any:
        from gp4u.pricing import service

        return self._run(lambda s: service.compare(s, None, self.settings, ids))

    def recommend(self, params: dict[str, Any]) -> Any:
        from gp4u.pricing import service

        return self._run(lambda s: service.recommendations(s, None, **params))

    def plan(self, body: dict[str, Any]) -> Any:
        from gp4u.clusters import service
        from gp4u.clusters.schemas import PlanIn
        from gp4u.kit.clock import SystemClock

        request = PlanIn.model_validate(body)
        req = service.requirement_from(request, SystemClock().now())
        return self._run(lambda s: _plan(s, self.settings, req, request.export))

    def wizard(self, body: dict[str, Any]) -> Any:
        from gp4u.kit.clock import SystemClock
        from gp4u.wizard import service
        from gp4u.wizard.schemas import EstimateIn

        request = EstimateIn.model_validate(body)
        now = SystemClock().now()
        return self._run(
            lambda s: service.estimate(
                s, None, self.settings, request.text, now, request.plan, request.export
            )
        )

    def history(self, params: dict[str, Any]) -> Any:
        from gp4u.kit.clock import SystemClock
        from gp4u.pricing import service

        now = SystemClock().now()
        return self._run(lambda s: service.price_history(s, None, now, **params))

    def forecast(self, params: dict[str, Any]) -> Any:
        from gp4u.kit.clock import SystemClock
        from gp4u.pricing import service

        now = SystemClock().now()
        return self._run(lambda s: service.price_forecast(s, None, now, **params))

    def watches(self) -> Any:
        from gp4u.alerts import service

        return {"items": self._run(lambda s: service.list_watches(s, service.LOCAL_OWNER))}

    def add_watch(self, body: dict[str, Any]) -> Any:
        from gp4u.alerts import service
        from gp4u.kit.clock import SystemClock

        now = SystemClock().now()
        return self._run(lambda s: service.create_watch(s, service.LOCAL_OWNER, now=now, **body))

    def remove_watch(self, watch_id: int) -> None:
        from gp4u.alerts import service

        self._run(lambda s: service.delete_watch(s, service.LOCAL_OWNER, watch_id))


def _arbitrage(session: AsyncSession, params: dict[str, Any]) -> Any:
    from gp4u.pricing import service

    return service.opportunities(session, None, **params)


def _savings(session: AsyncSession, params: dict[str, Any]) -> Any:
    from gp4u.pricing import service

    return service.savings(session, None, **params)


async def _plan(
    session: AsyncSession, settings: Settings, req: JobRequirement, export: ExportFormat | None
) -> Any:
    from gp4u.clusters import service

    return service.planning_view(await service.plan_job(session, None, settings, req), export)


def open_market(settings: Settings, api_url: str | None) -> Market:
    url = api_url or settings.api_url
    return RemoteMarket.for_server(url) if url else EmbeddedMarket(settings)


__all__ = ["EmbeddedMarket", "Market", "NotFound", "RemoteError", "RemoteMarket", "open_market"]

"""Async engines and sessions for SQLite (WAL) and PostgreSQL, and the unit of work."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from gp4u.settings import Settings

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA cache_size=-65536",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA mmap_size=268435456",
)
# A PostgreSQL connection back in the pool for longer than this is pinged before it is used.
IDLE_PING_SECONDS = 10.0


def apply_sqlite_pragmas(dbapi_connection: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; on SQLite every new connection gets WAL and the other pragmas."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            apply_sqlite_pragmas(dbapi_connection)

        return engine
    kwargs.setdefault("pool_size", default_pool_size())
    kwargs.setdefault("max_overflow", 0)
    engine = create_async_engine(url, **kwargs)
    ping_when_idle(engine, IDLE_PING_SECONDS)
    return engine


def default_pool_size() -> int:
    """PostgreSQL connections per process: twice the CPU cores, at least 4. Requests beyond it
    wait their turn for a connection; more connections than the cores can serve would only
    queue inside the database, at a higher cost (bench/bookings.py, decision 36)."""
    return max(4, 2 * (os.cpu_count() or 1))


def ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a pooled connection before use only when it sat idle for `idle_seconds` (or is
    new): a connection that a restart of the database killed is then replaced instead of
    failing a request. Pinging every checkout (pool_pre_ping) costs ~0.8 ms of CPU per
    transaction; a connection in steady use is proven by its last transaction, and if the
    database dies under it, SQLAlchemy invalidates the whole pool on the first error."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is not None and time.monotonic() - returned < idle_seconds:
            return
        try:
            sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool retries with a fresh connection
            raise DisconnectionError(str(exc)) from exc


def ensure_data_dir(settings: Settings) -> None:
    """The embedded database's folder must exist before SQLite can create the file."""
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)


def engine_from_settings(settings: Settings) -> AsyncEngine:
    ensure_data_dir(settings)
    pool = {"pool_size": settings.database_pool_size} if settings.database_pool_size else {}
    return create_engine(settings.effective_database_url, **pool)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """The only place that commits: everything inside succeeds together or rolls back together."""
    async with sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise

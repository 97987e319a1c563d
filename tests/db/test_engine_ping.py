"""PostgreSQL pool health: a pooled connection that sat idle is pinged before use, so one that
the database killed (a restart, an admin's pg_terminate_backend) is replaced without failing the
request; one in steady use is not pinged (it costs CPU on every transaction), so its death fails
one statement and the pool then reconnects."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from gp4u.db import engine as engine_module
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs GP4U_TEST_DATABASE_URL (PostgreSQL)")
BACKEND = text("SELECT pg_backend_pid()")


async def _kill(pid: int) -> None:
    assert PG_URL
    admin = engine_module.create_engine(PG_URL)
    try:
        async with admin.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()


async def _pooled_backend(
    idle_seconds: float, monkeypatch: pytest.MonkeyPatch
) -> tuple[AsyncEngine, int]:
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", idle_seconds)
    assert PG_URL
    engine = engine_module.create_engine(PG_URL, pool_size=1, max_overflow=0)
    async with engine.connect() as conn:
        pid = int((await conn.execute(BACKEND)).scalar_one())
    return engine, pid


async def test_an_idle_connection_killed_by_the_database_is_replaced(
    postgres_ready: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, pid = await _pooled_backend(0.0, monkeypatch)  # every connection counts as idle
    try:
        await _kill(pid)
        async with engine.connect() as conn:
            assert int((await conn.execute(BACKEND)).scalar_one()) != pid
    finally:
        await engine.dispose()


async def test_a_busy_connection_is_not_pinged_and_its_death_fails_one_statement(
    postgres_ready: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, pid = await _pooled_backend(3600.0, monkeypatch)
    try:
        await _kill(pid)
        with pytest.raises(DBAPIError):
            async with engine.connect() as conn:
                await conn.execute(BACKEND)
        async with engine.connect() as conn:  # the pool reconnected
            assert int((await conn.execute(BACKEND)).scalar_one()) != pid
    finally:
        await engine.dispose()

"""Test fixtures: a real, migrated database per test on SQLite, and on PostgreSQL as well when
GP4U_TEST_DATABASE_URL is set (every database test then runs once per lane)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gp4u.app import create_app
from gp4u.db.engine import create_engine, session_factory
from gp4u.db.migrate import upgrade_sync
from gp4u.fakes import catalog, kit
from gp4u.kit.clock import FrozenClock
from gp4u.ledger import service as ledger
from gp4u.models import metadata
from gp4u.providers.gateway import Gateway
from gp4u.providers.local.adapter import LocalAdapter
from gp4u.settings import Settings
from tests.factories import asgi_client

# The shared sample data sits next to the repository (../shared/data); GP4U_SHARED_DATA overrides.
SHARED = Path(
    os.environ.get("GP4U_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
if not (SHARED / "catalogs").is_dir():
    raise RuntimeError(f"shared test data not found at {SHARED}; set GP4U_SHARED_DATA")
CATALOGS = SHARED / "catalogs"
PROVIDER_API = SHARED / "provider-api"
PG_URL = os.environ.get("GP4U_TEST_DATABASE_URL")
LANES = ["sqlite", *(["postgresql"] if PG_URL else [])]
# Emptied between PostgreSQL tests (market_state keeps its one row and users the local user,
# which the migrations create).
TABLES = tuple(t.name for t in metadata.sorted_tables if t.name not in ("market_state", "users"))
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> str:
    """Migrate the PostgreSQL test database from scratch once per run."""
    assert PG_URL, "GP4U_TEST_DATABASE_URL is not set"
    import asyncio

    async def reset() -> None:
        engine = create_engine(PG_URL)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())
    upgrade_sync(PG_URL)
    return PG_URL


@pytest.fixture(params=LANES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database of each lane."""
    if request.param == "sqlite":
        path = tmp_path / "gp4u.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    return str(request.getfixturevalue("postgres_ready"))


async def empty_postgres(engine: AsyncEngine) -> None:
    """The PostgreSQL test database as the migrations left it: no rows but the local user and
    the market state's."""
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        await conn.execute(text("UPDATE market_state SET version = 0"))
        await conn.execute(text("DELETE FROM users WHERE id <> 'local'"))
        await conn.execute(text("UPDATE users SET max_session_hours = NULL"))


@pytest.fixture
async def engine(db_url: str, request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    """The test's database engine. Afterwards the ledger audit must pass on whatever the test
    left behind (tests that tamper with the ledger on purpose are marked `tampers_ledger`)."""
    engine = create_engine(db_url)
    if db_url.startswith("postgresql"):
        await empty_postgres(engine)
    yield engine
    try:
        if request.node.get_closest_marker("tampers_ledger") is None:
            await _audit_ledger(engine)
    finally:
        await engine.dispose()


async def _audit_ledger(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        try:
            problems = await ledger.audit(session)
        except DBAPIError as exc:  # a test of an unmigrated or dropped database
            if "no such table" in str(exc) or "does not exist" in str(exc):
                return
            raise
    if problems:
        pytest.fail(f"the ledger audit fails after this test: {problems[:5]}")


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path / "data",
        database_url=db_url,
        migrate_on_start=False,
        simulated_market=False,
        catalog_url=None,
    )


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine, clock: FrozenClock) -> FastAPI:
    return create_app(settings, clock=clock, background_jobs=False)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The real app on the test database, called in-process over ASGI."""
    async with asgi_client(app) as c:
        yield c


@pytest.fixture
async def accounts_client(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The real app in multi-user mode (GP4U_AUTH=accounts): everything but public market data
    needs credentials."""
    app = create_app(
        settings.model_copy(update={"auth": "accounts"}), clock=clock, background_jobs=False
    )
    async with asgi_client(app) as c:
        yield c


@pytest.fixture
def shared_catalogs() -> Iterator[kit.RunningFake]:
    """A fake catalog host serving the real shared SkyPilot catalogs."""
    with kit.running(catalog.create_app(directory=CATALOGS)) as running:
        yield running


@pytest.fixture
def generated_catalogs() -> Iterator[kit.RunningFake]:
    """A fake catalog host serving generated rows (54 offers by default), with fault switches."""
    with kit.running(catalog.create_app()) as running:
        yield running


@pytest.fixture
def env_without_gp4u() -> Iterator[dict[str, str]]:
    """The environment for CLI subprocesses, without the developer's GP4U_* settings."""
    yield {k: v for k, v in os.environ.items() if not k.startswith("GP4U_")}


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[LocalAdapter]:
    """The local provider's adapter on a fresh data dir; whatever it ran for deployment `t1`
    is terminated afterwards."""
    gateway = Gateway()
    adapter = LocalAdapter.create("local", gateway, options={"data_dir": str(tmp_path)})
    yield adapter
    for instance in await adapter.list_tagged("t1"):
        await adapter.terminate(instance.instance_id)
    await gateway.aclose()

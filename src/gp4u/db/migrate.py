"""Bringing a database schema up to date, and telling whether it is."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from gp4u.db.schema_version import SCHEMA_REVISION


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "gp4u:migrations")
    config.set_main_option("sqlalchemy.url", url)
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head() or ""


def upgrade_sync(url: str) -> None:
    """Run every pending migration (blocking; runs its own event loop)."""
    command.upgrade(alembic_config(url), "head")


async def upgrade(url: str) -> None:
    """Run every pending migration from async code, in a worker thread."""
    await asyncio.to_thread(upgrade_sync, url)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def is_current(engine: AsyncEngine) -> bool:
    return await current_revision(engine) == SCHEMA_REVISION

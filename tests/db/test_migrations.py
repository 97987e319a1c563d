"""The migrations build exactly the models' schema, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from gp4u.db.migrate import current_revision, head_revision
from gp4u.db.schema_version import SCHEMA_REVISION
from gp4u.models import metadata


def test_the_schema_constant_is_the_migrations_head() -> None:
    assert head_revision() == SCHEMA_REVISION


async def test_migrated_schema_equals_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), metadata
            )
        )
    assert diff == []
    assert await current_revision(engine) == SCHEMA_REVISION

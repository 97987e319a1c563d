"""The migrations build exactly the models' schema, on both databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from gp4u.db.migrate import alembic_config, current_revision, head_revision
from gp4u.db.schema_version import SCHEMA_REVISION
from gp4u.models import metadata
from gp4u.offers.ingest import to_row
from gp4u.providers.base import ProviderOffer


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


def test_downgrading_the_measured_columns_keeps_the_offers_and_their_price_history(
    tmp_path: Path,
) -> None:
    """SQLite runs with foreign keys on: rebuilding `offers` to drop a column would cascade to
    the price history, so migration 0013 drops its columns natively."""
    path = tmp_path / "m.db"
    config = alembic_config(f"sqlite+aiosqlite:///{path}")
    command.upgrade(config, "head")
    offer = ProviderOffer("lambda", "gpu_1x_h100", "H100", 1, 2_490_000)
    row = to_row("catalog", offer) | {"version": 1, "created_at": "2026-11-24", "updated_at": "x"}
    with sqlite3.connect(path) as db:
        columns = ", ".join(row)
        db.execute(
            f"INSERT INTO offers ({columns}) VALUES ({', '.join('?' * len(row))})", [*row.values()]
        )
        db.execute(
            "INSERT INTO offer_prices (offer_id, at, price_per_hour, price_per_gpu_hour, available)"
            " VALUES (1, '2026-11-24', 2490000, 2490000, 1)"
        )
    command.downgrade(config, "0012")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM offers").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM offer_prices").fetchone() == (1,)
        names = {r[1] for r in db.execute("PRAGMA table_info(offers)")}
    assert "measured_bf16_tflops" not in names and "dlperf" in names
    command.upgrade(config, "head")

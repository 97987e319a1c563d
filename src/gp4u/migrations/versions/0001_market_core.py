"""Market core: offers, their price history, the market version and source sync runs.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 04:08:28.675145
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gp4u.db.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    market_state = op.create_table(
        "market_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_state")),
    )
    op.bulk_insert(market_state, [{"id": 1, "version": 0}])
    op.create_table(
        "offers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "key",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("instance_type", sa.String(length=255), nullable=False),
        sa.Column("region", sa.String(length=128), nullable=True),
        sa.Column("zone", sa.String(length=128), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("gpu", sa.String(length=64), nullable=False),
        sa.Column("gpu_variant", sa.String(length=32), nullable=True),
        sa.Column("gpu_memory_gb", sa.Integer(), nullable=False),
        sa.Column("gpu_count", sa.Integer(), nullable=False),
        sa.Column("gpu_known", sa.Boolean(), nullable=False),
        sa.Column("gpu_raw_name", sa.String(length=128), nullable=False),
        sa.Column("vcpus", sa.Float(), nullable=True),
        sa.Column("memory_gb", sa.Float(), nullable=True),
        sa.Column("disk_gb", sa.Float(), nullable=True),
        sa.Column("price_per_hour", sa.BigInteger(), nullable=False),
        sa.Column("price_per_gpu_hour", sa.BigInteger(), nullable=False),
        sa.Column("spot", sa.Boolean(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("reliability", sa.Float(), nullable=True),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", gp4u.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gp4u.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
        sa.UniqueConstraint("key", name=op.f("uq_offers_key")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_offers_search_gpu", ["available", "gpu", "price_per_gpu_hour", "id"], unique=False
        )
        batch_op.create_index("ix_offers_version", ["version"], unique=False)

    op.create_table(
        "source_syncs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=1024), nullable=False),
        sa.Column("started_at", gp4u.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", gp4u.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("gone", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_syncs")),
    )
    with op.batch_alter_table("source_syncs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_source_syncs_source_provider", ["source", "provider", "finished_at"], unique=False
        )

    op.create_table(
        "offer_prices",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("offer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", gp4u.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("price_per_hour", sa.BigInteger(), nullable=False),
        sa.Column("price_per_gpu_hour", sa.BigInteger(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offers.id"],
            name=op.f("fk_offer_prices_offer_id_offers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_prices")),
    )
    with op.batch_alter_table("offer_prices", schema=None) as batch_op:
        batch_op.create_index("ix_offer_prices_offer_at", ["offer_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("offer_prices", schema=None) as batch_op:
        batch_op.drop_index("ix_offer_prices_offer_at")

    op.drop_table("offer_prices")
    with op.batch_alter_table("source_syncs", schema=None) as batch_op:
        batch_op.drop_index("ix_source_syncs_source_provider")

    op.drop_table("source_syncs")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_version")
        batch_op.drop_index("ix_offers_search_gpu")

    op.drop_table("offers")
    op.drop_table("market_state")

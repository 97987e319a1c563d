"""Clusters: a planned multi-machine job and its members (one session each).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gp4u.db.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, gp4u.db.base.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "clusters",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=True),
        sa.Column("name", sa.String(length=80), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requirement", sa.JSON(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("pflop_hours", sa.Float(), nullable=False),
        sa.Column("precision", sa.String(length=8), nullable=False),
        _at("deadline_at", nullable=False),
        sa.Column("machine_hours_cap", sa.Float(), nullable=False),
        sa.Column("budget", sa.BigInteger(), nullable=True),
        sa.Column("estimate", sa.BigInteger(), nullable=False),
        sa.Column("charge_ids", sa.JSON(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.Column("captured", sa.BigInteger(), nullable=False),
        sa.Column("excluded_offers", sa.JSON(), nullable=False),
        sa.Column("replans", sa.Integer(), nullable=False),
        sa.Column("pending_replan", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("image", sa.String(length=255), nullable=True),
        sa.Column("startup_command", sa.Text(), nullable=True),
        sa.Column("env_sealed", sa.Text(), nullable=True),
        sa.Column("env_keys", sa.JSON(), nullable=False),
        sa.Column("ssh_public_key", sa.Text(), nullable=True),
        sa.Column("events", sa.JSON(), nullable=False),
        _at("created_at", nullable=False),
        _at("started_at"),
        _at("ending_at"),
        _at("ended_at"),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("end_detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clusters")),
    )
    op.create_index("ix_clusters_owner", "clusters", ["owner", "id"])
    op.create_index("ix_clusters_state", "clusters", ["state"])
    op.create_table(
        "cluster_members",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("cluster_id", _ID, nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("offer_id", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("gpu", sa.String(length=64), nullable=False),
        sa.Column("gpu_count", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=128), nullable=True),
        sa.Column("spot", sa.Boolean(), nullable=False),
        sa.Column("price_per_hour", sa.BigInteger(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("pflops", sa.Float(), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=True),
        sa.Column("cost", sa.BigInteger(), nullable=True),
        _at("settled_at"),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"], name=op.f("fk_cluster_members_cluster_id_clusters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_members")),
    )
    op.create_index("ix_cluster_members_cluster", "cluster_members", ["cluster_id", "id"])
    with op.batch_alter_table("gpu_sessions") as batch_op:
        batch_op.add_column(sa.Column("cluster_id", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_gpu_sessions_cluster", ["cluster_id"])


def downgrade() -> None:
    with op.batch_alter_table("gpu_sessions") as batch_op:
        batch_op.drop_index("ix_gpu_sessions_cluster")
        batch_op.drop_column("cluster_id")
    op.drop_index("ix_cluster_members_cluster", table_name="cluster_members")
    op.drop_table("cluster_members")
    op.drop_index("ix_clusters_state", table_name="clusters")
    op.drop_table("clusters")

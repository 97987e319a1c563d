"""Runs: sessions' workloads on host machines, handed to each machine's host agent.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 19:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gp4u.db.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "machine_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=12), nullable=False),
        sa.Column("machine_id", _ID, nullable=False),
        sa.Column("client_token", sa.String(length=80), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("command", sa.Text(), nullable=True),
        sa.Column("env_sealed", sa.Text(), nullable=True),
        sa.Column("wanted", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("created_at", gp4u.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("handed_at", gp4u.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("reported_at", gp4u.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", gp4u.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["host_machines.id"],
            name=op.f("fk_machine_runs_machine_id_host_machines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_machine_runs")),
        sa.UniqueConstraint("client_token", name=op.f("uq_machine_runs_client_token")),
        sa.UniqueConstraint("run_id", name=op.f("uq_machine_runs_run_id")),
    )
    op.create_index("ix_machine_runs_machine", "machine_runs", ["machine_id", "ended_at"])


def downgrade() -> None:
    op.drop_index("ix_machine_runs_machine", table_name="machine_runs")
    op.drop_table("machine_runs")

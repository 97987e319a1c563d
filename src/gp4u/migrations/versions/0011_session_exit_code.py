"""Sessions keep their workload's exit code (a cluster fails when a member's workload did).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gpu_sessions") as batch_op:
        batch_op.add_column(sa.Column("exit_code", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gpu_sessions") as batch_op:
        batch_op.drop_column("exit_code")

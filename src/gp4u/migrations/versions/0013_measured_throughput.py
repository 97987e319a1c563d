"""Measured throughput: offers carry the dense-GEMM TFLOPS a machine's node agent measured, per
precision (GP4U hosts' machines), so the planner can use them instead of the GPU's spec.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("measured_bf16_tflops", "measured_fp16_tflops", "measured_fp32_tflops")


def upgrade() -> None:
    with op.batch_alter_table("offers") as batch_op:
        for column in COLUMNS:
            batch_op.add_column(sa.Column(column, sa.Float(), nullable=True))


def downgrade() -> None:
    # Natively, never by rebuilding the table: dropping `offers` in a rebuild would cascade
    # to the price history (SQLite runs with foreign keys on).
    with op.batch_alter_table("offers", recreate="never") as batch_op:
        for column in reversed(COLUMNS):
            batch_op.drop_column(column)

"""Host-owned cluster members: a cluster books its host machines' time as reservations of its
own (`reservations.cluster_id`), and pays their owners from a pool split by contribution.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reservations") as batch_op:
        batch_op.add_column(sa.Column("cluster_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("clusters") as batch_op:
        batch_op.add_column(
            sa.Column("host_pool", sa.BigInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("cluster_members") as batch_op:
        batch_op.add_column(sa.Column("host", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("reservation_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("host_paid", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("host_fee", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cluster_members") as batch_op:
        for column in ("host_fee", "host_paid", "reservation_id", "host"):
            batch_op.drop_column(column)
    with op.batch_alter_table("clusters") as batch_op:
        batch_op.drop_column("host_pool")
    if op.get_bind().dialect.name == "sqlite":
        # Natively: a batch rebuild of the table would drop its no-overlap triggers (0008).
        op.execute("ALTER TABLE reservations DROP COLUMN cluster_id")
    else:
        op.drop_column("reservations", "cluster_id")

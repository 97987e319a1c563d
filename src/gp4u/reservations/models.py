"""The reservations table: a renter's booked time block `[start_at, end_at)` on a machine.

No two pending or active reservations of one machine overlap, and the database itself refuses
it (migration 0008): an exclusion constraint on PostgreSQL, triggers on SQLite."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gp4u.db.base import Base, BigId, UtcDateTime


class Reservation(Base):
    """Money (integer micro-USD): `charge_ids` are the wallet charges (holds) still paying for
    it, oldest first; `captured` is what has been paid so far (the host gets it less `fee`).
    `captured_until` is the end of the time already paid for. A cluster's reservation
    (`cluster_id`) only books the machine's time for one of its members: the cluster pays,
    and the reservations manager leaves it alone."""

    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))
    key_prefix: Mapped[str | None] = mapped_column(String(16))
    machine_id: Mapped[int] = mapped_column(ForeignKey("host_machines.id"))
    host: Mapped[str] = mapped_column(String(64))  # the machine's owner, paid for the time
    state: Mapped[str] = mapped_column(String(16))
    start_at: Mapped[datetime] = mapped_column(UtcDateTime)
    end_at: Mapped[datetime] = mapped_column(UtcDateTime)
    price_per_hour: Mapped[int] = mapped_column(BigInteger)
    charge_ids: Mapped[list[int]] = mapped_column(JSON)
    held: Mapped[int] = mapped_column(BigInteger)  # everything ever held for it
    captured: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    captured_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    session_id: Mapped[int | None] = mapped_column(BigInteger)
    startup_command: Mapped[str | None] = mapped_column(Text)
    ssh_public_key: Mapped[str | None] = mapped_column(Text)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    end_detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    extensions: Mapped[int] = mapped_column(Integer)
    cluster_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("start_at < end_at", name="positive_length"),
        Index("ix_reservations_machine", "machine_id", "start_at"),
        Index("ix_reservations_owner", "owner", "id"),
        Index("ix_reservations_state", "state", "start_at"),
        Index("ix_reservations_host", "host", "start_at"),
    )

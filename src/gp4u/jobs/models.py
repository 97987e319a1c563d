"""The job outbox: a job is enqueued by inserting a row in the caller's transaction, so it
exists if and only if that transaction committed. A relay hands pending rows to a runner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gp4u.db.base import Base, BigId, UtcDateTime


class OutboxJob(Base):
    __tablename__ = "job_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(128))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending → running → done | failed (after the job's attempts); runners claim pending rows
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    run_after: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_job_outbox_status_run_after", "status", "run_after"),)

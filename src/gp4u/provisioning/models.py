"""The session table: one row per GPU machine a user asked for, written before any provider is
called (intent first) and kept forever as the record of what ran, where and what it cost."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from gp4u.db.base import Base, BigId, UtcDateTime


class GpuSession(Base):
    """Times: `created_at` (asked), `running_at` (agent checked in; billing starts),
    `expires_at` (end of the paid time), `hard_deadline` (destroyed whatever happens),
    `ending_at` (billing stops), `destroy_confirmed_at` (the provider confirmed it gone).
    Money: integer micro-USD; `charge_ids` are the wallet charges (holds) paying for it."""

    __tablename__ = "gpu_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))
    key_prefix: Mapped[str | None] = mapped_column(String(16))  # the API key that launched it
    state: Mapped[str] = mapped_column(String(16))
    deployment: Mapped[str] = mapped_column(String(16))
    client_token: Mapped[str] = mapped_column(String(40), unique=True)
    # What was asked for, and where it runs now (failover may move it to another offer).
    offer_id: Mapped[int] = mapped_column(BigInteger)
    provider: Mapped[str] = mapped_column(String(64))  # the adapter name
    offer_ref: Mapped[str] = mapped_column(String(255))
    gpu: Mapped[str] = mapped_column(String(64))
    gpu_count: Mapped[int] = mapped_column(Integer)
    instance_type: Mapped[str] = mapped_column(String(255))
    region: Mapped[str | None] = mapped_column(String(128))
    spot: Mapped[bool] = mapped_column(Boolean)
    price_per_hour: Mapped[int] = mapped_column(BigInteger)  # what the user is charged
    max_price_per_hour: Mapped[int] = mapped_column(BigInteger)  # failover never exceeds it
    paid_minutes: Mapped[int] = mapped_column(Integer)
    image: Mapped[str] = mapped_column(String(255))
    startup_command: Mapped[str | None] = mapped_column(Text)
    env_sealed: Mapped[str | None] = mapped_column(Text)  # encrypted: env values may be secrets
    env_keys: Mapped[list[str]] = mapped_column(JSON)
    ssh_public_key: Mapped[str | None] = mapped_column(Text)
    ssh_fingerprint: Mapped[str | None] = mapped_column(String(64))
    ssh_host: Mapped[str | None] = mapped_column(String(255))
    ssh_port: Mapped[int | None] = mapped_column(Integer)
    ssh_user: Mapped[str | None] = mapped_column(String(64))
    instance_id: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    candidates: Mapped[int] = mapped_column(Integer)  # matching offers when it was launched
    # A reservation's session runs on the booked machine only (no failover) and is paid by the
    # reservation, not by holds of its own.
    reservation_id: Mapped[int | None] = mapped_column(BigInteger)
    # A cluster member's session: paid from the cluster's hold (captured when it ends), no
    # failover (the cluster re-plans around a member that cannot launch).
    cluster_id: Mapped[int | None] = mapped_column(BigInteger)
    launch_lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The node agent: a one-time registration token, then a secret for heartbeats (digests).
    agent_token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    agent_secret_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    agent_registered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    agent_facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Money.
    charge_ids: Mapped[list[int]] = mapped_column(JSON)
    cost: Mapped[int | None] = mapped_column(BigInteger)  # captured when it ended
    # Times.
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    launched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # instance id recorded
    running_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    hard_deadline: Mapped[datetime] = mapped_column(UtcDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ending_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    billing_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    end_detail: Mapped[str | None] = mapped_column(Text)
    exit_code: Mapped[int | None] = mapped_column(Integer)  # the workload's, when it reported done
    # Verified destruction.
    destroy_attempts: Mapped[int] = mapped_column(Integer)
    next_destroy_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    destroy_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    needs_attention: Mapped[bool] = mapped_column(Boolean, server_default=false())
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_gpu_sessions_owner", "owner", "id"),
        Index("ix_gpu_sessions_state", "state", "provider"),
        Index("ix_gpu_sessions_cluster", "cluster_id"),
    )

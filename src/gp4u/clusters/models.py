"""The cluster tables: a job's plan made real. A cluster holds the plan's estimate once, then runs
one session per planned machine (a member); members that cannot launch or are lost are replaced
by re-planning the rest of the work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from gp4u.db.base import Base, BigId, UtcDateTime


class Cluster(Base):
    """Compute in useful PFLOP-hours; money in integer micro-USD. `charge_ids` are the open
    wallet charges (holds) still paying for the members, oldest first; `held` is everything
    ever held for it, `captured` what members have cost so far. `host_pool` is what host-owned
    members have cost and their owners are not paid yet: the pool is split among them by
    contribution when the cluster ends. `requirement` is the request as planned (the API's plan
    fields), `plan` the plan it was created with."""

    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))
    key_prefix: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(16))
    requirement: Mapped[dict[str, Any]] = mapped_column(JSON)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    pflop_hours: Mapped[float] = mapped_column(Float)
    precision: Mapped[str] = mapped_column(String(8))
    deadline_at: Mapped[datetime] = mapped_column(UtcDateTime)
    machine_hours_cap: Mapped[float] = mapped_column(Float)  # each member's session lifetime
    budget: Mapped[int | None] = mapped_column(BigInteger)
    estimate: Mapped[int] = mapped_column(BigInteger)  # the plan's cost, held at creation
    charge_ids: Mapped[list[int]] = mapped_column(JSON)
    held: Mapped[int] = mapped_column(BigInteger)
    captured: Mapped[int] = mapped_column(BigInteger)
    host_pool: Mapped[int] = mapped_column(BigInteger, server_default="0")
    excluded_offers: Mapped[list[int]] = mapped_column(JSON)  # the user's, and those that failed
    replans: Mapped[int] = mapped_column(Integer)
    pending_replan: Mapped[bool] = mapped_column(Boolean, server_default=false())
    image: Mapped[str | None] = mapped_column(String(255))
    startup_command: Mapped[str | None] = mapped_column(Text)
    env_sealed: Mapped[str | None] = mapped_column(Text)  # encrypted: env values may be secrets
    env_keys: Mapped[list[str]] = mapped_column(JSON)
    ssh_public_key: Mapped[str | None] = mapped_column(Text)
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # what happened, for its owner
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ending_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    end_detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_clusters_owner", "owner", "id"),
        Index("ix_clusters_state", "state"),
    )


class ClusterMember(Base):
    """One planned machine: an instance of an offer for `minutes` at `price_per_hour`, run as
    one session. `round` 0 is the plan the cluster was created with, each re-plan adds one.
    `pflops` is its useful throughput (before the scaling penalty); `cost` is what its session
    cost, once settled (`settled_at`). A host-owned member (`host`: the machine's owner) runs
    on time its cluster booked as reservation `reservation_id`; its owner is paid `host_paid`
    from the cluster's host pool (of which `host_fee` went to the platform)."""

    __tablename__ = "cluster_members"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id"))
    round: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    offer_id: Mapped[int] = mapped_column(BigInteger)
    provider: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(255))
    gpu: Mapped[str] = mapped_column(String(64))
    gpu_count: Mapped[int] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(128))
    spot: Mapped[bool] = mapped_column(Boolean)
    price_per_hour: Mapped[int] = mapped_column(BigInteger)
    minutes: Mapped[int] = mapped_column(Integer)
    pflops: Mapped[float] = mapped_column(Float)
    session_id: Mapped[int | None] = mapped_column(BigInteger)
    cost: Mapped[int | None] = mapped_column(BigInteger)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failure: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(64))
    reservation_id: Mapped[int | None] = mapped_column(BigInteger)
    host_paid: Mapped[int | None] = mapped_column(BigInteger)
    host_fee: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_cluster_members_cluster", "cluster_id", "id"),)

"""Host machines (a GPU owner's listed machine), their blocked periods, and their daily uptime
as measured from the host agent's heartbeats."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gp4u.db.base import Base, BigId, UtcDateTime


class HostMachine(Base):
    """A machine as its owner listed it. GPUs are normalised like every offer's (`gpu`,
    `gpu_variant`, `gpu_memory_gb` per GPU); money is integer micro-USD per hour for the
    whole machine. Opening hours are weekly windows in the machine's time zone (none: always
    open). The host agent proves the machine exists: a one-time token, then a secret (digests)."""

    __tablename__ = "host_machines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))  # listed | paused | retired
    gpu: Mapped[str] = mapped_column(String(64))
    gpu_variant: Mapped[str | None] = mapped_column(String(32))
    gpu_memory_gb: Mapped[float | None] = mapped_column(Float)
    gpu_raw_name: Mapped[str] = mapped_column(String(128))
    gpu_count: Mapped[int] = mapped_column(Integer)
    vcpus: Mapped[float | None] = mapped_column(Float)
    memory_gb: Mapped[float | None] = mapped_column(Float)
    disk_gb: Mapped[float | None] = mapped_column(Float)
    inet_down_mbps: Mapped[float | None] = mapped_column(Float)
    inet_up_mbps: Mapped[float | None] = mapped_column(Float)
    region: Mapped[str | None] = mapped_column(String(128))
    country: Mapped[str | None] = mapped_column(String(2))
    price_per_hour: Mapped[int] = mapped_column(BigInteger)
    min_minutes: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    agent_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    agent_secret_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    agent_registered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    agent_facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    gpu_check: Mapped[str | None] = mapped_column(String(16))  # hosts.gpucheck verdict
    gpu_check_detail: Mapped[str | None] = mapped_column(Text)
    rentals_completed: Mapped[int] = mapped_column(Integer)
    rentals_failed: Mapped[int] = mapped_column(Integer)
    reliability: Mapped[float | None] = mapped_column(Float)  # last computed, fed to its offer
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_host_machines_owner", "owner", "id"),
        Index("ix_host_machines_status", "status"),
    )

    def online_at(self, now: datetime, offline_after_seconds: float) -> bool:
        """Its agent registered and was heard from within `offline_after_seconds`."""
        beat = self.last_heartbeat_at
        return (
            self.agent_secret_digest is not None
            and beat is not None
            and (now - beat).total_seconds() <= offline_after_seconds
        )


class MachineBlock(Base):
    """A one-off period in which the owner does not rent the machine out."""

    __tablename__ = "machine_blocks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("host_machines.id"))
    start_at: Mapped[datetime] = mapped_column(UtcDateTime)
    end_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_machine_blocks_machine", "machine_id", "start_at"),)


class MachineUptime(Base):
    """Seconds a machine's agent was heard from on one UTC day: the gap since the previous
    heartbeat counts when it is shorter than the agent timeout."""

    __tablename__ = "machine_uptime"

    machine_id: Mapped[int] = mapped_column(ForeignKey("host_machines.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    online_seconds: Mapped[float] = mapped_column(Float)


class MachineRun(Base):
    """A session's workload on a host machine, started by the machine's own host agent: the
    broker records it (pending), hands it out in a heartbeat answer (starting), and the agent
    reports it running and finally exited. `wanted` turns to "stop" when the session ends. The
    environment holds the session agent's one-time token, so it is kept sealed and dropped as
    soon as the agent reports the run started."""

    __tablename__ = "machine_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(12), unique=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("host_machines.id"))
    client_token: Mapped[str] = mapped_column(String(80), unique=True)
    label: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str | None] = mapped_column(String(64))
    command: Mapped[str | None] = mapped_column(Text)
    env_sealed: Mapped[str | None] = mapped_column(Text)
    wanted: Mapped[str] = mapped_column(String(8))  # run | stop
    state: Mapped[str] = mapped_column(String(12))  # providers.hosts.port.RunState
    exit_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    handed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_machine_runs_machine", "machine_id", "ended_at"),)

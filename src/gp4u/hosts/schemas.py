"""Request and response shapes of the hosts API: machines, their calendars, the host agent,
and the host dashboard. Prices are USD per hour for the whole machine."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from gp4u.web.schemas import RequestModel


class WindowIn(RequestModel):
    day: str | int = Field(description="mon…sun (or monday…sunday, or 0 = Monday … 6).")
    start: str = Field(description="HH:MM, local time of the machine.", examples=["09:00"])
    end: str = Field(description="HH:MM (24:00 for midnight).", examples=["17:00"])


class MachineTerms(RequestModel):
    """Fields shared by listing a machine and changing it."""

    name: str | None = Field(None, min_length=1, max_length=100)
    gpu_name: str | None = Field(
        None, min_length=2, max_length=128, description="e.g. RTX 4090, H100 SXM 80GB."
    )
    gpu_count: int | None = Field(None, ge=1, le=64)
    gpu_memory_gb: float | None = Field(None, gt=0, le=1024, description="Per GPU.")
    vcpus: float | None = Field(None, gt=0, le=4096)
    memory_gb: float | None = Field(None, gt=0, le=65536)
    disk_gb: float | None = Field(None, gt=0, le=10_000_000)
    inet_down_mbps: float | None = Field(None, gt=0, le=1_000_000)
    inet_up_mbps: float | None = Field(None, gt=0, le=1_000_000)
    region: str | None = Field(None, max_length=128)
    country: str | None = Field(None, pattern=r"^[A-Za-z]{2}$", description="ISO 3166 code.")
    price_per_hour: Decimal | None = Field(
        None, gt=0, le=10_000, max_digits=10, decimal_places=4, description="USD, whole machine."
    )
    min_hours: float | None = Field(None, gt=0, le=24 * 31, description="Shortest booking.")
    timezone: str | None = Field(None, max_length=64, description="IANA zone of the hours.")
    windows: list[WindowIn] | None = Field(
        None,
        max_length=70,
        description="Weekly opening hours in the machine's time zone; empty: always open.",
    )


class MachineIn(MachineTerms):
    name: str = Field(min_length=1, max_length=100)
    gpu_name: str = Field(min_length=2, max_length=128, description="e.g. RTX 4090.")
    gpu_count: int = Field(ge=1, le=64)
    price_per_hour: Decimal = Field(
        gt=0, le=10_000, max_digits=10, decimal_places=4, description="USD, whole machine."
    )


class MachineChangeIn(MachineTerms):
    status: Literal["listed", "paused", "retired"] | None = Field(
        None, description="paused: no new bookings; retired: off the market for good."
    )


class MeasuredOut(BaseModel):
    """The GPUs' throughput the machine's agent measured (a timed dense matrix multiply)."""

    tflops: dict[str, float] | None = Field(
        description="TFLOPS of the listed GPUs by precision (bf16, fp16, fp32), as published on "
        "the machine's offer; the cluster planner plans the machine at this speed when it is "
        "below what a healthy GPU of its kind measures."
    )
    measured_at: str | None = Field(description="When the agent measured (ISO 8601, its clock).")
    method: str | None = Field(description="How it was measured, e.g. `torch-cuda gemm 8192`.")
    note: str | None = Field(description="Why there are no figures, when there are none.")


class MachineAgentOut(BaseModel):
    online: bool
    registered_at: datetime | None
    last_heartbeat_at: datetime | None
    gpu_check: str | None = Field(description="ok, mismatch or no_gpus_seen.")
    gpu_check_detail: str | None
    awaiting_registration: bool = Field(description="A one-time token is waiting to be used.")
    throughput: MeasuredOut


class MachineOut(BaseModel):
    id: int
    name: str
    status: str
    gpu: str
    gpu_variant: str | None
    gpu_memory_gb: float | None
    gpu_count: int
    gpu_raw_name: str
    vcpus: float | None
    memory_gb: float | None
    disk_gb: float | None
    inet_down_mbps: float | None
    inet_up_mbps: float | None
    region: str | None
    country: str | None
    price_per_hour: float
    min_hours: float
    timezone: str
    windows: list[dict[str, Any]]
    hours: str = Field(description='e.g. "Mon-Fri 09:00-17:00 (Europe/Berlin)".')
    agent: MachineAgentOut
    bookable: bool
    not_bookable_reason: str | None
    reliability: float | None = Field(description="Uptime × completed-rental share (0-1).")
    rentals_completed: int
    rentals_failed: int
    created_at: datetime
    updated_at: datetime


class MachineCreatedOut(MachineOut):
    agent_token: str = Field(
        description="Run `gp4u agent host --token …` on the machine: shown this once."
    )


class MachinesOut(BaseModel):
    items: list[MachineOut]


class AgentTokenOut(BaseModel):
    machine_id: int
    agent_token: str = Field(description="A new one-time token: shown this once.")


class BlockIn(RequestModel):
    start: datetime
    end: datetime
    reason: str | None = Field(None, max_length=200)


class BlockOut(BaseModel):
    id: int
    start: datetime
    end: datetime
    reason: str | None


class SlotOut(BaseModel):
    start: datetime
    end: datetime


class AvailabilityOut(BaseModel):
    machine_id: int
    from_: datetime = Field(alias="from")
    to: datetime
    granularity_minutes: int
    bookable: bool
    not_bookable_reason: str | None
    min_hours: float
    price_per_hour: float
    hours: str
    free: list[SlotOut]


class SegmentOut(BaseModel):
    start: datetime
    end: datetime
    status: Literal["free", "booked", "blocked", "closed"]
    reservation_id: int | None = Field(description="Shown to the machine's owner and renter.")


class DayOut(BaseModel):
    date: date
    segments: list[SegmentOut]


class CalendarOut(BaseModel):
    machine_id: int
    tz: str
    days: list[DayOut]


class HostAgentRegisterIn(RequestModel):
    token: str = Field(min_length=16, max_length=200)
    facts: dict[str, Any] | None = None


class HostAgentRegisteredOut(BaseModel):
    machine_id: int
    agent_secret: str = Field(description="Authenticates the agent's heartbeats from now on.")
    heartbeat_seconds: float
    gpu_check: str | None
    gpu_check_detail: str | None


class RunReportIn(RequestModel):
    id: str = Field(pattern=r"^[0-9a-f]{12}$")
    state: Literal["running", "exited"]
    exit_code: int | None = None


class HostAgentBeatIn(RequestModel):
    facts: dict[str, Any] | None = None
    runs: list[RunReportIn] | None = Field(
        None,
        max_length=100,
        description="Every run the agent has (sessions' workloads on this machine); omitted by "
        "agents that do not run sessions, which then get none.",
    )


class RunOrderOut(BaseModel):
    id: str
    action: Literal["run", "stop"]
    command: str | None = Field(description="The renter's startup command.")
    env: dict[str, str] | None = Field(
        description="The workload's environment (with the session agent's one-time token), "
        "sent until the agent reports the run started."
    )


class HostAgentBeatOut(BaseModel):
    machine_id: int
    status: str
    action: Literal["continue", "stop"]
    heartbeat_seconds: float
    runs: list[RunOrderOut] = Field(
        description="The runs the agent should have; it stops and forgets any other."
    )


class PayoutIn(RequestModel):
    amount: Decimal = Field(gt=0, le=1_000_000, max_digits=12, decimal_places=2)
    rail: str = Field(min_length=1, max_length=32)
    destination: str = Field(min_length=1, max_length=200, description="The rail's account.")


class MachineEarningsOut(BaseModel):
    gross: float = Field(description="Paid by renters for time on this machine.")
    platform_fee: float
    net: float = Field(description="Gross less the platform fee: what the machine earned.")
    pending: float = Field(
        description="Held from renters for its bookings not yet run (before the platform fee)."
    )


class MachineUseOut(BaseModel):
    machine_id: int
    name: str
    status: str
    online: bool
    agent: MachineAgentOut
    price_per_hour: float = Field(description="USD per hour, whole machine.")
    gpu_summary: str = Field(description='e.g. "2 × RTX 4090".')
    bookable: bool
    not_bookable_reason: str | None
    upcoming_bookings: int = Field(description="Bookings to come or running now.")
    earnings: MachineEarningsOut
    utilisation_30d: float | None = Field(
        description="Booked share of the machine's open hours over the last 30 days."
    )
    uptime_30d: float | None
    reliability: float | None


class BookingOut(BaseModel):
    reservation_id: int
    machine_id: int
    state: str
    start: datetime
    end: datetime
    price_per_hour: float


class EarningsOut(BaseModel):
    gross: float = Field(description="Paid by renters for time on your machines.")
    platform_fee: float
    net: float = Field(description="Gross less the platform fee: what you earned.")
    pending: float = Field(
        description="Held from renters for bookings not yet run (before the platform fee): "
        "earned as the booked time passes."
    )
    available: float = Field(description="Earned and not yet paid out.")
    paid_out: float = Field(description="Sent to your account (settled payouts).")


class BlocksOut(BaseModel):
    items: list[BlockOut]


class DashboardOut(BaseModel):
    machines: list[MachineUseOut]
    upcoming: list[BookingOut]
    earnings: EarningsOut
    payouts: list[dict[str, Any]] = Field(description="Your latest payouts.")

"""Request and response shapes of the clusters API. Money in USD, compute in useful PFLOP-hours
(the FLOPs the job performs, not the GPUs' peak), durations in hours from the plan's start."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from gp4u.clusters.requirements import (
    DEFAULT_MAX_MACHINES,
    LIMIT_BUDGET_MICROS,
    LIMIT_DEADLINE_HOURS,
    LIMIT_MAX_MACHINES,
    LIMIT_PFLOP_HOURS,
    LIMIT_VRAM_GB,
    Placement,
)
from gp4u.db.base import MAX_ID
from gp4u.provisioning.schemas import EnvName, EnvValue
from gp4u.web.schemas import RequestModel

PrecisionIn = Literal["bf16", "fp16", "fp32"]


class ComputeIn(RequestModel):
    pflop_hours: float | None = Field(
        None,
        gt=0,
        le=LIMIT_PFLOP_HOURS,
        description="Useful PFLOP-hours the job performs (e.g. 6 x params x tokens).",
    )
    gpu_hours: float | None = Field(
        None, gt=0, le=1e9, description="Or: GPU-hours of `reference_gpu` (at its efficiency)."
    )
    reference_gpu: str = Field("H100", max_length=40, description="GPU family of `gpu_hours`.")
    precision: PrecisionIn = Field("bf16", description="Arithmetic the job runs in.")

    @model_validator(mode="after")
    def _one_amount(self) -> ComputeIn:
        if (self.pflop_hours is None) == (self.gpu_hours is None):
            raise ValueError("give exactly one of pflop_hours and gpu_hours")
        return self


class JobIn(RequestModel):
    """What the job needs (shared by the cost simulator and clusters)."""

    compute: ComputeIn
    deadline_hours: float | None = Field(
        None, gt=0, le=LIMIT_DEADLINE_HOURS, description="Hours from now the job must be done by."
    )
    deadline: datetime | None = Field(
        None, description="Or: the time it must be done by (UTC when it has no zone)."
    )
    min_vram_gb: float = Field(0, ge=0, le=LIMIT_VRAM_GB, description="Memory each GPU needs, GB.")
    budget_usd: float | None = Field(
        None, gt=0, le=LIMIT_BUDGET_MICROS / 1e6, description="Most the job may cost."
    )
    spot_allowed: bool = Field(False, description="Interruptible instances are acceptable.")
    min_reliability: float | None = Field(
        None, ge=0, le=1, description="Only offers whose provider states at least this (0-1)."
    )
    placement: Placement = Field(
        Placement.ANY,
        description="any; same_provider; same_region; single_machine (NVLink-bound jobs).",
    )
    max_machines: int = Field(DEFAULT_MAX_MACHINES, ge=1, le=LIMIT_MAX_MACHINES)
    min_gpus_per_machine: int = Field(1, ge=1, le=64)
    sustained: bool = Field(
        False, description="Serving: every member runs until the deadline (capacity, not work)."
    )
    exclude_offers: list[int] = Field(
        default_factory=list, max_length=1000, description="Offer ids the plan must not use."
    )

    @model_validator(mode="after")
    def _one_deadline(self) -> JobIn:
        if self.deadline is not None and self.deadline.tzinfo is None:
            self.deadline = self.deadline.replace(tzinfo=UTC)
        if (self.deadline_hours is None) == (self.deadline is None):
            raise ValueError("give exactly one of deadline_hours and deadline")
        if any(not 1 <= i <= MAX_ID for i in self.exclude_offers):
            raise ValueError("exclude_offers holds offer ids")
        return self


class PlanIn(JobIn):
    export: Literal["skypilot", "terraform"] | None = Field(
        None, description="Also write the least-cost plan as SkyPilot or Terraform-style YAML."
    )


class ClusterIn(JobIn):
    name: str | None = Field(None, max_length=80, description="Yours, to recognise it by.")
    image: str | None = Field(None, max_length=255, description="Every member's image.")
    startup_command: str | None = Field(
        None, max_length=16_000, description="Run on every member once it is up."
    )
    env: dict[EnvName, EnvValue] = Field(
        default_factory=dict,
        max_length=64,
        description="Environment variables for every member. Values are stored encrypted and "
        "never shown again; names starting with GP4U_AGENT_ are reserved.",
    )
    ssh_public_key: str | None = Field(
        None,
        max_length=4096,
        description='Your OpenSSH public key for every member, or "generate" for a new key pair '
        "whose private key is returned once, in this response only.",
    )


class MemberOut(BaseModel):
    offer_id: int
    label: str = Field(description="GPUs, provider and region of the offer.")
    instances: int
    gpus_each: int
    hours_each: float
    price_per_hour: float = Field(description="USD per instance-hour.")
    pflops_each: float = Field(description="Useful PFLOPS of one instance.")
    measured: bool = Field(
        False,
        description="True when pflops_each is the machine's own measured speed (its node agent's "
        "benchmark), below what its GPUs' spec would give.",
    )
    cost: float = Field(description="USD for all its instances.")


class PlanOut(BaseModel):
    method: Literal["exact", "greedy"]
    cost: float = Field(description="USD.")
    within_budget: bool
    machines: int
    gpus: int
    scaling: float = Field(description="Share of the summed throughput delivered across machines.")
    delivered_pflop_hours: float
    finish_hours: float
    members: list[MemberOut]


class ChangeOut(BaseModel):
    constraint: str
    description: str
    changes: dict[str, Any] = Field(description="The request fields that change, and to what.")
    feasible: bool
    cost: float | None = Field(description="USD of the plan with this change.")
    saves: float | None = Field(description="USD less than the plan as asked.")
    finish_hours: float | None


class ExplanationOut(BaseModel):
    reasons: list[str]
    binding: str = Field(description="The constraint that sets the price (or `compute`).")
    binding_detail: str
    relaxations: list[ChangeOut] = Field(description="Changes that would lower the price.")


class InfeasibilityOut(BaseModel):
    constraint: str = Field(description="The constraint that leaves the job without a plan.")
    detail: str
    alternatives: list[ChangeOut] = Field(description="Nearest feasible alternatives first.")


class MarketOut(BaseModel):
    offers: int = Field(description="Available offers looked at.")
    eligible: int = Field(description="Offers meeting the per-offer constraints.")
    candidates: int = Field(description="Left for the solver after dropping dominated offers.")
    removed: dict[str, int] = Field(description="Offers left out, by the first constraint failed.")


class RequirementOut(BaseModel):
    pflop_hours: float
    precision: PrecisionIn
    described_as: str
    deadline_hours: float
    min_vram_gb: float
    budget: float | None
    spot_allowed: bool
    min_reliability: float | None
    placement: Placement
    max_machines: int
    min_gpus_per_machine: int
    sustained: bool


class PlanningOut(BaseModel):
    status: Literal["planned", "infeasible", "timeout", "error"]
    optimal: bool = Field(description="The least-cost plan is proven optimal (to 0.01 %).")
    requirement: RequirementOut
    exact: PlanOut | None = Field(description="The least-cost plan (mixed-integer program).")
    greedy: PlanOut | None = Field(description="The greedy plan: by G-Score until the job fits.")
    greedy_gap_pct: float | None = Field(description="How much more greedy costs, %.")
    market: MarketOut
    explanation: ExplanationOut | None
    infeasibility: InfeasibilityOut | None
    assumptions: list[str]
    export: str | None = Field(None, description="The plan as YAML, when asked for.")


ClusterStateIn = Literal[
    "planned", "starting", "running", "ending", "completed", "failed", "stopped"
]


class ClusterProgressOut(BaseModel):
    required_pflop_hours: float
    delivered_pflop_hours: float = Field(description="So far, after the scaling penalty.")
    share_delivered: float = Field(description="Delivered / required (0-1).")
    machines_running: int


class ClusterMoneyOut(BaseModel):
    estimate: float = Field(description="USD held when the cluster was created: the plan's cost.")
    held: float = Field(description="USD still held for members.")
    cost_so_far: float = Field(description="USD: paid for ended members, accrued for running ones.")
    captured: float = Field(
        description="USD paid so far for members that ended (host-owned ones once their hosts "
        "are paid; until then see owed_to_hosts)."
    )
    owed_to_hosts: float = Field(
        description="USD that host-owned members that ended have cost, still held: their owners "
        "are paid it, split by contribution, when the cluster ends."
    )


class ClusterMemberOut(BaseModel):
    id: int
    round: int = Field(description="0: the plan it was created with; n: the n-th re-plan.")
    state: Literal["planned", "started", "done", "failed", "cancelled"]
    offer_id: int
    provider: str
    label: str
    gpu: str
    gpu_count: int
    region: str | None
    spot: bool
    price_per_hour: float
    planned_hours: float
    pflops: float = Field(description="Useful PFLOPS of the machine.")
    session_id: int | None = Field(description="Its session (see /api/v1/sessions).")
    session_state: str | None
    running_at: datetime | None
    ran_hours: float
    delivered_pflop_hours: float
    contribution: float = Field(description="Its share of the delivered compute (shares sum to 1).")
    cost_so_far: float
    failure: str | None = Field(description="Why it could not launch or was lost.")
    host_owned: bool = Field(
        description="Runs on a GP4U host's machine, on time the cluster booked as a reservation."
    )
    reservation_id: int | None = Field(description="The booked time of a host-owned member.")
    paid_to_host: float | None = Field(
        description="USD of the host pool paid to this member's host (its contribution's share), "
        "once the cluster has ended; the platform fee is taken from it."
    )


class ClusterEventOut(BaseModel):
    at: datetime
    what: str


class ClusterRequirementOut(RequirementOut):
    deadline_fixed: bool = Field(
        description="The deadline was a date; otherwise its hours count from the start."
    )


class ClusterOut(BaseModel):
    id: int
    name: str | None
    state: ClusterStateIn
    requirement: ClusterRequirementOut
    deadline_at: datetime = Field(description="Set again at the start unless it was a date.")
    machine_hours_cap: float = Field(
        description="Each member's session lifetime (hours): members are planned to run this "
        "less the time an agent may take to check in."
    )
    plan: PlanOut = Field(description="The plan the cluster was created with.")
    progress: ClusterProgressOut
    money: ClusterMoneyOut
    members: list[ClusterMemberOut]
    replans: int
    excluded_offers: list[int] = Field(
        description="Offers a re-plan never uses: those you excluded and those that failed it."
    )
    image: str | None
    env_keys: list[str]
    ssh_fingerprint: str | None = Field(description="Of the public key every member accepts.")
    events: list[ClusterEventOut]
    created_at: datetime
    started_at: datetime | None
    ending_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    end_detail: str | None


class ClusterCreatedOut(ClusterOut):
    ssh_private_key: str | None = Field(
        None, description="Only when you asked to generate a key pair: shown once."
    )


class ClustersOut(BaseModel):
    items: list[ClusterOut]
    next_before: int | None

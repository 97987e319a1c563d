"""What a multi-GPU job needs, as the planner reads it (pure).

Compute is always held as *useful* PFLOP-hours at one precision: the FLOPs the job itself
performs (for training, about 6 x parameters x tokens), not the GPUs' peak. The throughput model
(`throughput.py`) turns an offer's peak into useful FLOPs with a per-generation efficiency, so
"1,000 H100 GPU-hours" and "5,000 PFLOP-hours of BF16" both become one number the planner can
compare with every offer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Literal

Precision = Literal["bf16", "fp16", "fp32"]
PRECISIONS: tuple[Precision, ...] = ("bf16", "fp16", "fp32")

# A cap on machines when the user names none: large enough for any job a broker rents by the
# hour, small enough that the dominated-offer pruning stays sharp (it keeps this many deep).
DEFAULT_MAX_MACHINES = 32
LIMIT_MAX_MACHINES = 512
# The largest job, horizon and budget a request may name (the API's bounds, enforced here too so
# every front door shares them).
LIMIT_PFLOP_HOURS = 1e9
LIMIT_DEADLINE_HOURS = 24 * 366
LIMIT_BUDGET_MICROS = 10**15  # $1e9
LIMIT_VRAM_GB = 4096.0


class Placement(StrEnum):
    """Where the members may be: anywhere; all with one provider; all in one provider region;
    or one machine (NVLink-bound jobs that cannot cross a network)."""

    ANY = "any"
    SAME_PROVIDER = "same_provider"
    SAME_REGION = "same_region"
    SINGLE_MACHINE = "single_machine"


@dataclass(frozen=True)
class Compute:
    """Useful compute the job needs, and how the user put it (for explanations)."""

    pflop_hours: float
    precision: Precision = "bf16"
    described_as: str = ""

    def __post_init__(self) -> None:
        if not 0 < self.pflop_hours <= LIMIT_PFLOP_HOURS:
            raise ValueError(
                f"the compute must be above 0 and at most {LIMIT_PFLOP_HOURS:g} PFLOP-hours"
            )


@dataclass(frozen=True)
class JobRequirement:
    """Everything the planner honours. `deadline_hours` counts from the start of the plan.

    `sustained` is for serving: the capacity must run for the whole period (every member runs
    until the deadline) rather than deliver a total amount of work by then. `exclude_offers`
    lists offer ids the plan must not use (a member that failed to launch)."""

    compute: Compute
    deadline_hours: float
    min_vram_gb: float = 0.0
    budget_micros: int | None = None
    spot_allowed: bool = False
    min_reliability: float | None = None
    placement: Placement = Placement.ANY
    max_machines: int = DEFAULT_MAX_MACHINES
    min_gpus_per_machine: int = 1
    sustained: bool = False
    exclude_offers: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not 0 < self.deadline_hours <= LIMIT_DEADLINE_HOURS:
            raise ValueError(
                f"the deadline must be in the future and within {LIMIT_DEADLINE_HOURS} hours"
            )
        if not 0 <= self.min_vram_gb <= LIMIT_VRAM_GB:
            raise ValueError(f"min_vram_gb must be between 0 and {LIMIT_VRAM_GB:g}")
        if self.budget_micros is not None and not 0 < self.budget_micros <= LIMIT_BUDGET_MICROS:
            raise ValueError("the budget must be positive and at most $1,000,000,000")
        if self.min_reliability is not None and not 0 <= self.min_reliability <= 1:
            raise ValueError("min_reliability is a fraction between 0 and 1")
        if not 1 <= self.max_machines <= LIMIT_MAX_MACHINES:
            raise ValueError(f"max_machines must be between 1 and {LIMIT_MAX_MACHINES}")
        if self.min_gpus_per_machine < 1:
            raise ValueError("min_gpus_per_machine must be at least 1")

    @property
    def machine_cap(self) -> int:
        """The most machines a plan may use, after placement."""
        return 1 if self.placement is Placement.SINGLE_MACHINE else self.max_machines

    def but(self, **changes: object) -> JobRequirement:
        """A copy with some fields changed (relaxations, re-plans)."""
        return replace(self, **changes)  # type: ignore[arg-type]

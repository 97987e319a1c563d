"""A parsed request and its workload estimate → the planner's `JobRequirement` (pure).

Compute: an amount the user stated ("5,000 PFLOP-hours", "1,000 H100 GPU-hours") wins over the
workload's estimate, which then still sets memory and GPUs per machine. Memory per GPU is the
larger of what was asked and what the estimate needs; GPUs per machine likewise. A job that must
be sharded over more machines than the request allows is refused. A serving workload runs for
its period: the deadline, with `sustained` set. Money becomes integer micro-USD here, once.
Anything the request leaves out takes the caller's defaults.
"""

from __future__ import annotations

from gp4u.clusters.requirements import (
    DEFAULT_MAX_MACHINES,
    Compute,
    JobRequirement,
    Placement,
    Precision,
)
from gp4u.clusters.throughput import compute_from_gpu_hours
from gp4u.kit.money import usd_to_micros
from gp4u.wizard.parser import ParsedRequest
from gp4u.wizard.workloads import WorkloadEstimate, estimate


def to_requirement(
    parsed: ParsedRequest,
    *,
    default_precision: Precision = "bf16",
    default_deadline_hours: float | None = None,
    default_spot_allowed: bool = False,
    default_max_machines: int = DEFAULT_MAX_MACHINES,
) -> tuple[JobRequirement, WorkloadEstimate | None]:
    """The requirement to plan, and the workload estimate behind it (None without a workload).

    Raises ValueError naming what is missing when there is no compute or no deadline."""
    workload_estimate = estimate(parsed.workload) if parsed.workload is not None else None
    compute = _compute(parsed, workload_estimate, default_precision)
    deadline = _deadline(parsed, workload_estimate, default_deadline_hours)
    placement = parsed.placement or Placement.ANY
    max_machines = parsed.max_machines or default_max_machines
    if workload_estimate is not None:
        _check_machine_cap(workload_estimate, placement, max_machines)
    requirement = JobRequirement(
        compute=compute,
        deadline_hours=deadline,
        min_vram_gb=max(
            parsed.min_vram_gb or 0.0,
            workload_estimate.min_vram_gb if workload_estimate else 0.0,
        ),
        budget_micros=usd_to_micros(parsed.budget_usd) if parsed.budget_usd is not None else None,
        spot_allowed=(
            parsed.spot_allowed if parsed.spot_allowed is not None else default_spot_allowed
        ),
        min_reliability=parsed.min_reliability,
        placement=placement,
        max_machines=max_machines,
        min_gpus_per_machine=max(
            parsed.gpus_per_machine or 1,
            workload_estimate.min_gpus_per_machine if workload_estimate else 1,
        ),
        sustained=workload_estimate.sustained if workload_estimate else False,
    )
    return requirement, workload_estimate


def _compute(
    parsed: ParsedRequest, workload_estimate: WorkloadEstimate | None, default: Precision
) -> Compute:
    precision = parsed.precision or default
    if parsed.pflop_hours is not None:
        return Compute(
            pflop_hours=parsed.pflop_hours,
            precision=precision,
            described_as=f"{parsed.pflop_hours:,.6g} PFLOP-hours of {precision.upper()}, as stated",
        )
    if parsed.gpu_hours is not None:
        if parsed.reference_gpu is None:
            raise ValueError(
                "the GPU the GPU-hours are counted on is missing, e.g. '1,000 H100 GPU-hours'"
            )
        return compute_from_gpu_hours(parsed.gpu_hours, parsed.reference_gpu, precision)
    if workload_estimate is not None:
        return workload_estimate.compute
    raise ValueError(
        "no compute: describe a workload (e.g. 'fine-tune llama 3 70B with LoRA on 200M "
        "tokens') or state an amount ('5,000 PFLOP-hours', '1,000 H100 GPU-hours')"
        + _still_missing(parsed)
    )


def _deadline(
    parsed: ParsedRequest, workload_estimate: WorkloadEstimate | None, default: float | None
) -> float:
    if workload_estimate is not None and workload_estimate.duration_hours is not None:
        return workload_estimate.duration_hours
    if parsed.deadline_hours is not None:
        return parsed.deadline_hours
    if default is not None:
        return default
    raise ValueError(
        "no deadline: say when it must be done, e.g. 'in 2 days', 'by Friday', or for serving "
        "how long, e.g. 'for 3 days'" + _still_missing(parsed)
    )


def _check_machine_cap(
    workload_estimate: WorkloadEstimate, placement: Placement, max_machines: int
) -> None:
    """A job whose state must be sharded over several machines cannot run under a lower cap."""
    cap = 1 if placement is Placement.SINGLE_MACHINE else max_machines
    if workload_estimate.min_machines > cap:
        raise ValueError(
            f"the job's memory needs at least {workload_estimate.min_machines} machines of "
            f"{workload_estimate.min_gpus_per_machine} GPUs, but at most {cap} are allowed"
        )


def _still_missing(parsed: ParsedRequest) -> str:
    return f" (also missing: {'; '.join(parsed.missing)})" if parsed.missing else ""

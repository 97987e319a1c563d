"""What a plan is: how many instances of which offers, for how long, at what cost (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from gp4u.clusters.planner.market import PlanMarket
from gp4u.clusters.requirements import JobRequirement
from gp4u.clusters.throughput import scaling_factor

Method = Literal["exact", "greedy"]

# Hours below this are solver noise, not a rental.
HOURS_EPSILON = 1e-7


@dataclass(frozen=True)
class Member:
    """`instances` machines of one offer, each running `hours_each` hours."""

    row: int
    offer_id: int
    label: str
    provider: str
    region: str | None
    spot: bool
    gpu: str
    instances: int
    gpus_each: int
    hours_each: float
    price_micros: int  # per instance-hour
    pflops_each: float
    measured: bool  # pflops_each is the machine's measured speed, below its spec
    cost_micros: int

    @property
    def instance_hours(self) -> float:
        return self.instances * self.hours_each


@dataclass(frozen=True)
class Plan:
    """A complete plan. `delivered_pflop_hours` is after the scaling penalty."""

    method: Method
    members: tuple[Member, ...]
    machines: int
    gpus: int
    scaling: float
    cost_micros: int
    delivered_pflop_hours: float
    finish_hours: float

    def within_budget(self, req: JobRequirement) -> bool:
        return req.budget_micros is None or self.cost_micros <= req.budget_micros


def build_plan(
    method: Method,
    market: PlanMarket,
    req: JobRequirement,
    instances: npt.NDArray[np.int64],
    hours: npt.NDArray[np.float64],
    consolidate: bool = True,
) -> Plan:
    """A plan from instances and total instance-hours per market row.

    Rows without hours are dropped; with `consolidate`, each used row rents no more instances
    than its hours need (fewer machines never lower the scaling factor); and the hours are
    trimmed to deliver exactly the compute asked for (unless the job is sustained: then every
    member runs to the deadline)."""
    used = np.flatnonzero((hours > HOURS_EPSILON) & (instances > 0))
    hours = np.where(np.isin(np.arange(hours.size), used), hours, 0.0)
    counts = instances[used].astype(np.int64)
    if req.sustained:
        hours[used] = counts * req.deadline_hours
    elif consolidate:
        needed = np.ceil(hours[used] / req.deadline_hours - 1e-9).astype(np.int64)
        counts = np.maximum(1, np.minimum(counts, needed))
    machines = int(counts.sum())
    scaling = scaling_factor(machines)
    delivered = scaling * float(np.dot(market.pflops[used], hours[used]))
    if not req.sustained and delivered > req.compute.pflop_hours:
        hours = hours * (req.compute.pflop_hours / delivered)
        delivered = req.compute.pflop_hours
    members = []
    for row, count in zip(used.tolist(), counts.tolist(), strict=True):
        price = int(market.price_micros[row])
        members.append(
            Member(
                row=row,
                offer_id=int(market.ids[row]),
                label=market.label(row),
                provider=str(market.provider_names[market.provider[row]]),
                region=str(market.region_names[market.region[row]])
                if market.region[row] >= 0
                else None,
                spot=bool(market.spot[row]),
                gpu=str(market.gpu[row]),
                instances=count,
                gpus_each=int(market.gpu_count[row]),
                hours_each=float(hours[row]) / count,
                price_micros=price,
                pflops_each=float(market.pflops[row]),
                measured=bool(market.measured[row]),
                cost_micros=math.ceil(price * float(hours[row]) - 1e-6),
            )
        )
    members.sort(key=lambda m: (-m.instances * m.pflops_each, m.offer_id))
    return Plan(
        method=method,
        members=tuple(members),
        machines=machines,
        gpus=int(np.dot(market.gpu_count[used], counts)) if used.size else 0,
        scaling=scaling,
        cost_micros=sum(m.cost_micros for m in members),
        delivered_pflop_hours=delivered,
        finish_hours=max((m.hours_each for m in members), default=0.0),
    )

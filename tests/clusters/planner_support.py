"""Random markets and requirements for the planner tests, and an independent checker."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from gp4u.clusters.planner.market import PlanMarket, eligibility, group_keys
from gp4u.clusters.planner.result import Plan
from gp4u.clusters.requirements import Compute, JobRequirement, Placement
from gp4u.clusters.throughput import scaling_factor

GPUS = [("H100", 80), ("A100", 80), ("A100", 40), ("RTX4090", 24), ("L40S", 48), ("V100", 16)]


@st.composite
def offer_records(
    draw: st.DrawFn, size: tuple[int, int] = (1, 5), most: int = 3
) -> list[dict[str, Any]]:
    count = draw(st.integers(*size))
    records = []
    for i in range(count):
        gpu, memory = draw(st.sampled_from(GPUS))
        gpus = draw(st.sampled_from([1, 2, 4, 8]))
        records.append(
            {
                "id": i + 1,
                "provider": draw(st.sampled_from(["p1", "p2", "p3"])),
                "region": draw(st.sampled_from(["r1", "r2", None])),
                "gpu": gpu,
                "gpu_memory_gb": memory,
                "gpu_count": gpus,
                "price_per_hour": gpus * draw(st.integers(100_000, 4_000_000)),
                "spot": draw(st.booleans()),
                "reliability": draw(st.sampled_from([None, 0.9, 0.97, 0.995])),
                "available_count": draw(st.integers(1, most)),
                "g_score": draw(st.floats(0, 100)),
            }
        )
    return records


@st.composite
def requirements(draw: st.DrawFn, most_machines: int = 6) -> JobRequirement:
    placement = draw(st.sampled_from(list(Placement)))
    cap = draw(st.integers(1, most_machines))
    return JobRequirement(
        compute=Compute(draw(st.floats(0.5, 150))),
        deadline_hours=draw(st.floats(1, 96)),
        min_vram_gb=draw(st.sampled_from([0, 0, 0, 24, 48, 80])),
        budget_micros=draw(st.one_of(st.none(), st.integers(1_000_000, 20_000_000_000))),
        spot_allowed=draw(st.sampled_from([True, True, False])),
        min_reliability=draw(st.sampled_from([None, None, None, 0.95, 0.99])),
        placement=placement,
        max_machines=cap,
        min_gpus_per_machine=draw(st.sampled_from([1, 1, 1, 2, 8])),
        sustained=draw(st.booleans()),
    )


def loaded(market: PlanMarket, req: JobRequirement, load: float) -> JobRequirement:
    """`req` asking for `load` times what the whole market could deliver by the deadline, so
    random cases are neither all trivial nor all impossible."""
    capacity = float(np.nansum(market.pflops * market.available)) * req.deadline_hours
    return req.but(compute=Compute(max(1e-3, load * capacity)))


def brute_force_cost(market: PlanMarket, req: JobRequirement) -> float | None:
    """The least cost in dollars by enumerating every instance count of every usable offer
    (hours: cheapest compute first, a fractional knapsack), None when nothing works."""
    rows = [int(r) for r in range(len(market)) if eligibility(market, req).mask[r]]
    groups = group_keys(market, req.placement)
    budget = (
        None
        if req.budget_micros is None
        else (req.budget_micros - min(len(rows), req.machine_cap)) / 1e6
    )
    best = None
    ranges = [range(int(market.available[r]) + 1) for r in rows]
    for counts in itertools.product(*ranges):
        machines = sum(counts)
        used = [(r, c) for r, c in zip(rows, counts, strict=True) if c]
        if not used or machines > req.machine_cap or len({int(groups[r]) for r, _ in used}) > 1:
            continue
        need = req.compute.pflop_hours / scaling_factor(machines)
        if req.sustained:
            delivered = sum(market.pflops[r] * c * req.deadline_hours for r, c in used)
            if delivered < need * (1 - 1e-9):
                continue
            cost = sum(market.price_micros[r] / 1e6 * c * req.deadline_hours for r, c in used)
        else:
            cost, left = 0.0, need
            for r, c in sorted(
                used, key=lambda rc: market.price_micros[rc[0]] / market.pflops[rc[0]]
            ):
                hours = min(c * req.deadline_hours, left / market.pflops[r])
                cost += hours * market.price_micros[r] / 1e6
                left -= hours * market.pflops[r]
            if left > need * 1e-9:
                continue
        if budget is not None and cost > budget * (1 + 1e-9):
            continue
        best = cost if best is None else min(best, cost)
    return best


def violations(market: PlanMarket, req: JobRequirement, plan: Plan) -> list[str]:
    """Every constraint the plan breaks, checked from the raw market columns."""
    found = []
    usable = eligibility(market, req).mask
    groups = group_keys(market, req.placement)
    for m in plan.members:
        r = m.row
        if not usable[r]:
            found.append(f"offer {m.offer_id} is not usable")
        if m.instances > market.available[r]:
            found.append(f"offer {m.offer_id}: {m.instances} > {market.available[r]} available")
        if m.hours_each > req.deadline_hours * (1 + 1e-9):
            found.append(f"offer {m.offer_id} runs past the deadline")
        if req.sustained and not math.isclose(m.hours_each, req.deadline_hours, rel_tol=1e-6):
            found.append(f"offer {m.offer_id} stops before the end of a sustained job")
        if abs(m.cost_micros - m.price_micros * m.hours_each * m.instances) > 1:
            found.append(f"offer {m.offer_id}: cost is not price x hours")
    machines = sum(m.instances for m in plan.members)
    if machines != plan.machines or machines > req.machine_cap:
        found.append(f"{machines} machines, cap {req.machine_cap}")
    if len({int(groups[m.row]) for m in plan.members}) > 1:
        found.append("members in more than one placement group")
    delivered = scaling_factor(machines) * sum(
        m.pflops_each * m.instances * m.hours_each for m in plan.members
    )
    if delivered < req.compute.pflop_hours * (1 - 1e-6):
        found.append(f"delivers {delivered} < {req.compute.pflop_hours}")
    if plan.cost_micros != sum(m.cost_micros for m in plan.members):
        found.append("cost is not the sum of the members")
    return found

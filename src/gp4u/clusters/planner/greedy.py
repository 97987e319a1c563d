"""The original design's greedy plan: rank by G-Score, take instances until the job fits (pure).

Offers are taken in G-Score order (then cheaper, then lower id), one instance at a time, until
the machines taken, running together until the deadline, deliver the compute after the scaling
penalty. All of them then run together for just as long as the compute needs (for a sustained
job: until the deadline). With a placement group, the groups are tried in the order of their
best offer. The budget is not consulted: the greedy plan says whether it keeps to it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from gp4u.clusters.planner.market import Ints, PlanMarket
from gp4u.clusters.planner.result import Plan, build_plan
from gp4u.clusters.requirements import JobRequirement
from gp4u.clusters.throughput import scaling_factor


def _take(
    market: PlanMarket, ordered: npt.NDArray[np.intp], req: JobRequirement
) -> npt.NDArray[np.int64] | None:
    """Instances per market row, or None when the group cannot do the job in time."""
    instances = np.zeros(len(market), dtype=np.int64)
    rate, machines = 0.0, 0
    needed_rate = req.compute.pflop_hours / req.deadline_hours
    for row in ordered.tolist():
        for _ in range(int(market.available[row])):
            if machines == req.machine_cap:
                return None
            instances[row] += 1
            machines += 1
            rate += float(market.pflops[row])
            if scaling_factor(machines) * rate >= needed_rate:
                return instances
    return None


def greedy_plan(
    market: PlanMarket, rows: npt.NDArray[np.intp], groups: Ints, req: JobRequirement
) -> Plan | None:
    """The greedy plan over eligible `rows`, or None when greedy cannot meet the deadline."""
    if rows.size == 0:
        return None
    ordered = rows[np.lexsort((market.ids[rows], market.price_micros[rows], -market.score[rows]))]
    row_groups = groups[ordered]
    _, first = np.unique(row_groups, return_index=True)
    for group in row_groups[np.sort(first)].tolist():
        instances = _take(market, ordered[row_groups == group], req)
        if instances is None:
            continue
        machines = int(instances.sum())
        taken = np.flatnonzero(instances)
        rate = scaling_factor(machines) * float(np.dot(market.pflops[taken], instances[taken]))
        duration = (
            req.deadline_hours
            if req.sustained
            else min(req.deadline_hours, req.compute.pflop_hours / rate)
        )
        return build_plan(
            "greedy",
            market,
            req,
            instances,
            (instances * duration).astype(np.float64),
            consolidate=False,
        )
    return None

"""Why a plan costs what it does, and why there is no plan (pure).

Both work by re-planning with one constraint changed: a relaxation that lowers the price says
which constraint binds and what loosening it is worth ("allowing spot saves $1,240"); for a
job with no plan, the change that first makes one possible is the nearest feasible alternative.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gp4u.clusters.planner.market import (
    Eligibility,
    PlanMarket,
    eligibility,
    filter_masks,
    group_keys,
)
from gp4u.clusters.planner.result import Plan
from gp4u.clusters.requirements import LIMIT_MAX_MACHINES, JobRequirement, Placement
from gp4u.clusters.throughput import band_limits

Solver = Callable[[JobRequirement], Plan | None]

DEADLINE_RELAXATION = 1.25
# A relaxation must save at least this share of the cost, and at least a cent, to count as
# binding.
MATERIAL_SAVING = 0.001
MAX_REASONS = 5


@dataclass(frozen=True)
class Change:
    """One constraint changed, and the plan it gives (cost None: still no plan)."""

    constraint: str
    description: str
    changes: dict[str, Any]
    cost_micros: int | None = None
    saves_micros: int | None = None
    finish_hours: float | None = None


@dataclass(frozen=True)
class Explanation:
    reasons: list[str]
    binding: str
    binding_detail: str
    relaxations: list[Change]


@dataclass(frozen=True)
class Infeasibility:
    constraint: str
    detail: str
    alternatives: list[Change]


def usd(micros: float) -> str:
    return f"${micros / 1e6:,.2f}"


def applied(req: JobRequirement, changes: dict[str, Any]) -> JobRequirement:
    """The requirement with a change's fields (JSON values) applied."""
    fields = dict(changes)
    if "placement" in fields:
        fields["placement"] = Placement(fields["placement"])
    if "budget_usd" in fields:
        budget = fields.pop("budget_usd")
        fields["budget_micros"] = None if budget is None else math.ceil(budget * 1e6)
    return req.but(**fields)


def _tried(req: JobRequirement, change: Change, solver: Solver, base: Plan | None) -> Change:
    try:
        changed = applied(req, change.changes)
    except ValueError:  # out of the requirement's bounds: not an alternative there is
        return change
    plan = solver(changed)
    if plan is None:
        return change
    saves = base.cost_micros - plan.cost_micros if base is not None else None
    return Change(
        change.constraint,
        change.description,
        change.changes,
        plan.cost_micros,
        saves,
        plan.finish_hours,
    )


def _loosenings(req: JobRequirement, machines_used: int | None) -> list[Change]:
    """Each constraint the user chose, loosened one step."""
    out = []
    if not req.spot_allowed:
        out.append(Change("spot", "allowing spot instances", {"spot_allowed": True}))
    longer = float(f"{req.deadline_hours * DEADLINE_RELAXATION:.3g}")
    if not req.sustained and longer > req.deadline_hours:
        out.append(
            Change(
                "deadline",
                f"a deadline of {longer:g} h instead of {req.deadline_hours:g} h",
                {"deadline_hours": longer},
            )
        )
    if req.placement is not Placement.ANY:
        out.append(
            Change(
                "placement",
                f"placing members anywhere instead of {req.placement.value.replace('_', ' ')}",
                {"placement": Placement.ANY.value},
            )
        )
    cap = req.machine_cap
    if (
        req.placement is not Placement.SINGLE_MACHINE
        and cap < LIMIT_MAX_MACHINES
        and (machines_used is None or machines_used >= cap)
    ):
        more = min(LIMIT_MAX_MACHINES, cap * 2)
        out.append(
            Change("machines", f"up to {more} machines instead of {cap}", {"max_machines": more})
        )
    if req.min_reliability:
        out.append(
            Change(
                "reliability",
                f"accepting any reliability instead of at least {req.min_reliability:.0%}",
                {"min_reliability": None},
            )
        )
    return out


# ---- explanations of a plan ----


def _reasons(market: PlanMarket, req: JobRequirement, plan: Plan, usable: Eligibility) -> list[str]:
    rows = np.flatnonzero(usable.mask)
    ratio = market.usd_per_pflop_hour()
    ranked = np.sort(ratio[rows])
    lines = [
        f"{plan.machines} machine(s), {plan.gpus} GPUs, deliver {plan.delivered_pflop_hours:,.1f}"
        f" useful PFLOP-hours ({req.compute.precision.upper()}) in {plan.finish_hours:,.1f} h"
        f" for {usd(plan.cost_micros)}, chosen from {usable.count} offers that meet the per-GPU"
        " constraints."
    ]
    for member in plan.members[:MAX_REASONS]:
        rank = int(np.searchsorted(ranked, ratio[member.row], side="left")) + 1
        lines.append(
            f"{member.label}: ${ratio[member.row]:,.2f} per useful PFLOP-hour, #{rank} of"
            f" {rows.size} by price for compute; {member.instances} of"
            f" {int(market.available[member.row])} available used, {member.hours_each:,.1f} h each."
        )
    if plan.scaling < 1:
        lines.append(
            f"Spreading over {plan.machines} machines costs {1 - plan.scaling:.1%} of throughput"
            " (scaling penalty), already included."
        )
    return lines


def _availability_binds(market: PlanMarket, plan: Plan, usable: Eligibility) -> str | None:
    """When the cheapest compute on the market is all used and dearer offers fill the rest."""
    rows = np.flatnonzero(usable.mask)
    ratio = market.usd_per_pflop_hour()
    best = int(rows[np.argmin(ratio[rows])])
    used = {m.row: m for m in plan.members}
    member = used.get(best)
    if member is None or len(plan.members) < 2 or member.instances < market.available[best]:
        return None
    return (
        f"All {member.instances} available instances of the cheapest compute ({member.label})"
        " are used; the rest runs on dearer offers."
    )


def explain(market: PlanMarket, req: JobRequirement, plan: Plan, solver: Solver) -> Explanation:
    usable = eligibility(market, req)
    tried = [_tried(req, c, solver, plan) for c in _loosenings(req, plan.machines)]
    relaxations = sorted(
        (c for c in tried if c.saves_micros is not None and c.saves_micros > 0),
        key=lambda c: -(c.saves_micros or 0),
    )
    threshold = max(10_000, plan.cost_micros * MATERIAL_SAVING)
    if relaxations and (relaxations[0].saves_micros or 0) >= threshold:
        top = relaxations[0]
        binding, detail = (
            top.constraint,
            (
                f"{top.description[0].upper()}{top.description[1:]} would save"
                f" {usd(top.saves_micros or 0)}."
            ),
        )
    elif (why := _availability_binds(market, plan, usable)) is not None:
        binding, detail = "availability", why
    else:
        binding, detail = (
            "compute",
            (
                "Nothing you set raises the price: it is the compute you need at the cheapest"
                " usable rates."
            ),
        )
    return Explanation(_reasons(market, req, plan, usable), binding, detail, relaxations)


# ---- diagnosis of a job without a plan ----


def _best_rate(market: PlanMarket, req: JobRequirement, usable: Eligibility) -> tuple[float, int]:
    """The most useful PFLOPS any allowed set of machines gives at once, and its machines."""
    rows = np.flatnonzero(usable.mask)
    groups = group_keys(market, req.placement)[rows]
    best, best_machines = 0.0, 0
    cap = req.machine_cap
    for group in np.unique(groups):
        mine = rows[groups == group]
        speeds = np.repeat(market.pflops[mine], np.minimum(market.available[mine], cap))
        prefix = np.cumsum(np.sort(speeds)[::-1][:cap])
        for _, most, factor in band_limits(cap):
            take = min(most, prefix.size)
            if take and factor * prefix[take - 1] > best:
                best, best_machines = factor * float(prefix[take - 1]), take
    return best, best_machines


def _empty_market(market: PlanMarket, req: JobRequirement, solver: Solver) -> Infeasibility:
    """No offer passes the per-offer constraints: name the one that empties the market."""
    fails = filter_masks(market, req)
    for name in ("vram", "gpus_per_machine", "reliability", "spot", "region_unknown"):
        others = np.ones(len(market), dtype=bool)
        for other, mask in fails.items():
            if other != name:
                others &= ~mask
        if not others.any():
            continue
        change, detail = _nearest(market, req, name, np.flatnonzero(others))
        return Infeasibility(name, detail, [_tried(req, change, solver, None)])
    if int(fails["excluded"].sum()) and not (~fails["excluded"]).any():
        return Infeasibility("excluded", "Every offer on the market is excluded.", [])
    return Infeasibility(
        "market",
        f"No offer on the market can run {req.compute.precision.upper()} work with these"
        " constraints, even with one of them loosened"
        + (" (FP16 runs on older GPUs without BF16)." if req.compute.precision == "bf16" else "."),
        [],
    )


def _nearest(
    market: PlanMarket, req: JobRequirement, name: str, rows: np.ndarray[Any, Any]
) -> tuple[Change, str]:
    if name == "vram":
        most = float(market.gpu_memory_gb[rows].max())
        return (
            Change("vram", f"{most:g} GB per GPU", {"min_vram_gb": most}),
            f"No offer has {req.min_vram_gb:g} GB per GPU; the largest has {most:g} GB.",
        )
    if name == "gpus_per_machine":
        most = int(market.gpu_count[rows].max())
        return (
            Change("gpus_per_machine", f"{most} GPUs per machine", {"min_gpus_per_machine": most}),
            f"No offer has {req.min_gpus_per_machine} GPUs per machine; the most is {most}.",
        )
    if name == "reliability":
        best = float(np.nanmax(np.nan_to_num(market.reliability[rows], nan=0.0)))
        if best <= 0:
            return (
                Change("reliability", "accepting any reliability", {"min_reliability": None}),
                "No offer that meets the other constraints states its reliability.",
            )
        return (
            Change("reliability", f"reliability of at least {best:.1%}", {"min_reliability": best}),
            f"No offer states a reliability of {req.min_reliability:.1%}; the best is {best:.1%}.",
        )
    if name == "spot":
        return (
            Change("spot", "allowing spot instances", {"spot_allowed": True}),
            "Only spot offers meet the other constraints.",
        )
    return (
        Change("placement", "placing members anywhere", {"placement": Placement.ANY.value}),
        "No offer that meets the other constraints says which region it is in.",
    )


def diagnose(
    market: PlanMarket, req: JobRequirement, usable: Eligibility, solver: Solver
) -> Infeasibility:
    """Which constraint leaves the job without a plan, and the nearest plan there is."""
    if usable.count == 0:
        return _empty_market(market, req, solver)
    if req.budget_micros is not None and (cheapest := solver(req.but(budget_micros=None))):
        over = cheapest.cost_micros - req.budget_micros
        # The solver keeps a micro-dollar per machine for rounding each member's cost up.
        enough = math.ceil((cheapest.cost_micros + req.machine_cap) / 10_000) * 10_000
        raise_budget = Change(
            "budget",
            f"a budget of {usd(enough)}",
            {"budget_usd": enough / 1e6},
            cheapest.cost_micros,
            None,
            cheapest.finish_hours,
        )
        others = [_tried(req, c, solver, None) for c in _loosenings(req, None)]
        return Infeasibility(
            "budget",
            f"The cheapest plan that meets every other constraint costs"
            f" {usd(cheapest.cost_micros)}, {usd(over)} over the budget of"
            f" {usd(req.budget_micros)}.",
            [
                raise_budget,
                *sorted(
                    (c for c in others if c.cost_micros is not None),
                    key=lambda c: c.cost_micros or 0,
                ),
            ],
        )
    rate, machines = _best_rate(market, req, usable)
    needed = req.compute.pflop_hours / req.deadline_hours
    hours = math.ceil(req.compute.pflop_hours / rate) if rate > 0 else None
    alternatives = []
    if hours is not None and not req.sustained:
        changes: dict[str, Any] = {"deadline_hours": float(hours)}
        if req.budget_micros is not None:
            changes["budget_usd"] = None
        longer = Change("deadline", f"a deadline of {hours} h", changes)
        alternatives.append(_tried(req, longer, solver, None))
    alternatives += [
        _tried(req, c, solver, None) for c in _loosenings(req, None) if c.constraint != "deadline"
    ]
    feasible = [c for c in alternatives if c.cost_micros is not None]
    constraint = "capacity" if req.sustained else "deadline"
    return Infeasibility(
        constraint,
        f"The job needs {needed:,.2f} useful PFLOPS on average to finish in"
        f" {req.deadline_hours:g} h; the most the allowed offers give at once is {rate:,.2f}"
        f" ({machines} machines)" + (f", which needs {hours} h." if hours else "."),
        feasible,
    )

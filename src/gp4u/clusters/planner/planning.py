"""One planning request end to end: eligible offers, pruning, exact and greedy plans, and the
explanation or the infeasibility diagnosis (pure)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gp4u.clusters.planner import explain
from gp4u.clusters.planner.exact import solve
from gp4u.clusters.planner.greedy import greedy_plan
from gp4u.clusters.planner.market import Eligibility, PlanMarket, eligibility, group_keys
from gp4u.clusters.planner.prune import undominated
from gp4u.clusters.planner.result import Plan
from gp4u.clusters.requirements import JobRequirement


@dataclass(frozen=True)
class MarketSummary:
    """How many offers were looked at, could be used, and reached the solver after pruning;
    `removed` counts the offers each per-offer constraint left out."""

    offers: int
    eligible: int
    candidates: int
    removed: dict[str, int]


@dataclass(frozen=True)
class Attempt:
    """The exact plan for one requirement, with what it was chosen from."""

    plan: Plan | None
    status: str
    eligibility: Eligibility
    candidates: int


def attempt(market: PlanMarket, req: JobRequirement, cutoff_micros: int | None = None) -> Attempt:
    """The least-cost plan for `req` (None when there is none, or none cheaper than the
    cutoff)."""
    usable = eligibility(market, req)
    rows = np.flatnonzero(usable.mask)
    groups = group_keys(market, req.placement)
    candidates = undominated(market, rows, groups, req.machine_cap, req.sustained)
    solved = solve(market, candidates, groups, req, cutoff_micros)
    return Attempt(solved.plan, solved.status, usable, int(candidates.size))


@dataclass(frozen=True)
class Planning:
    """The answer to a planning request. `gap` = (greedy - exact) / exact cost, when both
    exist. Exactly one of `explanation` and `infeasibility` is set."""

    requirement: JobRequirement
    exact: Plan | None
    greedy: Plan | None
    gap: float | None
    status: str
    market: MarketSummary
    explanation: explain.Explanation | None
    infeasibility: explain.Infeasibility | None


def plan(market: PlanMarket, req: JobRequirement, explained: bool = True) -> Planning:
    """Plan a job over a market. Without `explained`, only the two plans (benchmarks)."""
    first = attempt(market, req)
    rows = np.flatnonzero(first.eligibility.mask)
    greedy = greedy_plan(market, rows, group_keys(market, req.placement), req)
    exact = first.plan
    gap = None
    if exact is not None and greedy is not None and exact.cost_micros > 0:
        gap = (greedy.cost_micros - exact.cost_micros) / exact.cost_micros
    summary = MarketSummary(
        offers=len(market),
        eligible=first.eligibility.count,
        candidates=first.candidates,
        removed=first.eligibility.removed,
    )

    def solver(changed: JobRequirement) -> Plan | None:
        return attempt(market, changed).plan

    explanation = infeasibility = None
    if explained and exact is not None:
        cost = exact.cost_micros

        def cheaper(changed: JobRequirement) -> Plan | None:
            return attempt(market, changed, cost).plan

        explanation = explain.explain(market, req, exact, cheaper)
    elif explained and first.status == "infeasible":
        infeasibility = explain.diagnose(market, req, first.eligibility, solver)
    elif explained:
        infeasibility = explain.Infeasibility(
            "solver",
            f"The solver stopped ({first.status}) before it found a plan; fewer offers or"
            " looser constraints make the problem smaller.",
            [],
        )
    return Planning(
        requirement=req,
        exact=exact,
        greedy=greedy,
        gap=gap,
        status=first.status,
        market=summary,
        explanation=explanation,
        infeasibility=infeasibility,
    )

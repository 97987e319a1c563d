"""The exact planner against brute force, constraint checks and the greedy plan."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gp4u.clusters.planner.exact import MIP_GAP, solve
from gp4u.clusters.planner.market import eligibility, group_keys, market_from_records
from gp4u.clusters.planner.planning import plan
from gp4u.clusters.planner.prune import undominated
from gp4u.clusters.requirements import Compute, JobRequirement
from tests.clusters.planner_support import (
    brute_force_cost,
    loaded,
    offer_records,
    requirements,
    violations,
)

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(offer_records(size=(1, 4), most=2), requirements(most_machines=5), st.floats(0.001, 1.1))
def test_exact_plan_costs_what_brute_force_finds(records, req, load) -> None:
    market = market_from_records(records)
    req = loaded(market, req, load)
    expected = brute_force_cost(market, req)
    result = plan(market, req, explained=False)
    event("feasible" if expected is not None else "infeasible")
    if expected is None:
        assert result.exact is None
        return
    assert result.exact is not None
    cost, best = result.exact.cost_micros, expected * 1e6
    assert best - 10 <= cost <= best * (1 + MIP_GAP) + 10  # never below the optimum


@FAST
@given(offer_records(size=(1, 25), most=6), requirements(most_machines=12), st.floats(0.001, 1.1))
def test_plans_never_break_a_constraint_and_exact_never_costs_more(records, req, load) -> None:
    market = market_from_records(records)
    req = loaded(market, req, load)
    result = plan(market, req, explained=False)
    if result.exact is not None:
        assert violations(market, req, result.exact) == []
        assert result.exact.within_budget(req)
    if result.greedy is not None:
        assert violations(market, req, result.greedy) == []
        if result.exact is not None and result.greedy.within_budget(req):
            assert result.exact.cost_micros <= result.greedy.cost_micros * (1 + MIP_GAP) + 10
            assert result.gap is not None and result.gap >= -MIP_GAP


@FAST
@given(
    offer_records(size=(5, 40), most=4),
    requirements(most_machines=8),
    st.floats(0.001, 1),
    st.randoms(),
)
def test_pruning_never_changes_the_least_cost(records, req, load, rnd) -> None:
    for record in rnd.sample(records, k=len(records) // 2):  # near-duplicates make domination
        records.append(
            {**record, "id": len(records) + 1, "price_per_hour": record["price_per_hour"] + 1}
        )
    market = market_from_records(records)
    req = loaded(market, req, load)
    rows = np.flatnonzero(eligibility(market, req).mask)
    groups = group_keys(market, req.placement)
    kept = undominated(market, rows, groups, req.machine_cap, req.sustained)
    assert set(kept.tolist()) <= set(rows.tolist())
    full, pruned = solve(market, rows, groups, req).plan, solve(market, kept, groups, req).plan
    assert (full is None) == (pruned is None)
    if full is not None and pruned is not None:
        assert abs(full.cost_micros - pruned.cost_micros) <= MIP_GAP * full.cost_micros + 10


def test_identical_cheaper_offers_dominate_to_the_depth_of_the_machine_cap() -> None:
    base = {
        "provider": "p",
        "region": "r",
        "gpu": "H100",
        "gpu_memory_gb": 80,
        "gpu_count": 8,
        "spot": False,
    }
    records = [
        {**base, "id": 1, "price_per_hour": 16_000_000, "available_count": 3},
        {**base, "id": 2, "price_per_hour": 17_000_000, "available_count": 1},
        {**base, "id": 3, "price_per_hour": 18_000_000, "available_count": 5},
        {**base, "id": 4, "gpu_count": 4, "price_per_hour": 9_000_000, "available_count": 9},
    ]
    market = market_from_records(records)
    rows = np.arange(4)
    groups = np.zeros(4, dtype=np.int64)

    def kept(depth: int, sustained: bool = False) -> set[int]:
        return set(market.ids[undominated(market, rows, groups, depth, sustained)].tolist())

    assert kept(3) == {1}  # 3 cheaper 8x H100 cover any plan of at most 3 machines
    assert kept(4) == {1, 2}
    assert kept(9) == {1, 2, 3}  # the 4-GPU offer costs more per PFLOP-hour than all 9 above
    assert kept(10) == {1, 2, 3, 4}
    # A sustained job pays whole hours: the 4-GPU offer is cheaper per hour, so it stays.
    assert kept(3, sustained=True) == {1, 4}


def test_a_sustained_job_keeps_every_member_running_to_the_deadline() -> None:
    records = [
        {
            "id": 1,
            "provider": "p",
            "region": "r",
            "gpu": "L40S",
            "gpu_memory_gb": 48,
            "gpu_count": 1,
            "price_per_hour": 900_000,
            "spot": False,
            "available_count": 10,
        },
    ]
    market = market_from_records(records)
    rate = float(market.pflops[0])
    req = JobRequirement(Compute(rate * 24 * 2.5), deadline_hours=24, sustained=True)
    result = plan(market, req, explained=False)
    assert result.exact is not None
    (member,) = result.exact.members
    assert member.instances == 3 and member.hours_each == 24  # 2.5 machines' worth, whole machines
    assert result.exact.cost_micros == 3 * 24 * 900_000

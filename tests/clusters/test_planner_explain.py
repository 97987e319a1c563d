"""What the planner says about a plan, and about a job it cannot plan (small hand-made markets)."""

from __future__ import annotations

from typing import Any

import pytest

from gp4u.clusters.planner.explain import applied
from gp4u.clusters.planner.market import market_from_records
from gp4u.clusters.planner.planning import plan
from gp4u.clusters.requirements import Compute, JobRequirement, Placement

H100_8X = 3.16608  # useful PFLOPS of 8x H100 80 GB (8 x 989.4 x 0.40 / 1000)


def offer(id: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": id,
        "provider": "p1",
        "region": "r1",
        "gpu": "H100",
        "gpu_memory_gb": 80,
        "gpu_count": 8,
        "price_per_hour": 20_000_000,
        "spot": False,
        "available_count": 1,
        **fields,
    }


def test_scarce_cheap_compute_is_named_as_what_sets_the_price() -> None:
    market = market_from_records(
        [offer(1, price_per_hour=16_000_000), offer(2, price_per_hour=24_000_000, provider="p2")]
    )
    serving = JobRequirement(Compute(H100_8X * 10 * 1.5), deadline_hours=10, sustained=True)
    result = plan(market, serving)
    assert result.exact is not None and result.explanation is not None
    assert {m.offer_id for m in result.exact.members} == {1, 2}
    assert result.explanation.binding == "availability"
    assert "cheapest compute" in result.explanation.binding_detail


def test_nothing_to_relax_says_the_compute_sets_the_price() -> None:
    market = market_from_records([offer(1, available_count=5)])
    result = plan(market, JobRequirement(Compute(H100_8X * 3), deadline_hours=10))
    assert result.explanation is not None and result.explanation.binding == "compute"
    assert result.explanation.relaxations == []
    assert result.exact is not None and result.exact.cost_micros == 60_000_000


def test_spot_only_markets_and_unreliable_ones_name_their_filter() -> None:
    market = market_from_records([offer(1, spot=True, price_per_hour=8_000_000)])
    result = plan(market, JobRequirement(Compute(H100_8X), deadline_hours=10))
    assert result.infeasibility is not None and result.infeasibility.constraint == "spot"
    (allow,) = result.infeasibility.alternatives
    assert allow.changes == {"spot_allowed": True} and allow.cost_micros == 8_000_000

    shaky = market_from_records([offer(1, reliability=0.9)])
    strict = JobRequirement(Compute(H100_8X), deadline_hours=10, min_reliability=0.99)
    why = plan(shaky, strict).infeasibility
    assert why is not None and why.constraint == "reliability"
    assert why.alternatives[0].changes == {"min_reliability": 0.9}


def test_a_failed_offer_is_excluded_and_the_plan_moves_on() -> None:
    market = market_from_records([offer(1, price_per_hour=16_000_000), offer(2)])
    req = JobRequirement(Compute(H100_8X), deadline_hours=10)
    first = plan(market, req).exact
    again = plan(market, req.but(exclude_offers=frozenset({1}))).exact
    assert first is not None and [m.offer_id for m in first.members] == [1]
    assert again is not None and [m.offer_id for m in again.members] == [2]
    assert plan(market, req.but(exclude_offers=frozenset({1, 2}))).exact is None


def test_same_provider_keeps_every_member_with_one_provider() -> None:
    market = market_from_records(
        [
            offer(1, provider="a", price_per_hour=10_000_000),
            offer(2, provider="b", price_per_hour=12_000_000, available_count=2),
        ]
    )
    req = JobRequirement(Compute(H100_8X * 10 * 2 * 0.95), deadline_hours=10)
    mixed = plan(market, req).exact
    same = plan(market, req.but(placement=Placement.SAME_PROVIDER))
    assert mixed is not None and {m.offer_id for m in mixed.members} == {1, 2}
    assert same.exact is not None and {m.offer_id for m in same.exact.members} == {2}
    assert same.explanation is not None and same.explanation.binding == "placement"
    saving = same.explanation.relaxations[0]
    assert saving.saves_micros == same.exact.cost_micros - mixed.cost_micros


@pytest.mark.parametrize("placement", list(Placement))
def test_an_empty_market_has_no_plan(placement: Placement) -> None:
    result = plan(market_from_records([]), JobRequirement(Compute(1), 1, placement=placement))
    assert result.exact is None and result.infeasibility is not None


def test_minute_long_deadlines_and_budget_suggestions_can_be_applied_as_given() -> None:
    market = market_from_records([offer(1, available_count=3)])
    tiny = plan(market, JobRequirement(Compute(0.001), deadline_hours=0.02))
    assert tiny.exact is not None  # loosening a 72-second deadline stays above it

    poor = JobRequirement(Compute(H100_8X * 2.5), deadline_hours=10, budget_micros=1_000_000)
    why = plan(market, poor).infeasibility
    assert why is not None and why.constraint == "budget"
    suggested = why.alternatives[0]
    assert plan(market, applied(poor, suggested.changes)).exact is not None

    rushed = poor.but(deadline_hours=0.5)
    longer = next(
        c for c in plan(market, rushed).infeasibility.alternatives if c.constraint == "deadline"
    )
    assert longer.changes == {"deadline_hours": 1.0, "budget_usd": None}
    assert plan(market, applied(rushed, longer.changes)).exact is not None

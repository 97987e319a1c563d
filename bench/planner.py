"""Cluster planner benchmark (pure, no database): the exact plan over synthetic markets of
10k and 100k offers, p50/p95 over 50 random requirements, with and without the explanation
(which re-plans once per relaxation); and greedy against exact on 200 random requirements
over the real catalogs in ../shared/data/catalogs.

Targets (issue 8): exact plan over 10k offers ≤ 1 s and over 100k ≤ 5 s, p95 of 50.

    python bench/planner.py [--sizes 10000,100000] [--requests 50] [--gap-requests 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path
from typing import Any

from common import emit, percentiles, synthetic_offers
from gp4u.clusters.planner.planning import plan
from gp4u.clusters.requirements import Compute, JobRequirement, Placement
from gp4u.clusters.service import market_for
from gp4u.offers.index import INDEX_COLUMNS, MarketIndex
from gp4u.offers.ingest import to_row
from gp4u.pricing.value import GScoreWeights
from gp4u.providers.base import ProviderOffer
from gp4u.providers.catalog.files import find_catalog_files, parse_files

CATALOGS = Path(__file__).resolve().parents[2] / "shared" / "data" / "catalogs"


def index_of(offers: list[ProviderOffer], source: str) -> MarketIndex:
    index = MarketIndex()
    rows = []
    for i, offer in enumerate(offers, start=1):
        row = to_row(source, offer)
        rows.append((i, *[row.get(c) for c in INDEX_COLUMNS]))
    index.apply(rows, 1)
    return index


def random_requirement(rng: random.Random) -> JobRequirement:
    """A job a user might plan: 10 to 5,000 useful PFLOP-hours in 12 h to 2 weeks."""
    placement = rng.choices(list(Placement), weights=[6, 2, 1, 1])[0]
    return JobRequirement(
        compute=Compute(10 ** rng.uniform(0, 3.7), rng.choice(["bf16", "bf16", "fp16"])),
        deadline_hours=rng.choice([12, 24, 48, 72, 168, 336]),
        min_vram_gb=rng.choice([0, 24, 40, 48, 80, 80]),
        budget_micros=rng.choice([None, None, rng.randint(1_000, 100_000) * 1_000_000]),
        spot_allowed=rng.random() < 0.5,
        min_reliability=rng.choice([None, None, 0.9, 0.95]),
        placement=placement,
        max_machines=rng.choice([4, 8, 16, 32, 64]),
        min_gpus_per_machine=rng.choice([1, 1, 2, 8]),
    )


def timed_plans(index: MarketIndex, requests: int, explained: bool) -> dict[str, Any]:
    rng = random.Random(11)
    weights = GScoreWeights()
    seconds, feasible, candidates = [], 0, []
    for _ in range(requests):
        req = random_requirement(rng)
        start = time.perf_counter()
        market = market_for(index, req.compute.precision, weights)
        result = plan(market, req, explained=explained)
        seconds.append(time.perf_counter() - start)
        feasible += result.exact is not None
        candidates.append(result.market.candidates)
    return {
        **percentiles([s * 1000 for s in seconds]),
        "feasible": feasible,
        "median_candidates_after_pruning": statistics.median(candidates),
    }


def greedy_gap(requests: int) -> dict[str, Any]:
    reports = parse_files(find_catalog_files([CATALOGS]))
    offers = [o for r in reports.values() for o in r.offers if o.available]
    index = index_of(offers, "catalog")
    rng = random.Random(5)
    gaps, both, greedy_missing = [], 0, 0
    for _ in range(requests):
        req = random_requirement(rng)
        result = plan(
            market_for(index, req.compute.precision, GScoreWeights()), req, explained=False
        )
        if result.exact is None:
            continue
        if result.greedy is None or not result.greedy.within_budget(req):
            greedy_missing += 1
            continue
        both += 1
        gaps.append(result.gap or 0.0)
    return {
        "catalog_offers": len(offers),
        "requests": requests,
        "both_planned": both,
        "greedy_failed_where_exact_planned": greedy_missing,
        "mean_gap_pct": round(100 * statistics.fmean(gaps), 2) if gaps else None,
        "worst_gap_pct": round(100 * max(gaps), 2) if gaps else None,
        "share_greedy_optimal": round(sum(g < 1e-6 for g in gaps) / len(gaps), 3) if gaps else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--gap-requests", type=int, default=200)
    args = parser.parse_args()
    figures: dict[str, Any] = {"targets": {"p95_ms_10k": 1000, "p95_ms_100k": 5000}}
    for size in (int(s) for s in args.sizes.split(",")):
        index = index_of(list(synthetic_offers(size)), "bench")
        figures[f"offers_{size}"] = {
            "exact_and_greedy": timed_plans(index, args.requests, explained=False),
            "with_explanation": timed_plans(index, args.requests, explained=True),
        }
    figures["greedy_vs_exact"] = greedy_gap(args.gap_requests)
    emit({"benchmark": "planner", **figures})


if __name__ == "__main__":
    main()

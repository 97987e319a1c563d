"""Pricing benchmark, on SQLite and PostgreSQL:
- arbitrage opportunities and recommendations through the HTTP API of a real `gp4u serve`
  process over synthetic markets of 100k and 1M offers;
- evaluating 10,000 price watches after a sync of 100k offers.

Targets (issue 4): arbitrage over 1M offers ≤ 200 ms; recommendations over 100k ≤ 100 ms;
10,000 watches after a 100k sync ≤ 2 s. The first arbitrage request after a market change also
sorts the market once (`first_request_ms`); the others reuse it.

    python bench/pricing.py [--sizes 100000,1000000] [--requests 100]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

import httpx

from common import database_kinds, emit, fresh_database, percentiles, synthetic_offers
from gp4u.alerts import service as alerts
from gp4u.alerts.models import Watch
from gp4u.db.engine import create_engine, session_factory, unit_of_work
from gp4u.kit.clock import SystemClock
from gp4u.offers import service as offers_service
from gp4u.offers.service import snapshot_index
from gp4u.providers.base import ParseReport
from search import load, serve

MIX: list[dict[str, Any]] = [
    {},
    {"gpu": "H100"},
    {"gpu": "H100", "gpu_count": 8, "spot": "false", "sort": "saved_per_hour"},
    {"min_spread_pct": 50},
    {"spot": "true", "sort": "spread"},
    {"q": "country in [US,CA]", "gpu": "A100-80GB"},
    {"provider": "provider03", "min_spread_pct": 20},
]


RECOMMEND: list[dict[str, Any]] = [
    {},
    {"q": "gpu_count=8", "weights": "price:0.5,performance:0.5"},
    {"q": "gpu=H100", "regions": "US,CA"},
    {"q": "gpu_memory_gb>=80 spot=false", "weights": "price:0.3,reliability:0.7"},
]
GPUS = ["H100", "A100-80GB", "RTX4090", "L40S", "H200", "A100", "RTX3090", "L4", "MI300X"]


def measure_recommendations(base: str, requests: int) -> dict[str, Any]:
    rng = random.Random(8)
    samples = []
    with httpx.Client(base_url=base, timeout=60) as client:
        client.get("/api/v1/recommendations").raise_for_status()
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get("/api/v1/recommendations", params=rng.choice(RECOMMEND))
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return percentiles(samples)


async def watches(url: str, count: int) -> dict[str, Any]:
    """`count` watches over a loaded market: seconds to evaluate them all."""
    rng = random.Random(4)
    engine = create_engine(url)
    sessions = session_factory(engine)
    now = SystemClock().now()
    async with unit_of_work(sessions) as session:
        for i in range(count):
            terms = [f"gpu={rng.choice(GPUS)}"]
            if rng.random() < 0.6:
                terms.append(f"gpu_count={rng.choice([1, 2, 4, 8])}")
            if rng.random() < 0.3:
                terms.append(f"country={rng.choice(['US', 'DE', 'CA', 'JP'])}")
            if rng.random() < 0.3:
                terms.append("spot=false")
            if rng.random() < 0.5:
                terms.append(f"provider=provider{rng.randrange(10):02d}")
            session.add(
                Watch(
                    owner="local",
                    name=f"w{i}",
                    query=" ".join(terms),
                    max_price_per_gpu_hour=round(rng.uniform(0.3, 3.0) * 1e6),
                    firing=False,
                    fired_count=0,
                    created_at=now,
                )
            )
    first = await _evaluate(sessions, now)
    # a sync: one provider's 10k offers come back with every price changed
    report = ParseReport(
        offers=[o for o in synthetic_offers(100_000) if o.provider == "provider03"]
    )
    for offer in report.offers:
        offer.price_per_hour = round(offer.price_per_hour * rng.uniform(0.8, 1.1))
    async with unit_of_work(sessions) as session:
        await offers_service.import_offers(
            session,
            source="catalog",
            provider="provider03",
            report=report,
            origin="bench",
            now=now,
        )
    after_sync = await _evaluate(sessions, now)
    await engine.dispose()
    return {"watches": count, "first_evaluation": first, "after_a_sync": after_sync}


async def _evaluate(sessions: Any, now: Any) -> dict[str, Any]:
    async with unit_of_work(sessions) as session:
        index = await snapshot_index(session, None)
        started = time.perf_counter()
        outcome = await alerts.evaluate(session, index, now)
        seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "fired": outcome["fired"], "rearmed": outcome["rearmed"]}


def measure(base: str, requests: int) -> dict[str, Any]:
    rng = random.Random(5)
    samples = []
    with httpx.Client(base_url=base, timeout=60) as client:
        started = time.perf_counter()
        first = client.get("/api/v1/arbitrage/opportunities")
        first_ms = (time.perf_counter() - started) * 1000
        first.raise_for_status()
        for _ in range(requests):
            params = rng.choice(MIX)
            started = time.perf_counter()
            response = client.get("/api/v1/arbitrage/opportunities", params=params)
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return {
        "arbitrage": percentiles(samples),
        "first_request_ms": round(first_ms, 1),
        "groups": first.json()["groups"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    report: dict[str, Any] = {"benchmark": "pricing", "target": {"arbitrage_1m_ms": 200}}
    for kind in database_kinds():
        results: dict[str, Any] = {}
        for size in (int(s) for s in args.sizes.split(",")):
            url = fresh_database(kind, f"pricing-{size}")
            asyncio.run(load(url, size))
            process, base = serve(url)
            try:
                results[str(size)] = measure(base, args.requests)
                if size == 100_000:
                    results[str(size)]["recommendations"] = measure_recommendations(
                        base, args.requests
                    )
            finally:
                process.terminate()
                process.wait(timeout=30)
            if size == 100_000:
                results[str(size)]["watch_evaluation"] = asyncio.run(watches(url, 10_000))
        report[kind] = results
    emit(report)


if __name__ == "__main__":
    main()

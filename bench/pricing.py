"""Pricing benchmark: arbitrage opportunities through the HTTP API of a real `gp4u serve`
process over a synthetic market of 100k and 1M offers, on SQLite and PostgreSQL.

Target (issue 4): arbitrage over 1M offers ≤ 200 ms on both databases. The first request after a
market change also sorts the market once (reported as `first_request_ms`); the others reuse it.

    python bench/pricing.py [--sizes 100000,1000000] [--requests 100]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

import httpx

from common import database_kinds, emit, fresh_database, percentiles
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
            finally:
                process.terminate()
                process.wait(timeout=30)
        report[kind] = results
    emit(report)


if __name__ == "__main__":
    main()

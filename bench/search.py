"""Search benchmark: a realistic mix of filtered, sorted, paginated queries through the HTTP API
of a real `gp4u serve` process, at 10k, 100k and 1M offers, on SQLite and PostgreSQL.

Target (issue 2) at 100k offers: p50 <= 10 ms, p99 <= 50 ms on both databases.

    python bench/search.py [--sizes 10000,100000,1000000] [--requests 600]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from common import PROVIDERS, database_kinds, emit, fresh_database, percentiles, synthetic_offers
from gp4u.db.engine import create_engine, session_factory, unit_of_work
from gp4u.kit.clock import SystemClock
from gp4u.offers import service
from gp4u.providers.base import ParseReport

GP4U = str(Path(sys.executable).parent / "gp4u")

# (weight, query, sort): what people search for, shaped like the examples.
MIX: list[tuple[int, str, str | None]] = [
    (18, "gpu=H100", None),
    (10, "gpu=H100 gpu_count>=8 price_per_gpu_hour<2.5 spot=false", None),
    (8, "gpu=A100-80GB", "price_per_hour"),
    (8, "gpu=RTX4090 country in [US,CA]", None),
    (6, "gpu in [H100,H200,B200] gpu_count=8", None),
    (6, "", None),
    (5, "price_per_gpu_hour<1", "-reliability"),
    (5, "gpu=L40S spot=true", None),
    (5, "gpu_memory_gb>=80 price_per_gpu_hour<2", None),
    (4, "provider=provider03", "price_per_hour"),
    (4, "region~us- gpu=A100", None),
    (4, "gpu=RTX3090 reliability>0.95", "-vcpus"),
    (4, "country=DE", None),
    (3, "gpu=MI300X", None),
    (3, "vcpus>=64 memory_gb>=256", "-gpu_count"),
    (3, "gpu=H100 gpu_variant=SXM", "-price_per_gpu_hour"),
    (2, "spot=false", "price_per_hour"),
    (2, 'gpu="RTX A6000" gpu_count in [2,4]', None),
]


async def load(url: str, count: int) -> None:
    """Import the synthetic market one provider at a time, as a catalog import would."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    now = SystemClock().now()
    by_provider: dict[str, ParseReport] = {p: ParseReport() for p in PROVIDERS}
    for offer in synthetic_offers(count):
        by_provider[offer.provider].offers.append(offer)
    try:
        for provider, report in by_provider.items():
            async with unit_of_work(sessions) as session:
                await service.import_offers(
                    session,
                    source="catalog",
                    provider=provider,
                    report=report,
                    origin="bench",
                    now=now,
                )
            report.offers.clear()
    finally:
        await engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GP4U_")}
    env.update(
        GP4U_DATABASE_URL=url,
        GP4U_CATALOG_URL="",
        GP4U_SIMULATED_MARKET="false",
        GP4U_PROVIDERS="",  # no background syncs: the market stays as loaded
        GP4U_LOG_LEVEL="WARNING",
    )
    process = subprocess.Popen(
        [GP4U, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # measure the steady state: the search index built
        try:
            response = httpx.get(f"{base}/readyz", timeout=2)
            if response.status_code == 200 and response.json()["search_index"]["state"] == "ready":
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


def measure(base: str, requests: int) -> dict[str, Any]:
    rng = random.Random(11)
    weights = [m[0] for m in MIX]
    samples: list[float] = []
    by_query: dict[str, list[float]] = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(30):  # warm-up: connections, caches, query plans
            client.get("/api/v1/offers", params={"q": MIX[0][1]})
        for _ in range(requests):
            _, q, sort = rng.choices(MIX, weights)[0]
            params: dict[str, Any] = {"q": q, "limit": rng.choice([20, 50, 50, 100])}
            if sort:
                params["sort"] = sort
            started = time.perf_counter()
            response = client.get("/api/v1/offers", params=params)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{q!r}: {response.status_code} {response.text[:200]}")
            cursor = response.json()["next_cursor"]
            samples.append(elapsed)
            by_query.setdefault(q or "(all)", []).append(elapsed)
            if cursor and rng.random() < 0.3:  # some users page on
                started = time.perf_counter()
                client.get("/api/v1/offers", params={**params, "cursor": cursor})
                elapsed = (time.perf_counter() - started) * 1000
                samples.append(elapsed)
                by_query.setdefault("(next page)", []).append(elapsed)
    slowest = sorted(((percentiles(v)["p50_ms"], k) for k, v in by_query.items()), reverse=True)
    return {**percentiles(samples), "slowest_queries_p50_ms": {k: v for v, k in slowest[:4]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--requests", type=int, default=600)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    report: dict[str, Any] = {
        "benchmark": "search",
        "target_at_100k": {"p50_ms": 10, "p99_ms": 50},
        "databases": {},
    }
    for kind in database_kinds():
        results: dict[str, Any] = {}
        for size in sizes:
            url = fresh_database(kind, f"search-{size}")
            started = time.perf_counter()
            asyncio.run(load(url, size))
            load_seconds = time.perf_counter() - started
            started = time.perf_counter()
            process, base = serve(url)
            ready_seconds = time.perf_counter() - started
            try:
                figures = measure(base, args.requests)
            finally:
                process.terminate()
                process.wait(timeout=30)
            figures["load_seconds"] = round(load_seconds, 1)
            figures["start_to_index_ready_seconds"] = round(ready_seconds, 1)
            if size == 100_000:
                figures["meets_target"] = figures["p50_ms"] <= 10 and figures["p99_ms"] <= 50
            results[str(size)] = figures
        report["databases"][kind] = results
    emit(report)


if __name__ == "__main__":
    main()

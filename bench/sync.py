"""Sync benchmark: 10 providers × ~10k offers each, every one a fake provider server in its own
process speaking the provider's real API, with one provider slow (3 s latency) and one failing
(every call 500). Measures one end-to-end sync of all of them (fetch, parse, normalise, import)
on SQLite and PostgreSQL, then a second sync of unchanged data. Target: ≤ 10 s end to end.

    python bench/sync.py [--offers 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import math
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from common import Timer, database_kinds, emit, fresh_database
from gp4u.db.engine import create_engine, session_factory
from gp4u.fakes import kit
from gp4u.kit.clock import SystemClock
from gp4u.kit.logging import configure_logging
from gp4u.providers.gateway import Gateway
from gp4u.providers.registry import adapter_class, build_providers
from gp4u.settings import Settings
from gp4u.sources import service

LIVE = ("vastai", "runpod", "lambda", "tensordock", "akash")
CATALOGS = ("alpha", "bravo", "charlie", "delta", "echo")
SLOW, FAILING = "tensordock", "akash"
GP4U = str(Path(sys.executable).parent / "gp4u")


def _module(name: str) -> Any:
    return importlib.import_module(f"gp4u.fakes.{'lambda_cloud' if name == 'lambda' else name}")


async def offers_per_record(name: str) -> float:
    """How many market offers one provider-native record becomes (calibrates the fakes)."""
    module = _module(name)
    if name == "catalog":
        return 54 / 40
    state = kit.FakeState(offers=module.generate_offers(200, 1))
    with kit.running(module.create_app(state)) as fake:
        gateway = Gateway()
        adapter = adapter_class(name).create(name, gateway, api_key="test-key", base_url=fake.url)
        report = await adapter.list_offers()
        await gateway.aclose()
    return len(report.offers) / 200


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_fake(name: str, count: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    process = subprocess.Popen(
        [GP4U, "fake-provider", name, "--port", str(port), "--offers", str(count)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{url}/_fake/faults", timeout=1)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"fake {name} did not start")


async def sync_once(settings: Settings) -> dict[str, Any]:
    clock = SystemClock()
    providers = build_providers(settings, clock)
    engine = create_engine(settings.effective_database_url)
    sessions = session_factory(engine)
    with Timer() as timer:
        outcomes = await service.sync_many(sessions, providers, clock)
    await providers.aclose()
    await engine.dispose()
    return {
        "seconds": round(timer.seconds, 2),
        "offers": sum(o.seen for o in outcomes),
        "providers": {
            o.name: {
                "status": o.status,
                "seconds": round(o.duration_ms / 1000, 2),
                "offers": o.seen,
                "added": o.added,
                "error_kind": o.error_kind,
            }
            for o in outcomes
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--offers", type=int, default=10_000, help="Offers per provider.")
    args = parser.parse_args()
    configure_logging("console", "WARNING")  # JSON results alone on stdout
    fakes: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    try:
        for name in (*LIVE, "catalog"):
            ratio = asyncio.run(offers_per_record(name))
            process, urls[name] = start_fake(name, math.ceil(args.offers / ratio))
            fakes.append(process)
        httpx.post(f"{urls[SLOW]}/_fake/faults", json={"latency_ms": 3000})
        httpx.post(f"{urls[FAILING]}/_fake/faults", json={"fail_all": True})
        result: dict[str, Any] = {
            "providers": len(LIVE) + len(CATALOGS),
            "offers_per_provider": args.offers,
            "slow": f"{SLOW} (+3 s per call)",
            "failing": f"{FAILING} (HTTP 500)",
        }
        for kind in database_kinds():
            settings = Settings(
                database_url=fresh_database(kind, "sync"),
                providers=",".join(LIVE),
                catalog_url=urls["catalog"],
                catalog_providers=",".join(CATALOGS),
                sync_timeout_seconds=8,
                simulated_market=False,
                **{f"{n}_url": urls[n] for n in LIVE},
                **{f"{n}_api_key": "test-key" for n in LIVE if n != "akash"},
            )
            first = asyncio.run(sync_once(settings))
            second = asyncio.run(sync_once(settings))
            result[kind] = {
                "first_sync": first,
                "second_sync_unchanged": {k: second[k] for k in ("seconds", "offers")},
            }
        emit(result)
    finally:
        for process in fakes:
            process.terminate()
        for process in fakes:
            process.wait(timeout=10)


if __name__ == "__main__":
    main()

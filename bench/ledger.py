"""Ledger benchmark: journal entries per second under 16 concurrent clients (deposits, holds,
captures and voids on 64 wallets), then the audit, on SQLite and PostgreSQL.

Target (issue 5): ≥ 1,000 entries/s on PostgreSQL with the invariants still holding.

The 16 clients can be spread over several OS processes (`--processes`, PostgreSQL only), as a
deployment runs several `gp4u serve` processes; each process has its own engine and pool. On
this 2-core machine one process was fastest (its event loop serves many ready sockets per
wake-up; more processes only added context switches), so that is the default. SQLite always
runs in one process, like the embedded deployment. `--pre-ping` turns on the pool's liveness
check on every checkout (the engine's default), which with asyncpg costs three extra round
trips per transaction (BEGIN, ping, ROLLBACK). Clients run on uvloop, as under `gp4u serve`
(uvicorn picks it when installed); `--loop asyncio` uses the standard loop. The report says
which settings were used.

    python bench/ledger.py [--seconds 10] [--processes 1] [--pre-ping] [--loop asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from common import database_kinds, emit, fresh_database
from gp4u.db.engine import create_engine, session_factory
from gp4u.kit.logging import configure_logging
from gp4u.ledger import service
from gp4u.ledger.repository import money_transaction

T = TypeVar("T")
CLIENTS = 16
WALLETS = 64
NOW = datetime(2026, 11, 1, tzinfo=UTC)


async def client(sessions: Any, seed: int, until: float) -> int:
    rng = random.Random(seed)
    entries = 0
    while time.perf_counter() < until:
        owner = f"user{rng.randrange(WALLETS)}"
        async with money_transaction(sessions) as s:
            await service.deposit(s, owner, 50_000_000, NOW)
        try:
            async with money_transaction(sessions) as s:
                hold = await service.authorise(s, owner, 10_000_000, NOW, timedelta(hours=1))
            async with money_transaction(sessions) as s:
                if rng.random() < 0.7:
                    await service.capture(
                        s,
                        owner,
                        hold["hold_id"],
                        7_000_000,
                        NOW,
                        host=f"host{rng.randrange(50)}",
                        fee_basis_points=1000,
                    )
                else:
                    await service.release(s, owner, hold["hold_id"], NOW)
            entries += 3
        except service.InsufficientFunds:
            entries += 1
    return entries


def _run(loop: str, work: Coroutine[Any, Any, T]) -> T:
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(work)


def _engine_options(url: str, clients: int, pre_ping: bool) -> dict[str, Any]:
    if not url.startswith("postgresql"):
        return {}
    return {"pool_size": clients, "pool_pre_ping": pre_ping}


async def _clients(
    url: str, seeds: list[int], seconds: float, pre_ping: bool, start: Any
) -> tuple[int, float]:
    """Run one process's clients: warm its pool up, wait for the others, then go."""
    engine = create_engine(url, **_engine_options(url, len(seeds), pre_ping))
    sessions = session_factory(engine)
    if url.startswith("postgresql"):  # open the pool's connections before the clock starts
        connections = [await engine.connect() for _ in seeds]
        for connection in connections:
            await connection.close()
    if start is not None:
        await asyncio.to_thread(start.wait)
    started = time.perf_counter()
    until = started + seconds
    counts = await asyncio.gather(*(client(sessions, seed, until) for seed in seeds))
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return sum(counts), elapsed


def _process(
    url: str, seeds: list[int], seconds: float, pre_ping: bool, loop: str, start: Any, results: Any
) -> None:
    configure_logging("console", "WARNING")
    results.put(_run(loop, _clients(url, seeds, seconds, pre_ping, start)))


def run(url: str, seconds: float, processes: int, pre_ping: bool, loop: str) -> dict[str, Any]:
    seeds = [list(range(CLIENTS))[p::processes] for p in range(processes)]
    if processes == 1:
        entries, elapsed = _run(loop, _clients(url, seeds[0], seconds, pre_ping, None))
    else:
        context = multiprocessing.get_context("spawn")
        start, results = context.Barrier(processes), context.Queue()
        workers = [
            context.Process(target=_process, args=(url, s, seconds, pre_ping, loop, start, results))
            for s in seeds
        ]
        for worker in workers:
            worker.start()
        outcomes = [results.get() for _ in workers]
        for worker in workers:
            worker.join()
        entries, elapsed = sum(o[0] for o in outcomes), max(o[1] for o in outcomes)
    return {
        "clients": CLIENTS,
        "processes": processes,
        "clients_per_process": CLIENTS // processes,
        **({"pool_pre_ping": pre_ping} if url.startswith("postgresql") else {}),
        "event_loop": loop,
        "entries": entries,
        "seconds": round(elapsed, 2),
        "entries_per_second": round(entries / elapsed),
        **_audit_report(asyncio.run(_audit(url))),
    }


async def _audit(url: str) -> list[str]:
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        problems = await service.audit(session)
    await engine.dispose()
    return problems


def _audit_report(problems: list[str]) -> dict[str, Any]:
    return {"audit_problems": len(problems), **({"audit_sample": problems[:5]} if problems else {})}


def _default_loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        choices=[1, 2, 4, 8, 16],
        help="OS processes sharing the 16 PostgreSQL clients (SQLite always uses 1)",
    )
    parser.add_argument("--pre-ping", action="store_true", help="check connections on checkout")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default=_default_loop())
    args = parser.parse_args()
    configure_logging("console", "WARNING")
    report: dict[str, Any] = {"benchmark": "ledger", "target_postgresql_per_second": 1000}
    for kind in database_kinds():
        url = fresh_database(kind, "ledger")
        processes = args.processes if kind == "postgresql" else 1
        report[kind] = run(url, args.seconds, processes, args.pre_ping, args.loop)
    emit(report)


if __name__ == "__main__":
    main()

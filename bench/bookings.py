"""Bookings benchmark: sustained reservations per second with many concurrent clients, and never
an overlap.

Mechanics. A fresh migrated database per run: a SQLite file in a temp dir, and PostgreSQL when
`--database-url` (or GP4U_BENCH_DATABASE_URL) names one (its public schema is wiped). A host
lists `--machines` machines (`hosts.register`), each one's agent checks in with the listed GPU
(`hosts.agent_register`), and `--renters` renters (default: one per client, as when 50 people
book at once; 1 puts every client on the local user's wallet row) are funded far beyond what the
run can hold (`ledger.deposit`). A `FrozenClock` stands at T0, before every booked interval, so
nothing is in the past and every agent stays online (its heartbeat is the clock's time). Then
`--workers` asyncio tasks (the clients) take the seeded attempts from one queue and book them
through `reservations.book` (the service the API calls), on uvloop as under uvicorn, on the
server's own engine: its PostgreSQL pool (`--pool-size`, default the server's) is shared by the
clients, as a server's is by its requests. On PostgreSQL the clients, renters and
attempts are split over `--processes` processes (default 2, like `gp4u serve` ×2 behind a load
balancer), started together; SQLite has one writer, so it always runs in one process. Attempts
are minute-aligned intervals of 15 min to 4 h: most are fresh slots on one machine's timeline
(never overlapping any other fresh slot), `--conflict-share` of them overlap an interval asked
for earlier on the same machine (it may still be in flight: then either one wins).

Reported per database: attempts, booked, conflicts (409 BookingConflict), other errors (must be
0), elapsed seconds, bookings/s (accepted per second) and attempts/s, latency per attempt, the
overlap self-join over the reservations table (must be 0), refusals with no accepted interval
overlapping them (must be 0), and the money held against the quotes of the accepted bookings
(must agree).

    python bench/bookings.py [--attempts 3000] [--workers 50] [--machines 200] [--seed 7]
                             [--renters 50] [--processes 2] [--pool-size N] [--conflict-share 0.2]
                             [--database-url postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvloop
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from common import bench_settings, emit, percentiles
from gp4u.accounts.principal import HOST, RENTER, Principal, local_principal, scopes_of
from gp4u.db.engine import create_engine, engine_from_settings, session_factory, unit_of_work
from gp4u.db.migrate import upgrade
from gp4u.hosts import service as hosts
from gp4u.jobs.context import JobContext
from gp4u.jobs.registry import load_jobs
from gp4u.kit.clock import FrozenClock
from gp4u.kit.errors import AppError
from gp4u.kit.logging import configure_logging
from gp4u.ledger import service as ledger
from gp4u.ledger.repository import money_transaction
from gp4u.providers.registry import build_providers
from gp4u.provisioning import billing
from gp4u.reservations import service as reservations
from gp4u.settings import Settings

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
DAY0 = T0.replace(hour=0) + timedelta(days=1)  # every interval starts at or after this
PRICE = 2_000_000  # micro-USD per machine-hour
DEPOSIT = 100_000_000 * 1_000_000  # far more than any run can hold
GPU_FACTS = {"gpus": [{"name": "NVIDIA GeForce RTX 4090", "memory_gb": 23.99}]}
HOST_USER = "u_hostbench0001"
OVERLAPS = text(
    "SELECT count(*) FROM reservations a JOIN reservations b ON a.machine_id = b.machine_id "
    "AND a.id < b.id AND a.start_at < b.end_at AND b.start_at < a.end_at "
    "WHERE a.state IN ('pending', 'active') AND b.state IN ('pending', 'active')"
)


@dataclass(frozen=True)
class Attempt:
    machine_id: int
    start: datetime
    end: datetime
    conflicting: bool  # meant to overlap an earlier attempt


@dataclass
class Outcome:
    attempt: Attempt
    status: str  # booked | conflict | error
    seconds: float
    detail: str = ""


def settings_for(url: str, data_dir: Path, pool_size: int | None) -> Settings:
    return bench_settings(url, data_dir, providers="local", database_pool_size=pool_size)


async def prepare_database(url: str | None, workdir: Path) -> str:
    """A fresh SQLite file, or the PostgreSQL database wiped; then migrated."""
    if url is None:
        url = f"sqlite+aiosqlite:///{workdir / 'gp4u.sqlite3'}"
    else:
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    await upgrade(url)
    return url


def open_bench_context(settings: Settings, clock: FrozenClock) -> JobContext:
    """A job context on the server's own engine: its PostgreSQL pool is `--pool-size`, or the
    server's default (twice the cores), however many clients there are."""
    load_jobs()
    engine = engine_from_settings(settings)
    return JobContext(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=session_factory(engine),
        providers=build_providers(settings, clock),
    )


async def machines_online(ctx: JobContext, count: int) -> list[int]:
    """`count` machines of the host, each with its agent checked in (seeing the listed GPU)."""
    roles = frozenset({HOST})
    host = Principal(user_id=HOST_USER, roles=roles, scopes=scopes_of(roles), via="token")
    now = ctx.clock.now()
    ids = []
    async with unit_of_work(ctx.sessions) as session:
        for n in range(count):
            spec = hosts.MachineSpec(
                name=f"rig-{n}",
                gpu_name="RTX 4090",
                gpu_count=1,
                price_per_hour=PRICE,
                min_hours=15 / 60,
            )
            made = await hosts.register(session, host, spec, now)
            await hosts.agent_register(session, made["agent_token"], GPU_FACTS, ctx.settings, now)
            ids.append(int(made["id"]))
    return ids


def renters_funded(count: int) -> list[Principal]:
    """The booking users: the local user alone, or `count` renters (one per client when
    `count` equals the workers, as when 50 people book at once)."""
    if count <= 1:
        return [local_principal()]
    roles = frozenset({RENTER})
    return [
        Principal(user_id=f"u_renter{n:04d}", roles=roles, scopes=scopes_of(roles), via="token")
        for n in range(count)
    ]


def plan(rng: random.Random, machine_ids: list[int], count: int, share: float) -> list[Attempt]:
    """Fresh slots on each machine's timeline (a random gap, then 15 min to 4 h, in whole
    minutes), and with probability `share` an interval overlapping an earlier attempt on the
    same machine."""
    cursor = dict.fromkeys(machine_ids, DAY0)
    asked: dict[int, list[Attempt]] = defaultdict(list)
    attempts = []
    for _ in range(count):
        machine_id = rng.choice(machine_ids)
        earlier = asked[machine_id]
        if earlier and rng.random() < share:
            victim = rng.choice(earlier)
            span = int((victim.end - victim.start).total_seconds() // 60)
            length = 15 * rng.randrange(1, 9)
            start = max(DAY0, victim.start + timedelta(minutes=rng.randrange(1 - length, span)))
            end = max(start + timedelta(minutes=length), victim.start + timedelta(minutes=1))
            attempt = Attempt(machine_id, start, end, True)
        else:
            start = cursor[machine_id] + timedelta(minutes=rng.randrange(0, 120))
            end = start + timedelta(minutes=rng.randrange(15, 241))
            cursor[machine_id] = end
            attempt = Attempt(machine_id, start, end, False)
        earlier.append(attempt)
        attempts.append(attempt)
    return attempts


async def book_all(
    ctx: JobContext, renters: list[Principal], attempts: list[Attempt], workers: int
) -> tuple[list[Outcome], float, float]:
    """Book the attempts with `workers` concurrent clients; the outcomes and the wall-clock
    (epoch) times the first began and the last ended."""
    queue: asyncio.Queue[Attempt] = asyncio.Queue()
    for attempt in attempts:
        queue.put_nowait(attempt)
    outcomes: list[Outcome] = []

    async def worker(renter: Principal) -> None:
        while True:
            try:
                attempt = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            spec = reservations.BookSpec(
                start=attempt.start, end=attempt.end, machine_id=attempt.machine_id
            )
            began = time.perf_counter()
            try:
                await reservations.book(ctx, renter, spec, None)
                status, detail = "booked", ""
            except reservations.BookingConflict:
                status, detail = "conflict", ""
            except AppError as exc:
                status, detail = "error", f"{type(exc).__name__}: {exc.detail}"
            except Exception as exc:
                status, detail = "error", f"{type(exc).__name__}: {exc}"
            outcomes.append(Outcome(attempt, status, time.perf_counter() - began, detail))

    began = time.time()
    await asyncio.gather(*(worker(renters[n % len(renters)]) for n in range(workers)))
    return outcomes, began, time.time()


async def _book_share(
    url: str,
    workdir: Path,
    renters: list[Principal],
    attempts: list[Attempt],
    workers: int,
    pool_size: int | None,
    start_at: float,
) -> tuple[list[Outcome], float, float]:
    ctx = open_bench_context(settings_for(url, workdir / "data", pool_size), FrozenClock(T0))
    try:
        async with ctx.engine.connect():  # the pool's first connection, before the clock
            pass
        await asyncio.sleep(max(0.0, start_at - time.time()))
        return await book_all(ctx, renters, attempts, workers)
    finally:
        await ctx.aclose()
        await ctx.engine.dispose()


def book_share(*args: Any) -> tuple[list[Outcome], float, float]:
    """One server process's part (a separate interpreter, as `gp4u serve` ×N would be)."""
    configure_logging("console", "CRITICAL")
    return uvloop.run(_book_share(*args))


def book_in_processes(
    url: str,
    workdir: Path,
    renters: list[Principal],
    attempts: list[Attempt],
    workers: int,
    pool_size: int | None,
    n: int,
) -> tuple[list[Outcome], float]:
    """Split the clients, renters and attempts over `n` processes, started together; elapsed
    runs from the first one's start to the last one's end."""
    start_at = time.time() + 5  # time for every process to import and connect
    with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn")) as pool:
        shares = [
            pool.submit(
                book_share,
                url,
                workdir,
                renters[k::n] or renters,
                attempts[k::n],
                workers // n + (k < workers % n),
                pool_size,
                start_at,
            )
            for k in range(n)
        ]
        parts = [share.result() for share in shares]
    outcomes = [o for part in parts for o in part[0]]
    return outcomes, max(p[2] for p in parts) - min(p[1] for p in parts)


def unexplained_refusals(outcomes: list[Outcome]) -> int:
    """Conflicts with no accepted booking overlapping them (refusals that were not real)."""
    accepted: dict[int, list[Attempt]] = defaultdict(list)
    for o in outcomes:
        if o.status == "booked":
            accepted[o.attempt.machine_id].append(o.attempt)
    return sum(
        not any(
            b.start < o.attempt.end and o.attempt.start < b.end
            for b in accepted[o.attempt.machine_id]
        )
        for o in outcomes
        if o.status == "conflict"
    )


async def run(args: argparse.Namespace, url: str | None, workdir: Path) -> dict[str, Any]:
    url = await prepare_database(url, workdir)
    clock = FrozenClock(T0)
    ctx = open_bench_context(settings_for(url, workdir / "data", args.pool_size), clock)
    try:
        machine_ids = await machines_online(ctx, args.machines)
        renters = renters_funded(args.renters)
        async with money_transaction(ctx.sessions) as session:
            for renter in renters:
                await ledger.deposit(session, renter.owner, DEPOSIT, T0)
        attempts = plan(random.Random(args.seed), machine_ids, args.attempts, args.conflict_share)
        processes = args.processes if url.startswith("postgresql") else 1
        if processes == 1:
            outcomes, began, ended = await book_all(ctx, renters, attempts, args.workers)
            elapsed = ended - began
        else:
            outcomes, elapsed = await asyncio.to_thread(
                book_in_processes,
                url,
                workdir,
                renters,
                attempts,
                args.workers,
                args.pool_size,
                processes,
            )
        async with ctx.engine.connect() as conn:
            overlaps = int((await conn.execute(OVERLAPS)).scalar_one())
            kept = int((await conn.execute(text("SELECT count(*) FROM reservations"))).scalar_one())
        async with ctx.sessions() as session:
            held = sum([(await ledger.balance(session, r.owner))["pending"] for r in renters])
            problems = await ledger.audit(session)
        counts = Counter(o.status for o in outcomes)
        booked = [o for o in outcomes if o.status == "booked"]
        quotes = sum(
            billing.cost_of(PRICE, int((o.attempt.end - o.attempt.start).total_seconds() // 60))
            for o in booked
        )
        latency = percentiles([o.seconds * 1000 for o in outcomes])
        return {
            "database": "postgresql" if url.startswith("postgresql") else "sqlite",
            "workers": args.workers,
            "machines": args.machines,
            "renters": len(renters),
            "processes": processes,
            "pool_size_per_process": ctx.engine.pool.size()
            if isinstance(ctx.engine.pool, QueuePool)
            else None,
            "attempts": len(outcomes),
            "meant_to_conflict": sum(a.conflicting for a in attempts),
            "booked": counts["booked"],
            "conflicts": counts["conflict"],
            "other_errors": counts["error"],
            "error_sample": sorted(
                {o.detail.splitlines()[0][:200] for o in outcomes if o.status == "error"}
            )[:5],
            "elapsed_s": round(elapsed, 3),
            "bookings_per_s": round(counts["booked"] / elapsed, 1),
            "attempts_per_s": round(len(outcomes) / elapsed, 1),
            "latency_p50_ms": latency["p50_ms"],
            "latency_p95_ms": round(
                sorted(o.seconds * 1000 for o in outcomes)[int(0.95 * len(outcomes))], 2
            ),
            "latency": latency,
            "overlaps": overlaps,
            "unexplained_refusals": unexplained_refusals(outcomes),
            "reservations_kept": kept,
            "held_equals_quotes": held == quotes,
            "ledger_audit": problems[:5],
        }
    finally:
        await ctx.aclose()
        await ctx.engine.dispose()


def correct(result: dict[str, Any]) -> bool:
    """No errors, overlaps or false refusals, and the money held is the accepted quotes."""
    return not (
        result["other_errors"]
        or result["overlaps"]
        or result["unexplained_refusals"]
        or result["ledger_audit"]
    ) and bool(result["held_equals_quotes"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--attempts", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=50, help="concurrent clients")
    parser.add_argument("--machines", type=int, default=200)
    parser.add_argument(
        "--renters", type=int, default=50, help="booking users (1: every client is one user)"
    )
    parser.add_argument("--conflict-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("GP4U_BENCH_DATABASE_URL"),
        help="postgresql+asyncpg://… (wiped); default: GP4U_BENCH_DATABASE_URL; SQLite always",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="server processes sharing the clients on PostgreSQL (SQLite: always 1)",
    )
    parser.add_argument(
        "--pool-size",
        type=int,
        default=None,
        help="PostgreSQL connections per server process (default: the server's, twice the cores)",
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    configure_logging("console", "CRITICAL")
    urls: list[str | None] = [] if args.skip_sqlite else [None]
    if args.database_url:
        urls.append(args.database_url)
    results = []
    for url in urls:
        with tempfile.TemporaryDirectory(prefix="gp4u-bench-bookings-") as workdir:
            results.append(uvloop.run(run(args, url, Path(workdir))))
    emit({"benchmark": "bookings", "seed": args.seed, "results": results})
    broken = [r["database"] for r in results if not correct(r)]
    if broken:
        sys.exit(f"correctness failed on {', '.join(sorted(set(broken)))}")


if __name__ == "__main__":
    main()

"""Ledger benchmark: journal entries per second under 16 concurrent clients (deposits, holds,
captures and voids on 64 wallets), then the audit, on SQLite and PostgreSQL.

Target (issue 5): ≥ 1,000 entries/s on PostgreSQL with the invariants still holding.

    python bench/ledger.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from common import database_kinds, emit, fresh_database
from gp4u.db.engine import create_engine, session_factory
from gp4u.kit.logging import configure_logging
from gp4u.ledger import service
from gp4u.ledger.repository import money_transaction

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


async def run(url: str, seconds: float) -> dict[str, Any]:
    engine = create_engine(url, **({"pool_size": CLIENTS} if url.startswith("postgresql") else {}))
    sessions = session_factory(engine)
    until = time.perf_counter() + seconds
    started = time.perf_counter()
    counts = await asyncio.gather(*(client(sessions, i, until) for i in range(CLIENTS)))
    elapsed = time.perf_counter() - started
    async with sessions() as session:
        problems = await service.audit(session)
    await engine.dispose()
    return {
        "clients": CLIENTS,
        "entries": sum(counts),
        "seconds": round(elapsed, 2),
        "entries_per_second": round(sum(counts) / elapsed),
        "audit_problems": len(problems),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    configure_logging("console", "WARNING")
    report: dict[str, Any] = {"benchmark": "ledger", "target_postgresql_per_second": 1000}
    for kind in database_kinds():
        report[kind] = asyncio.run(run(fresh_database(kind, "ledger"), args.seconds))
    emit(report)


if __name__ == "__main__":
    main()

"""Ingest benchmark: a 100k-offer SkyPilot catalog through `gp4u catalog import`'s code path
(parse, normalise, diff, write, history), on SQLite and PostgreSQL.

Target (issue 2): >= 20,000 offers/s for a 100k-offer import. Also measures a re-import with
nothing changed and one with 10% of the prices changed.

    python bench/ingest.py [--offers 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import Timer, database_kinds, emit, fresh_database, skypilot_csv, synthetic_offers
from gp4u.db.engine import create_engine, session_factory
from gp4u.kit.clock import FrozenClock
from gp4u.offers import jobs

TARGET_OFFERS_PER_S = 20_000


def write_catalog(directory: Path, offers: list[Any]) -> None:
    by_provider: dict[str, list[Any]] = {}
    for offer in offers:
        by_provider.setdefault(offer.provider, []).append(offer)
    for provider, items in by_provider.items():
        (directory / provider).mkdir(parents=True, exist_ok=True)
        (directory / provider / "vms.csv").write_text(skypilot_csv(items))


async def run_imports(url: str, catalog: Path, changed: Path, count: int) -> dict[str, Any]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    clock = FrozenClock(datetime.now(UTC))
    result: dict[str, Any] = {}
    try:
        for label, path in (
            ("first_import", catalog),
            ("reimport_unchanged", catalog),
            ("reimport_10pct_changed", changed),
        ):
            with Timer() as timer:
                imports = await jobs.import_catalog_files(sessions, [path], clock)
            clock.advance(timedelta(minutes=1))
            result[label] = {
                "seconds": round(timer.seconds, 3),
                "offers_per_s": round(count / timer.seconds),
                "added": sum(i.added for i in imports),
                "changed": sum(i.changed for i in imports),
                "unchanged": sum(i.unchanged for i in imports),
            }
    finally:
        await engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--offers", type=int, default=100_000)
    args = parser.parse_args()

    offers = list(synthetic_offers(args.offers))
    rng = random.Random(3)
    moved = [
        o
        if rng.random() > 0.10
        else type(o)(
            **{
                **{s: getattr(o, s) for s in o.__slots__},
                "price_per_hour": o.price_per_hour + 10_000,
            }
        )
        for o in offers
    ]
    workdir = Path(tempfile.mkdtemp(prefix="gp4u-bench-ingest-"))
    write_catalog(workdir / "v1", offers)
    write_catalog(workdir / "v2", moved)

    report: dict[str, Any] = {
        "benchmark": "ingest",
        "offers": args.offers,
        "target_offers_per_s": TARGET_OFFERS_PER_S,
        "databases": {},
    }
    for kind in database_kinds():
        url = fresh_database(kind, "ingest")
        figures = asyncio.run(run_imports(url, workdir / "v1", workdir / "v2", args.offers))
        figures["meets_target"] = figures["first_import"]["offers_per_s"] >= TARGET_OFFERS_PER_S
        report["databases"][kind] = figures
    emit(report)


if __name__ == "__main__":
    main()

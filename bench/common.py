"""Shared benchmark helpers: a realistic synthetic market, fresh databases, timing and JSON."""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import text

from gp4u.db.engine import create_engine
from gp4u.db.migrate import upgrade_sync
from gp4u.providers.base import ProviderOffer
from gp4u.settings import Settings

# (family spelling, per-GPU memory, typical $/GPU-hour, weight in the market)
GPUS = [
    ("H100 SXM", 80, 2.4, 14),
    ("H100 PCIe", 80, 2.1, 5),
    ("H200", 141, 3.2, 5),
    ("B200", 180, 5.0, 3),
    ("A100-80GB", 80, 1.5, 10),
    ("A100", 40, 1.1, 6),
    ("L40S", 48, 0.9, 7),
    ("RTX 4090", 24, 0.4, 16),
    ("RTX 3090", 24, 0.22, 10),
    ("RTX A6000", 48, 0.5, 6),
    ("L4", 24, 0.45, 4),
    ("A10", 24, 0.6, 4),
    ("T4", 16, 0.25, 4),
    ("V100-32GB", 32, 0.5, 3),
    ("MI300X", 192, 2.5, 2),
    ("RTX 5090", 32, 0.7, 4),
]
REGIONS = [
    ("us-east-1", "US"),
    ("us-west-2", "US"),
    ("eu-central-1", "DE"),
    ("eu-west-1", "IE"),
    ("ap-northeast-1", "JP"),
    ("ca-central-1", "CA"),
    ("Texas, US, NA", "US"),
    ("France, FR, EU", "FR"),
    ("ICE-01", "IS"),
    ("FIN-02", "FI"),
]
PROVIDERS = [f"provider{i:02d}" for i in range(10)]


def synthetic_offers(count: int, seed: int = 7) -> Iterator[ProviderOffer]:
    """`count` distinct offers spread over 10 providers, weighted like a real market."""
    rng = random.Random(seed)
    weights = [g[3] for g in GPUS]
    for i in range(count):
        name, memory, price, _ = rng.choices(GPUS, weights)[0]
        gpus = rng.choice([1, 1, 1, 2, 4, 8])
        region, country = rng.choice(REGIONS)
        spot = rng.random() < 0.3
        per_gpu = price * rng.lognormvariate(0, 0.35) * (0.55 if spot else 1.0)
        yield ProviderOffer(
            provider=PROVIDERS[i % len(PROVIDERS)],
            instance_type=f"{gpus}x-{name.replace(' ', '_')}-{i}",
            gpu_name=name,
            gpu_count=gpus,
            price_per_hour=round(per_gpu * gpus * 1e6),
            spot=spot,
            region=region,
            country=country,
            gpu_memory_gb=float(memory),
            vcpus=float(gpus * rng.choice([8, 12, 16, 26])),
            memory_gb=float(gpus * rng.choice([32, 64, 128, 225])),
            disk_gb=float(gpus * rng.choice([100, 250, 1000])),
            available=rng.random() < 0.92,
            reliability=round(rng.uniform(0.8, 1.0), 3),
        )


def skypilot_csv(offers: list[ProviderOffer]) -> str:
    """The offers written as a SkyPilot vms.csv (on-demand rows only)."""
    lines = [
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,"
        "SpotPrice,Region"
    ]
    for o in offers:
        info = (
            "\"{'Gpus': [{'Name': '"
            + o.gpu_name
            + "', 'Count': "
            + str(o.gpu_count)
            + ", 'MemoryInfo': {'SizeInMiB': "
            + str(int((o.gpu_memory_gb or 0) * 1024))
            + '}}]}"'
        )
        region = f'"{o.region}"' if o.region and "," in o.region else o.region
        lines.append(
            f"{o.instance_type},{o.gpu_name},{o.gpu_count},{o.vcpus},{o.memory_gb},"
            f"{info},{o.price_per_hour / 1e6:.4f},,{region}"
        )
    return "\n".join(lines) + "\n"


def fresh_database(kind: str, name: str) -> str:
    """A migrated, empty database: a new SQLite file, or the PostgreSQL bench database reset."""
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp(prefix=f"gp4u-bench-{name}-")) / "gp4u.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = os.environ["GP4U_BENCH_DATABASE_URL"]

        async def reset() -> None:
            engine = create_engine(url)
            async with engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
            await engine.dispose()

        asyncio.run(reset())
    upgrade_sync(url)
    return url


def database_kinds() -> list[str]:
    return ["sqlite", *(["postgresql"] if os.environ.get("GP4U_BENCH_DATABASE_URL") else [])]


def bench_settings(url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings of a benchmark's own database: no migrations at start, no market sources."""
    return Settings(
        env="test",
        data_dir=data_dir,
        database_url=url,
        migrate_on_start=False,
        simulated_market=False,
        catalog_url=None,
        **overrides,
    )


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def at(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

    return {
        "n": len(ordered),
        "p50_ms": at(0.50),
        "p90_ms": at(0.90),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.start


def emit(result: dict[str, Any]) -> None:
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    sys.stdout.flush()

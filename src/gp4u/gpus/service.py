"""The GPU catalog with its market: every reference model, its specs and what it costs now."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.catalog.normalise import known_family
from gp4u.catalog.reference import GpuFamily, families_by_name, gpu_families
from gp4u.kit.errors import NotFound
from gp4u.offers import service as offers
from gp4u.offers.query import build_query

_NO_MARKET = {
    "offers": 0,
    "providers": 0,
    "min_price_per_gpu_hour": None,
    "median_price_per_gpu_hour": None,
}


def _family(family: GpuFamily, market: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "name": family.name,
        "vendor": family.vendor,
        "architecture": family.architecture,
        "segment": family.segment,
        "default_memory_gb": family.default_memory_gb,
        "aliases": list(family.aliases),
        "variants": [asdict(v) for v in family.variants],
        "market": {
            "offers": market["offers"],
            "providers": market["providers"],
            "min_price_per_gpu_hour": market["min_price_per_gpu_hour"],
            "median_price_per_gpu_hour": market["median_price_per_gpu_hour"],
        }
        if market
        else dict(_NO_MARKET),
    }


async def list_gpus(
    session: AsyncSession, market: offers.MarketSearch | None = None
) -> dict[str, Any]:
    """Every reference model with its market summary, and the unrecognised names in the market."""
    summary = await offers.summarize(session, build_query(), "family", market)
    groups = {g["gpu"]: g for g in summary}
    known = families_by_name()
    return {
        "items": [_family(f, groups.get(f.name)) for f in gpu_families()],
        "unrecognised": [
            {"gpu": name, "offers": g["offers"]}
            for name, g in sorted(groups.items())
            if name not in known
        ],
    }


async def get_gpu(
    session: AsyncSession, name: str, market: offers.MarketSearch | None = None
) -> dict[str, Any]:
    """One model, found by any spelling (`a100-80gb`, `RTX 4090`)."""
    known = known_family(name)
    if known is None:
        raise NotFound(f"no GPU model matches {name!r}")
    family = families_by_name()[known]
    query = build_query(f'gpu="{known}"')
    groups = await offers.summarize(session, query, "family", market)
    return _family(family, groups[0] if groups else None)

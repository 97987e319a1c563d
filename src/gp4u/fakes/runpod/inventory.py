"""The fake RunPod's GPU inventory: `generate_offers` builds `gpuTypes` records from a catalogue
of RunPod's GPU types and public prices (moved a little per seed), each with a fake-only
`_stock` key holding per cloud what `lowestPrice` reports (`stockStatus`,
`maxUnreservedGpuCount`, `minVcpu`, `minMemory` for one GPU). `lowest_price` answers
`GpuType.lowestPrice(input: {gpuCount, secureCloud})` from it, and `best_cloud` picks the
cheapest cloud with enough GPUs free, which deployments use too.
"""

from __future__ import annotations

import random
from typing import Any

from gp4u.fakes.runpod.graphql import SCHEMA

CLOUD_TYPES = ("ALL", "SECURE", "COMMUNITY")
CLOUDS = ("secure", "community")

# (gpuTypeId, displayName, manufacturer, memoryInGb, maxGpuCount, secure $/GPU/h, community
# $/GPU/h, vCPUs and GB RAM per GPU): RunPod's names, prices of its public list (2025), rounded.
CATALOGUE: tuple[tuple[str, str, str, int, int, float, float, int, int], ...] = (
    ("NVIDIA B200", "B200", "Nvidia", 180, 8, 5.99, 0.0, 28, 283),
    ("NVIDIA H200", "H200 SXM", "Nvidia", 141, 8, 3.99, 0.0, 24, 188),
    ("NVIDIA H100 80GB HBM3", "H100 SXM", "Nvidia", 80, 8, 2.69, 2.69, 20, 125),
    ("NVIDIA H100 PCIe", "H100 PCIe", "Nvidia", 80, 8, 2.39, 1.99, 16, 125),
    ("NVIDIA H100 NVL", "H100 NVL", "Nvidia", 94, 8, 2.79, 2.59, 16, 94),
    ("NVIDIA A100-SXM4-80GB", "A100 SXM", "Nvidia", 80, 8, 1.74, 1.39, 16, 125),
    ("NVIDIA A100 80GB PCIe", "A100 80GB", "Nvidia", 80, 8, 1.64, 1.19, 8, 117),
    ("NVIDIA L40S", "L40S", "Nvidia", 48, 8, 0.86, 0.79, 12, 62),
    ("NVIDIA L40", "L40", "Nvidia", 48, 8, 0.99, 0.69, 8, 94),
    ("NVIDIA L4", "L4", "Nvidia", 24, 8, 0.43, 0.0, 4, 50),
    ("NVIDIA RTX 6000 Ada Generation", "RTX 6000 Ada", "Nvidia", 48, 8, 0.77, 0.74, 10, 62),
    ("NVIDIA RTX A6000", "RTX A6000", "Nvidia", 48, 8, 0.49, 0.33, 8, 50),
    ("NVIDIA A40", "A40", "Nvidia", 48, 8, 0.40, 0.0, 9, 50),
    ("NVIDIA RTX A5000", "RTX A5000", "Nvidia", 24, 8, 0.27, 0.16, 4, 25),
    ("NVIDIA RTX A4000", "RTX A4000", "Nvidia", 16, 8, 0.25, 0.17, 4, 20),
    ("NVIDIA RTX 4000 Ada Generation", "RTX 4000 Ada", "Nvidia", 20, 8, 0.26, 0.20, 4, 20),
    ("NVIDIA GeForce RTX 5090", "RTX 5090", "Nvidia", 32, 8, 0.94, 0.69, 8, 35),
    ("NVIDIA GeForce RTX 4090", "RTX 4090", "Nvidia", 24, 8, 0.69, 0.34, 6, 41),
    ("NVIDIA GeForce RTX 3090", "RTX 3090", "Nvidia", 24, 8, 0.43, 0.22, 4, 24),
    ("AMD Instinct MI300X OAM", "MI300X", "AMD", 192, 8, 2.49, 0.0, 24, 283),
    ("Tesla V100-SXM2-16GB", "Tesla V100", "Nvidia", 16, 8, 0.0, 0.19, 6, 44),
)
_STOCK_WORDS = ("High", "High", "Medium", "Low", None)


def _stock(rng: random.Random, price: float, max_count: int, vcpus: int, ram: int) -> Any:
    if not price:
        return None
    word = rng.choice(_STOCK_WORDS)
    unreserved = 0 if word is None else rng.choice([1, 2, 4, max_count, max_count])
    return {
        "stockStatus": word,
        "maxUnreservedGpuCount": unreserved,
        "minVcpu": vcpus,
        "minMemory": ram,
    }


def generate_offers(count: int, seed: int) -> list[dict[str, Any]]:
    """`count` RunPod `gpuTypes` records: the catalogue with prices moved a little, then copies
    of it under numbered ids, each with its own stock."""
    rng = random.Random(seed)
    records = []
    for index in range(count):
        gpu_id, name, maker, memory, max_count, secure, community, vcpus, ram = CATALOGUE[
            index % len(CATALOGUE)
        ]
        copy = index // len(CATALOGUE)
        factor = 1 + rng.uniform(-0.08, 0.08)
        secure_price = round(secure * factor, 2)
        community_price = round(community * factor, 2)
        spot_share = rng.choice([0.0, 0.5, 0.6, 0.7])
        records.append(
            {
                "id": gpu_id if copy == 0 else f"{gpu_id} #{copy}",
                "displayName": name,
                "manufacturer": maker,
                "memoryInGb": memory,
                "maxGpuCount": max_count,
                "secureCloud": bool(secure_price),
                "communityCloud": bool(community_price),
                "securePrice": secure_price,
                "communityPrice": community_price,
                "secureSpotPrice": round(secure_price * spot_share, 2),
                "communitySpotPrice": round(community_price * spot_share, 2),
                "_stock": {
                    "secure": _stock(rng, secure_price, max_count, vcpus, ram),
                    "community": _stock(rng, community_price, max_count, vcpus, ram),
                },
            }
        )
    return records


def lowest_price(record: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """`GpuType.lowestPrice(input: {gpuCount, secureCloud})` from the record's `_stock`."""
    if isinstance(record.get("lowestPrice"), dict):
        return dict(record["lowestPrice"])
    wanted = args.get("input") or {}
    count = wanted.get("gpuCount") or 1
    secure = wanted.get("secureCloud")
    clouds = ["secure"] if secure is True else ["community"] if secure is False else list(CLOUDS)
    answer: dict[str, Any] = dict.fromkeys(SCHEMA["LowestPrice"])
    answer |= {"gpuTypeId": record.get("id"), "gpuName": record.get("displayName")}
    answer |= {"availableGpuCounts": [], "maxUnreservedGpuCount": 0}
    best = best_cloud(record, clouds, count)
    if best is None:
        return answer
    cloud, stock = best
    unreserved = stock["maxUnreservedGpuCount"]
    spot = record.get(f"{cloud}SpotPrice") or None
    return answer | {
        "stockStatus": stock["stockStatus"],
        "uninterruptablePrice": record.get(f"{cloud}Price"),
        "minimumBidPrice": spot,
        "minVcpu": times(stock.get("minVcpu"), count),
        "minMemory": times(stock.get("minMemory"), count),
        "maxUnreservedGpuCount": unreserved,
        "availableGpuCounts": list(range(1, min(unreserved, record.get("maxGpuCount") or 1) + 1)),
    }


def times(per_gpu: Any, count: int) -> Any:
    return per_gpu * count if isinstance(per_gpu, int | float) else None


def best_cloud(
    record: dict[str, Any], clouds: list[str], count: int
) -> tuple[str, dict[str, Any]] | None:
    """The cheapest of `clouds` that has `count` GPUs of this type free now."""
    best: tuple[float, str, dict[str, Any]] | None = None
    for cloud in clouds:
        stock = (record.get("_stock") or {}).get(cloud)
        price = record.get(f"{cloud}Price")
        if not isinstance(stock, dict) or not stock.get("stockStatus"):
            continue
        if not isinstance(price, int | float) or price <= 0:
            continue
        if count > min(stock.get("maxUnreservedGpuCount") or 0, record.get("maxGpuCount") or 1):
            continue
        if best is None or price < best[0]:
            best = (price, cloud, stock)
    return (best[1], best[2]) if best else None

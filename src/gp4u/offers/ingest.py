"""Turning a source's offers into market rows, and deciding what an import changes (pure).

An offer's identity within a source is its key: provider, instance type, region, zone and
on-demand/spot. Re-importing the same data changes nothing; a changed price, availability or spec
updates the row (and price or availability changes add a history point); an offer missing from
the new data is marked unavailable, never deleted.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

import orjson

from gp4u.catalog.normalise import normalise_gpu
from gp4u.kit.money import divide_micros
from gp4u.offers.fields import MEASURED_COLUMNS, MEASURED_PRECISIONS
from gp4u.providers.base import ProviderOffer

SOURCES = ("catalog", "live", "simulated", "host", "local")

# Columns that describe an offer (everything but identity, availability and timestamps).
_CONTENT = (
    "instance_type",
    "region",
    "zone",
    "country",
    "gpu",
    "gpu_variant",
    "gpu_memory_gb",
    "gpu_count",
    "gpu_known",
    "gpu_raw_name",
    "vcpus",
    "memory_gb",
    "disk_gb",
    "price_per_hour",
    "price_per_gpu_hour",
    "spot",
    "reliability",
    "offer_ref",
    "available_count",
    "dlperf",
    "inet_down_mbps",
    "inet_up_mbps",
    *MEASURED_COLUMNS,
)


def offer_key(source: str, offer: ProviderOffer) -> str:
    kind = "spot" if offer.spot else "on-demand"
    return "|".join(
        (source, offer.provider, offer.instance_type, offer.region or "", offer.zone or "", kind)
    )


_content_of = itemgetter(*_CONTENT)


def _content_hash(row: dict[str, Any]) -> str:
    return hashlib.blake2b(orjson.dumps(_content_of(row)), digest_size=12).hexdigest()


def to_row(source: str, offer: ProviderOffer) -> dict[str, Any]:
    """The market row for one provider offer, GPU normalised and prices in micro-USD."""
    gpu = normalise_gpu(offer.gpu_name, offer.gpu_memory_gb, offer.gpu_count)
    row: dict[str, Any] = {
        "key": offer_key(source, offer),
        "source": source,
        "provider": offer.provider.lower(),
        "instance_type": offer.instance_type,
        "region": offer.region,
        "zone": offer.zone,
        "country": offer.country.upper() if offer.country else None,
        "gpu": gpu.gpu,
        "gpu_variant": gpu.variant,
        "gpu_memory_gb": gpu.memory_gb,
        "gpu_count": offer.gpu_count,
        "gpu_known": gpu.known,
        "gpu_raw_name": offer.gpu_name[:128],
        "vcpus": offer.vcpus,
        "memory_gb": offer.memory_gb,
        "disk_gb": offer.disk_gb,
        "price_per_hour": offer.price_per_hour,
        "price_per_gpu_hour": divide_micros(offer.price_per_hour, offer.gpu_count),
        "spot": offer.spot,
        "available": offer.available,
        "reliability": offer.reliability,
        "offer_ref": offer.offer_ref,
        "available_count": offer.available_count,
        "dlperf": offer.dlperf,
        "inet_down_mbps": offer.inet_down_mbps,
        "inet_up_mbps": offer.inet_up_mbps,
        **{
            f"measured_{precision}_tflops": (offer.measured_tflops or {}).get(precision)
            for precision in MEASURED_PRECISIONS
        },
        "stale": False,
    }
    row["content_hash"] = _content_hash(row)
    return row


@dataclass(frozen=True, slots=True)
class Existing:
    id: int
    content_hash: str
    price_per_hour: int
    price_per_gpu_hour: int
    available: bool
    stale: bool = False


@dataclass
class ImportPlan:
    """What one import writes: new rows, changed rows (with ids), history points, gone ids."""

    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    unchanged: int = 0
    duplicates: int = 0
    unknown_gpus: Counter[str] = field(default_factory=Counter)


def plan_import(
    source: str, offers: list[ProviderOffer], existing: dict[str, Existing], now: datetime
) -> ImportPlan:
    """Diff a source's offers against the rows it already has.

    Two offers with the same key (a marketplace listing the same configuration twice in one
    region) keep the cheaper one; the other is counted as a duplicate."""
    plan = ImportPlan()
    rows: dict[str, dict[str, Any]] = {}
    for offer in offers:
        row = to_row(source, offer)
        previous = rows.get(row["key"])
        if previous is not None:
            plan.duplicates += 1
            if row["price_per_hour"] >= previous["price_per_hour"]:
                continue
        rows[row["key"]] = row

    for key, row in rows.items():
        if not row["gpu_known"]:
            plan.unknown_gpus[row["gpu_raw_name"]] += 1
        old = existing.get(key)
        if old is None:
            row["created_at"] = row["updated_at"] = now
            plan.new.append(row)
            continue
        price_moved = old.price_per_hour != row["price_per_hour"]
        same = old.content_hash == row["content_hash"] and old.available == row["available"]
        if same and not old.stale:  # a stale offer confirmed again is rewritten, not stale
            plan.unchanged += 1
            continue
        row["id"], row["updated_at"] = old.id, now
        plan.changed.append(row)
        if price_moved or old.available != row["available"]:
            plan.history.append(_point(old.id, row, now))

    for key, old in existing.items():
        if key not in rows and old.available:
            plan.gone.append(old.id)
            plan.history.append(
                {
                    "offer_id": old.id,
                    "at": now,
                    "price_per_hour": old.price_per_hour,
                    "price_per_gpu_hour": old.price_per_gpu_hour,
                    "available": False,
                }
            )
    return plan


def _point(offer_id: int, row: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "offer_id": offer_id,
        "at": now,
        "price_per_hour": row["price_per_hour"],
        "price_per_gpu_hour": row["price_per_gpu_hour"],
        "available": row["available"],
    }

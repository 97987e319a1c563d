"""The offers a plan may choose from, as aligned columns, and which of them a job can use (pure).

`PlanMarket` is built once per request (from the market index by the service, or from plain
records in tests) for the job's precision: `pflops` is each instance's useful throughput
(`clusters.throughput`), from the spec or, lower, from what the machine's agent measured
(`measured`). `eligibility` applies the job's per-offer constraints and counts why
offers were left out, so an infeasible plan can name the constraint that emptied the market.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from gp4u.clusters.requirements import JobRequirement, Placement, Precision
from gp4u.clusters.throughput import efficiency_of, gpu_pflops, instance_pflops, with_measured
from gp4u.offers.index import MarketIndex
from gp4u.pricing.value import distinct_coded_gpus

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

# The order per-offer constraints are checked in; an offer is counted under the first it fails.
FILTERS = (
    "excluded",
    "sold_out",
    "no_price",
    "no_throughput",
    "vram",
    "gpus_per_machine",
    "reliability",
    "spot",
    "region_unknown",
)


@dataclass(frozen=True)
class PlanMarket:
    """Candidate offers. Prices in micro-USD per instance-hour; `available` = instances that can
    be rented now (1 where the provider does not say, 0 when sold out); `score` = G-Score, used
    by the greedy plan; `provider` and `region` are codes into the name tables (-1 = unknown
    region)."""

    ids: Ints
    price_micros: Ints
    pflops: Floats
    gpu_count: Ints
    gpu_memory_gb: Floats
    reliability: Floats
    available: Ints
    spot: Mask
    provider: Ints
    region: Ints
    score: Floats
    measured: Mask  # its throughput is its agent's benchmark (below the spec, or no spec)
    gpu: Sequence[str]
    provider_names: Sequence[str]
    region_names: Sequence[str]
    precision: Precision

    def __len__(self) -> int:
        return int(self.ids.size)

    def label(self, row: int) -> str:
        """`2x H100 80 GB on lambda (us-east-1)` for explanations."""
        region = self.region_names[self.region[row]] if self.region[row] >= 0 else None
        where = f"{self.provider_names[self.provider[row]]}" + (f" ({region})" if region else "")
        return (
            f"{self.gpu_count[row]}x {self.gpu[row]} {self.gpu_memory_gb[row]:g} GB on {where}"
            + (" spot" if self.spot[row] else "")
        )

    def usd_per_pflop_hour(self) -> Floats:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.price_micros / 1e6 / self.pflops


def _codes(values: Sequence[str | None]) -> tuple[Ints, list[str]]:
    names: dict[str, int] = {}
    codes = [-1 if v is None else names.setdefault(v, len(names)) for v in values]
    return np.array(codes, dtype=np.int64), list(names)


def market_from_records(
    records: Sequence[Mapping[str, Any]], precision: Precision = "bf16"
) -> PlanMarket:
    """A market from offer records with the offers API's fields (prices in micro-USD):
    id, provider, region, gpu, gpu_variant, gpu_memory_gb, gpu_count, price_per_hour, spot,
    reliability, available_count, and optionally g_score."""
    counts = np.array([int(r["gpu_count"]) for r in records], dtype=np.int64)
    memories = [float(r["gpu_memory_gb"]) for r in records]
    provider, provider_names = _codes([str(r["provider"]) for r in records])
    region, region_names = _codes([r.get("region") for r in records])
    gpus = [str(r["gpu"]) for r in records]
    spec = instance_pflops(
        gpus, [r.get("gpu_variant") for r in records], memories, counts, precision
    )
    measured = np.array(
        [r.get(f"measured_{precision}_tflops") or np.nan for r in records], dtype=np.float64
    )
    pflops, measured_used = with_measured(
        spec, measured, np.array([efficiency_of(g) for g in gpus]), precision
    )
    return PlanMarket(
        ids=np.array([int(r["id"]) for r in records], dtype=np.int64),
        price_micros=np.array([int(r["price_per_hour"]) for r in records], dtype=np.int64),
        pflops=pflops,
        gpu_count=counts,
        gpu_memory_gb=np.array(memories, dtype=np.float64),
        reliability=np.array(
            [np.nan if r.get("reliability") is None else float(r["reliability"]) for r in records],
            dtype=np.float64,
        ),
        available=np.array(
            [1 if r.get("available_count") is None else int(r["available_count"]) for r in records],
            dtype=np.int64,
        ),
        spot=np.array([bool(r.get("spot")) for r in records], dtype=bool),
        provider=provider,
        region=region,
        score=np.array([float(r.get("g_score") or 0.0) for r in records], dtype=np.float64),
        measured=measured_used,
        gpu=gpus,
        provider_names=provider_names,
        region_names=region_names,
        precision=precision,
    )


@dataclass(frozen=True)
class Eligibility:
    """Which offers the job can use, and how many each constraint removed (first failed)."""

    mask: Mask
    removed: dict[str, int]

    @property
    def count(self) -> int:
        return int(self.mask.sum())


def filter_masks(market: PlanMarket, req: JobRequirement) -> dict[str, Mask]:
    """For each per-offer constraint, the offers it would remove (True = fails)."""
    excluded = (
        np.isin(market.ids, np.fromiter(req.exclude_offers, dtype=np.int64))
        if req.exclude_offers
        else np.zeros(len(market), dtype=bool)
    )
    reliability = (
        ~(np.nan_to_num(market.reliability, nan=0.0) >= req.min_reliability)
        if req.min_reliability
        else np.zeros(len(market), dtype=bool)
    )
    return {
        "excluded": excluded,
        "sold_out": market.available < 1,
        "no_price": ~(market.price_micros > 0),
        "no_throughput": ~(np.nan_to_num(market.pflops) > 0),
        "vram": market.gpu_memory_gb < req.min_vram_gb,
        "gpus_per_machine": market.gpu_count < req.min_gpus_per_machine,
        "reliability": reliability,
        "spot": market.spot & (not req.spot_allowed),
        "region_unknown": (market.region < 0) & (req.placement is Placement.SAME_REGION),
    }


def eligibility(market: PlanMarket, req: JobRequirement) -> Eligibility:
    """The offers passing every per-offer constraint."""
    left = np.ones(len(market), dtype=bool)
    removed = {}
    for name, fails in filter_masks(market, req).items():
        hit = left & fails
        removed[name] = int(hit.sum())
        left &= ~fails
    return Eligibility(mask=left, removed=removed)


def group_keys(market: PlanMarket, placement: Placement) -> Ints:
    """The group each offer belongs to for placement (all 0 when members may be anywhere)."""
    if placement is Placement.SAME_PROVIDER:
        return market.provider.copy()
    if placement is Placement.SAME_REGION:
        return market.provider * (len(market.region_names) + 1) + (market.region + 1)
    return np.zeros(len(market), dtype=np.int64)


def _coded_pflops(index: MarketIndex, slots: npt.NDArray[np.intp], precision: Precision) -> Floats:
    """Useful PFLOPS per GPU of indexed offers, each distinct GPU resolved once."""
    distinct, position = distinct_coded_gpus(
        index.texts["gpu"][slots],
        index.strings["gpu"].values,
        index.texts["gpu_variant"][slots],
        index.strings["gpu_variant"].values,
        np.nan_to_num(index.numbers["gpu_memory_gb"][slots]),
    )
    rates = np.array([gpu_pflops(*key, precision) for key in distinct], dtype=np.float64)
    return rates[position]


def market_from_index(
    index: MarketIndex, precision: Precision, score: Floats | None = None
) -> PlanMarket:
    """The available offers of the market index (`score` = G-Score per available offer)."""
    slots = np.flatnonzero(index.bools["available"])
    count = np.nan_to_num(index.numbers["gpu_count"][slots]).astype(np.int64)
    available = index.numbers["available_count"][slots]
    region = index.texts["region"][slots].astype(np.int64)
    spec = _coded_pflops(index, slots, precision) * count
    efficiency = np.array([efficiency_of(g) for g in index.strings["gpu"].values] or [0.0])
    pflops, measured_used = with_measured(
        spec,
        index.numbers[f"measured_{precision}_tflops"][slots],
        efficiency[index.texts["gpu"][slots]],
        precision,
    )
    return PlanMarket(
        ids=index.ids[slots].astype(np.int64),
        price_micros=np.nan_to_num(index.numbers["price_per_hour"][slots]).astype(np.int64),
        pflops=pflops,
        gpu_count=count,
        gpu_memory_gb=np.nan_to_num(index.numbers["gpu_memory_gb"][slots]),
        reliability=index.numbers["reliability"][slots],
        available=np.where(np.isfinite(available), np.maximum(available, 0), 1).astype(np.int64),
        spot=index.bools["spot"][slots],
        provider=index.texts["provider"][slots].astype(np.int64),
        region=region,
        score=score if score is not None else np.zeros(slots.size),
        measured=measured_used,
        gpu=_Names(index.strings["gpu"].values, index.texts["gpu"][slots]),
        provider_names=index.strings["provider"].values,
        region_names=index.strings["region"].values,
        precision=precision,
    )


class _Names(Sequence[str]):
    """Names of a coded text column, looked up only when read (explanations read a few)."""

    def __init__(self, table: Sequence[str], codes: npt.NDArray[np.int32]) -> None:
        self._table, self._codes = table, codes

    def __len__(self) -> int:
        return int(self._codes.size)

    def __getitem__(self, row: Any) -> Any:
        code = int(self._codes[row])
        return self._table[code] if code >= 0 else "?"

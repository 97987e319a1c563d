"""Arbitrage between providers, computed on the market index (pure: numpy, no I/O).

A comparable group is one GPU model and memory size, the same variant (SXM and PCIe differ in
performance; an offer that does not state its variant is its own group, never guessed), the same
GPU count, and on-demand or spot (never mixed). For each group with offers from at least two
providers: the cheapest and the most expensive offer, the median, the spread in $ per GPU-hour
and as a share of the most expensive price (what choosing the cheapest saves), and the
instance-hour saving (spread × GPUs).

Speed: the sort of every offer by (group, price, id) and by (group, provider) is computed once per
index version and cached; a request then only filters, which is linear in the market size.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from gp4u.kit.money import divide_micros
from gp4u.offers.index import MarketIndex
from gp4u.offers.query import OfferQuery

Sort = Literal["spread_pct", "spread", "saved_per_hour"]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Frame:
    """Every offer's group id, and two orders of the index slots: by (group, price, id) and by
    (group, provider)."""

    version: int
    group: Ints
    by_price: npt.NDArray[np.intp]
    by_provider: npt.NDArray[np.intp]


_FRAMES: weakref.WeakKeyDictionary[MarketIndex, Frame] = weakref.WeakKeyDictionary()


def group_ids(index: MarketIndex) -> Ints:
    """One int64 per offer combining GPU, memory, variant, GPU count and spot."""
    gpu = index.texts["gpu"].astype(np.int64) + 1
    memory = np.nan_to_num(index.numbers["gpu_memory_gb"]).astype(np.int64)
    variant = index.texts["gpu_variant"].astype(np.int64) + 1
    count = np.nan_to_num(index.numbers["gpu_count"]).astype(np.int64)
    spot = index.bools["spot"].astype(np.int64)
    return (((gpu * 4096 + memory) * 256 + variant) * 1024 + count) * 2 + spot


def frame_of(index: MarketIndex) -> Frame:
    """The cached sort orders of this index, recomputed when its version moved."""
    frame = _FRAMES.get(index)
    if frame is not None and frame.version == index.version and frame.group.size == index.size:
        return frame
    group = group_ids(index)
    price = index.numbers["price_per_gpu_hour"]
    by_price = np.lexsort((index.ids, price, group))
    by_provider = np.lexsort((index.texts["provider"], group))
    frame = Frame(index.version, group, by_price, by_provider)
    _FRAMES[index] = frame
    return frame


@dataclass(frozen=True)
class ArbitrageQuery:
    offers: OfferQuery  # which offers take part (the query language; available only by default)
    min_spread_pct: float = 0.0
    provider: str | None = None  # only groups where this provider has an offer
    sort: Sort = "spread_pct"
    limit: int = 50


def opportunities(index: MarketIndex, request: ArbitrageQuery) -> tuple[list[dict[str, Any]], int]:
    """The groups worth knowing, best first, and how many groups qualified in all. Prices in
    integer micro-USD; the caller presents them."""
    if index.size == 0:
        return [], 0
    frame = frame_of(index)
    mask = index.matching(request.offers)
    slots = frame.by_price[mask[frame.by_price]]
    if slots.size == 0:
        return [], 0
    groups = frame.group[slots]
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    ends = np.r_[starts[1:], slots.size]
    providers = _distinct_providers(index, frame, mask, groups[starts])
    price = index.numbers["price_per_gpu_hour"][slots].astype(np.int64)
    low, high = price[starts], price[ends - 1]
    spread = high - low
    with np.errstate(divide="ignore", invalid="ignore"):
        spread_pct = np.where(high > 0, spread * 100.0 / high, 0.0)
    keep = (providers >= 2) & (spread_pct >= request.min_spread_pct)
    if request.provider is not None:
        keep &= _groups_with_provider(index, slots, starts, ends, request.provider)
    chosen = np.flatnonzero(keep)
    counts = index.numbers["gpu_count"][slots[starts]]
    saved = spread * np.nan_to_num(counts).astype(np.int64)
    key = {"spread_pct": spread_pct, "spread": spread, "saved_per_hour": saved}[request.sort]
    order = chosen[np.lexsort((groups[starts][chosen], -key[chosen]))][: request.limit]
    items = [
        _item(index, slots, price, int(starts[g]), int(ends[g]), int(providers[g]))
        for g in order.tolist()
    ]
    return items, int(chosen.size)


def _distinct_providers(
    index: MarketIndex, frame: Frame, mask: npt.NDArray[np.bool_], wanted: Ints
) -> Ints:
    """For each wanted group id, how many distinct providers its matching offers have."""
    slots = frame.by_provider[mask[frame.by_provider]]
    groups = frame.group[slots]
    providers = index.texts["provider"][slots]
    first = np.r_[True, (groups[1:] != groups[:-1]) | (providers[1:] != providers[:-1])]
    distinct_groups, counts = np.unique(groups[first], return_counts=True)
    position = np.searchsorted(distinct_groups, wanted)
    return counts[position].astype(np.int64)


def _groups_with_provider(
    index: MarketIndex, slots: Any, starts: Any, ends: Any, provider: str
) -> npt.NDArray[np.bool_]:
    code = index.strings["provider"].codes.get(provider.lower())
    if code is None:
        return np.zeros(starts.size, dtype=bool)
    has = (index.texts["provider"][slots] == code).astype(np.int64)
    cumulative = np.r_[0, np.cumsum(has)]
    result: npt.NDArray[np.bool_] = (cumulative[ends] - cumulative[starts]) > 0
    return result


def _offer(index: MarketIndex, slot: int) -> dict[str, Any]:
    def text(name: str) -> str | None:
        code = int(index.texts[name][slot])
        return None if code < 0 else index.strings[name].values[code]

    return {
        "offer_id": int(index.ids[slot]),
        "provider": text("provider"),
        "region": text("region"),
        "country": text("country"),
        "price_per_hour": int(index.numbers["price_per_hour"][slot]),
        "price_per_gpu_hour": int(index.numbers["price_per_gpu_hour"][slot]),
    }


def _item(
    index: MarketIndex, slots: Any, price: Ints, start: int, end: int, providers: int
) -> dict[str, Any]:
    first = int(slots[start])
    count = end - start
    median = divide_micros(int(price[start + (count - 1) // 2]) + int(price[start + count // 2]), 2)
    low, high = int(price[start]), int(price[end - 1])
    variant = int(index.texts["gpu_variant"][first])
    gpus = int(index.numbers["gpu_count"][first])
    return {
        "gpu": index.strings["gpu"].values[int(index.texts["gpu"][first])],
        "gpu_memory_gb": int(index.numbers["gpu_memory_gb"][first]),
        "gpu_variant": None if variant < 0 else index.strings["gpu_variant"].values[variant],
        "gpu_count": gpus,
        "spot": bool(index.bools["spot"][first]),
        "offers": count,
        "providers": providers,
        "min_price_per_gpu_hour": low,
        "median_price_per_gpu_hour": median,
        "max_price_per_gpu_hour": high,
        "spread_per_gpu_hour": high - low,
        "spread_pct": round((high - low) * 100 / high, 2) if high else 0.0,
        "saved_per_hour": (high - low) * gpus,
        "savings_vs_median_pct": round((median - low) * 100 / median, 2) if median else 0.0,
        "cheapest": _offer(index, first),
        "most_expensive": _offer(index, int(slots[end - 1])),
    }


@dataclass(frozen=True)
class SavingsQuery:
    offers: OfferQuery  # one GPU configuration: gpu, gpu_count, spot (and any other filter)
    hours_per_day: float
    days: float
    provider: str | None = None


def savings(index: MarketIndex, request: SavingsQuery) -> dict[str, Any] | None:
    """What running this configuration costs at the cheapest offer, at the market median and at
    a chosen provider's cheapest offer, for the period and per 30-day month (micro-USD).
    None when no offer matches."""
    slots = np.flatnonzero(index.matching(request.offers))
    if slots.size == 0:
        return None
    hourly = index.numbers["price_per_hour"][slots].astype(np.int64)
    order = np.lexsort((index.ids[slots], hourly))
    slots, hourly = slots[order], hourly[order]
    n = hourly.size
    median = divide_micros(int(hourly[(n - 1) // 2]) + int(hourly[n // 2]), 2)
    hours = request.hours_per_day * request.days
    month = request.hours_per_day * 30

    def costs(per_hour: int) -> dict[str, int]:
        return {
            "price_per_hour": per_hour,
            "period": round(per_hour * hours),
            "per_month": round(per_hour * month),
        }

    cheapest = int(hourly[0])
    result: dict[str, Any] = {
        "offers": int(n),
        "hours": hours,
        "cheapest": {**costs(cheapest), "offer": _offer(index, int(slots[0]))},
        "median": costs(median),
        "savings_vs_median": _saved(cheapest, median, hours, month),
        "provider": None,
        "savings_vs_provider": None,
    }
    if request.provider is not None:
        code = index.strings["provider"].codes.get(request.provider.lower(), -2)
        theirs = np.flatnonzero(index.texts["provider"][slots] == code)
        if theirs.size:
            first = int(theirs[0])
            price = int(hourly[first])
            result["provider"] = {**costs(price), "offer": _offer(index, int(slots[first]))}
            result["savings_vs_provider"] = _saved(cheapest, price, hours, month)
    return result


def _saved(cheapest: int, other: int, hours: float, month: float) -> dict[str, Any]:
    per_hour = other - cheapest
    return {
        "per_hour": per_hour,
        "period": round(per_hour * hours),
        "per_month": round(per_hour * month),
        "pct": round(per_hour * 100 / other, 2) if other else 0.0,
    }

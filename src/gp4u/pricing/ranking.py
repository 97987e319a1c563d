"""Recommendations: the offers a query selects (its conditions are the hard constraints), ranked
by TOPSIS over six criteria with the user's weights (pure: numpy over the market index).

Criteria, per offer:
- price: $ per instance-hour (a cost);
- performance: dense BF16 TFLOPS of the whole instance (FP16/FP32 where the GPU has no BF16;
  0 when the reference table has no figure);
- vram: GB of GPU memory in the instance;
- reliability: as the provider states it, else the median of the offers that state one;
- availability: how many such instances can be had now, log-scaled (1 when unknown);
- region: 1 when the offer is in one of the preferred regions or countries, else 0 (only when
  the user names some).
TOPSIS ranks are invariant to the units of each criterion (vector normalisation), so $/hour and
$/day rank alike. Each result says which criteria helped and hurt it most.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from gp4u.offers.index import MarketIndex
from gp4u.offers.query import OfferQuery
from gp4u.pricing.topsis import explain, topsis
from gp4u.pricing.value import coded_spec_columns

CRITERIA = ("price", "performance", "vram", "reliability", "availability", "region")
BENEFIT = {
    "price": False,
    "performance": True,
    "vram": True,
    "reliability": True,
    "availability": True,
    "region": True,
}
DEFAULT_WEIGHTS = {
    "price": 0.35,
    "performance": 0.25,
    "vram": 0.15,
    "reliability": 0.15,
    "availability": 0.05,
    "region": 0.05,
}


def parse_weights(text: str | None) -> dict[str, float]:
    """`price:0.5,performance:0.3` → weights (unnamed criteria get 0 when any is named)."""
    if not text:
        return dict(DEFAULT_WEIGHTS)
    weights = dict.fromkeys(CRITERIA, 0.0)
    for part in text.split(","):
        name, _, value = part.partition(":")
        name = name.strip().lower()
        if name not in weights:
            raise ValueError(f"unknown criterion {name!r}; criteria: {', '.join(CRITERIA)}")
        try:
            weights[name] = float(value)
        except ValueError:
            raise ValueError(f"weight of {name!r} must be a number, not {value!r}") from None
        if not np.isfinite(weights[name]) or weights[name] < 0:
            raise ValueError(f"weight of {name!r} must be a non-negative number")
    if sum(weights.values()) <= 0:
        raise ValueError("at least one weight must be positive")
    return weights


@dataclass(frozen=True)
class Ranked:
    slot: int
    closeness: float
    rank: int
    criteria: dict[str, float]
    helped: list[dict[str, Any]]
    hurt: list[dict[str, Any]]


def _region_match(index: MarketIndex, slots: npt.NDArray[np.intp], wanted: Sequence[str]) -> Any:
    wanted_lower = {w.lower() for w in wanted}
    hit = np.zeros(slots.size, dtype=bool)
    for field in ("region", "country"):
        table = index.strings[field]
        codes = [i for i, value in enumerate(table.values) if value.lower() in wanted_lower]
        hit |= np.isin(index.texts[field][slots], codes)
    return hit.astype(np.float64)


def criteria_matrix(
    index: MarketIndex, slots: npt.NDArray[np.intp], regions: Sequence[str]
) -> npt.NDArray[np.float64]:
    """One row per offer, one column per criterion (in CRITERIA order)."""
    gpus = index.texts["gpu"][slots]
    _, tflops, _ = coded_spec_columns(
        gpus,
        index.strings["gpu"].values,
        index.texts["gpu_variant"][slots],
        index.strings["gpu_variant"].values,
        index.numbers["gpu_memory_gb"][slots],
    )
    count = np.nan_to_num(index.numbers["gpu_count"][slots])
    reliability = index.numbers["reliability"][slots]
    stated = reliability[np.isfinite(reliability)]
    neutral = float(np.median(stated)) if stated.size else 0.95
    available = index.numbers["available_count"][slots]
    return np.column_stack(
        [
            index.numbers["price_per_hour"][slots] / 1e6,
            np.nan_to_num(tflops) * count,
            np.nan_to_num(index.numbers["gpu_memory_gb"][slots]) * count,
            np.where(np.isfinite(reliability), reliability, neutral),
            np.log1p(np.where(np.isfinite(available), available, 1.0)),
            _region_match(index, slots, regions) if regions else np.zeros(slots.size),
        ]
    )


def recommend(
    index: MarketIndex,
    query: OfferQuery,
    weights: Mapping[str, float],
    regions: Sequence[str] = (),
    limit: int = 20,
) -> tuple[list[Ranked], int]:
    """The best `limit` offers among those the query selects, and how many were ranked."""
    slots = np.flatnonzero(index.matching(query))
    if slots.size == 0:
        return [], 0
    used = {k: (v if (k != "region" or regions) else 0.0) for k, v in weights.items()}
    if sum(used.values()) <= 0:
        used = {**used, "price": 1.0}
    matrix = criteria_matrix(index, slots, regions)
    result = topsis(matrix, [used[c] for c in CRITERIA], [BENEFIT[c] for c in CRITERIA])
    closeness = result.closeness
    want = min(limit, slots.size)
    top = np.argpartition(-closeness, want - 1)[:want]
    top = top[np.lexsort((index.ids[slots[top]], -closeness[top]))]
    ranked = []
    for position, row in enumerate(top.tolist(), start=1):
        why = explain(result, row, CRITERIA, top=2)
        ranked.append(
            Ranked(
                slot=int(slots[row]),
                closeness=round(float(closeness[row]), 6),
                rank=position,
                criteria={c: round(float(matrix[row, j]), 6) for j, c in enumerate(CRITERIA)},
                helped=[{"criterion": e.criterion, "share": round(e.share, 3)} for e in why.helped],
                hurt=[{"criterion": e.criterion, "share": round(e.share, 3)} for e in why.hurt],
            )
        )
    return ranked, int(slots.size)

"""Price series from offer history (pure: numpy). An offer's price and availability hold from
one history point to the next; at each step of the series, the offers available then give the
minimum, the median and the count of $/GPU-hour."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from gp4u.kit.clock import ensure_utc
from gp4u.kit.money import divide_micros


@dataclass(frozen=True)
class Point:
    at: datetime
    min: int | None  # micro-USD per GPU-hour; None when nothing was available
    median: int | None
    offers: int


def steps(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    """Step times from `start` to `end` inclusive."""
    count = int((end - start) / step)
    return [start + i * step for i in range(count + 1)]


def series(points: Sequence[Sequence[Any]], times: Sequence[datetime]) -> list[Point]:
    """The market's state at each time, from history rows (offer_id, at, price, available)
    sorted by offer and time."""
    if not times:
        return []
    stamps = np.array([ensure_utc(t).timestamp() for t in times])
    n = len(times)
    prices: list[list[int]] = [[] for _ in range(n)]
    if points:
        offer = np.array([int(p[0]) for p in points])
        at = np.array([_epoch(p[1]) for p in points])
        price = np.array([int(p[2]) for p in points], dtype=np.int64)
        available = np.array([bool(p[3]) for p in points])
        bounds = np.flatnonzero(np.r_[True, offer[1:] != offer[:-1], True])
        for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            # the point in force at each step: the last one at or before it
            where = np.searchsorted(at[start:end], stamps, side="right") - 1
            live = (where >= 0) & available[start:end][np.maximum(where, 0)]
            for k in np.flatnonzero(live).tolist():
                prices[k].append(int(price[start + where[k]]))
    result = []
    for when, values in zip(times, prices, strict=True):
        if not values:
            result.append(Point(when, None, None, 0))
            continue
        ordered = sorted(values)
        m = len(ordered)
        median = divide_micros(ordered[(m - 1) // 2] + ordered[m // 2], 2)
        result.append(Point(when, ordered[0], median, m))
    return result


def _epoch(value: Any) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return ensure_utc(value).timestamp()

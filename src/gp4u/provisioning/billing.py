"""Session money (pure): quotes, per-minute accrual, and splitting a cost over the holds that
pay for it. All amounts are integer micro-USD."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime


def minutes_for(hours: float) -> int:
    """Whole minutes in a requested duration (rounded up: a user asking 0.5 h gets 30 min)."""
    return max(1, math.ceil(round(hours * 60, 6)))


def cost_of(price_per_hour: int, minutes: int) -> int:
    """The price of `minutes` at an hourly price, rounded up to the micro-dollar."""
    return -(-price_per_hour * minutes // 60)


def billable_minutes(start: datetime | None, end: datetime | None) -> int:
    """Running time in started minutes: cost accrues per minute of running time."""
    if start is None or end is None or end <= start:
        return 0
    return math.ceil((end - start).total_seconds() / 60 - 1e-9)


def accrued(price_per_hour: int, start: datetime | None, end: datetime | None, cap: int) -> int:
    """What a session owes for its running time so far, never more than was held for it."""
    return min(cost_of(price_per_hour, billable_minutes(start, end)), cap)


def split(amount: int, held: Sequence[int]) -> list[int]:
    """Take `amount` from holds in order, each at most what it holds."""
    taken = []
    left = amount
    for hold in held:
        part = min(hold, left)
        taken.append(part)
        left -= part
    if left > 0:
        raise ValueError("the holds do not cover the amount")
    return taken

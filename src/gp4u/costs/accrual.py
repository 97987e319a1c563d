"""How a session's cost falls over time (pure), in integer micro-USD.

A session's cost grows per started minute of running time, rounded up to the micro-dollar and
capped by what was held for it (`gp4u.provisioning.billing`). `cost_by(usage, moment)` is that
curve: the cost of the minutes that started before `moment`. A period's cost is the curve's rise
across it, so the parts of any split into periods add up exactly to the session's cost (a minute
that spans midnight counts in the day it started in)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from gp4u.provisioning import billing


@dataclass(frozen=True)
class Usage:
    """One session's billed running time and what it costs."""

    start: datetime  # billing starts (the agent checked in)
    end: datetime  # billing stops (or now, while it runs)
    price_per_hour: int
    cost: int  # the cost of the whole of [start, end]: the curve's last value

    @property
    def minutes(self) -> int:
        return billing.billable_minutes(self.start, self.end)


def cost_by(usage: Usage, moment: datetime) -> int:
    """The cost of the usage's minutes that started before `moment`."""
    minutes = billing.billable_minutes(usage.start, min(moment, usage.end))
    if minutes >= usage.minutes:
        return usage.cost
    return min(billing.cost_of(usage.price_per_hour, minutes), usage.cost)


def cost_between(usage: Usage, since: datetime, until: datetime) -> int:
    return cost_by(usage, until) - cost_by(usage, since)


def projected(
    price_per_hour: int, start: datetime, now: datetime, until: datetime, cap: int
) -> int:
    """What a running session adds from `now` until `until`, never past its cap."""
    later = max(until, now)
    return billing.accrued(price_per_hour, start, later, cap) - billing.accrued(
        price_per_hour, start, now, cap
    )


# --- periods (UTC) ---------------------------------------------------------------------------


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    return month_start(start + timedelta(days=32))


def months_ending(last: datetime, count: int) -> list[datetime]:
    """The starts of `count` months, oldest first, the last of them starting at `last`."""
    starts = [month_start(last)]
    for _ in range(count - 1):
        starts.append(month_start(starts[-1] - timedelta(days=1)))
    return starts[::-1]


def days_between(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def by_day(usage: Usage, first: date, last: date) -> dict[date, int]:
    """The usage's cost on each UTC day from `first` to `last` (inclusive) it ran on."""
    days = days_between(max(first, usage.start.date()), min(last, usage.end.date()))
    parts = {
        day: cost_between(usage, day_start(day), day_start(day + timedelta(days=1))) for day in days
    }
    return {day: part for day, part in parts.items() if part}


def by_period(usage: Usage, starts: Sequence[datetime], end: datetime) -> list[int]:
    """The usage's cost in each period: from each start to the next, the last one to `end`."""
    bounds = [*starts, end]
    return [cost_between(usage, a, b) for a, b in pairwise(bounds)]

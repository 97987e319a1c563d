"""What GPU sessions cost: a user's report (per session, per UTC day, per month, per API key,
the burn rate and the month-end projection against the monthly budget) and the admins' view of
every user's month. Amounts are integer micro-USD until the views turn them into USD.

The projection: month-to-date cost (every minute that started in the month, exact), plus, for
each running session, what its running time from now until the end of the month will cost,
each session no further than its paid time (`expires_at`) and never more than was held for it.
Sessions that are not running yet (provisioning, starting) add nothing: they may never run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.costs import accrual
from gp4u.costs import repository as repo
from gp4u.costs.accrual import Usage
from gp4u.kit.errors import InvalidInput
from gp4u.kit.money import micros_to_usd
from gp4u.provisioning import repository as sessions_repo
from gp4u.provisioning.lifecycle import billed_until, cost_so_far, held_cap
from gp4u.provisioning.models import GpuSession
from gp4u.provisioning.states import State

MONTHS = 12
EARLIEST_YEAR = 1970  # a year's months back stay well inside datetime's range


@dataclass(frozen=True)
class Month:
    label: str  # YYYY-MM
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Ran:
    """A session that ran, with its billed usage."""

    row: GpuSession
    usage: Usage

    @property
    def running(self) -> bool:
        return self.row.state == State.RUNNING.value


@dataclass(frozen=True)
class MonthFigures:
    to_date: int
    projected: int
    burn_rate: int  # per hour: the running sessions' prices
    running: int
    sessions: int  # that ran in the month


def month_of(text: str | None, now: datetime) -> Month:
    """The month a report is for: "YYYY-MM" (not after now's), by default now's."""
    current = accrual.month_start(now)
    start = current
    if text is not None:
        try:
            start = datetime.strptime(text, "%Y-%m").replace(tzinfo=UTC)
        except ValueError:
            raise InvalidInput(f"month: {text!r} is not YYYY-MM", field="month") from None
        if start.year < EARLIEST_YEAR:
            raise InvalidInput(f"month: GP4U has no costs before {EARLIEST_YEAR}", field="month")
        if start > current:
            raise InvalidInput(
                f"month: {text} has not begun; ask for {current:%Y-%m} or before", field="month"
            )
    return Month(start.strftime("%Y-%m"), start, accrual.next_month(start))


def ran(gs: GpuSession, now: datetime) -> Ran | None:
    """The session's usage so far (the same cost its session view shows), None if it never ran."""
    end = billed_until(gs, now)
    if gs.running_at is None or end is None:
        return None
    return Ran(gs, Usage(gs.running_at, end, gs.price_per_hour, cost_so_far(gs, now)))


def _ran_all(rows: Iterable[GpuSession], now: datetime) -> list[Ran]:
    return [r for r in (ran(gs, now) for gs in rows) if r is not None]


def month_figures(sessions: Sequence[Ran], month: Month, now: datetime) -> MonthFigures:
    to_date = extra = burn = running = count = 0
    for r in sessions:
        part = accrual.cost_between(r.usage, month.start, month.end)
        count += r.usage.start < month.end and r.usage.end > month.start
        to_date += part
        if r.running:
            burn += r.row.price_per_hour
            running += 1
            until = min(r.row.expires_at, month.end)
            extra += accrual.projected(
                r.row.price_per_hour, r.usage.start, now, until, held_cap(r.row)
            )
    return MonthFigures(to_date, to_date + extra, burn, running, count)


# --- a user's report -------------------------------------------------------------------------


async def report(
    session: AsyncSession, owner: str, days: int, month_text: str | None, now: datetime
) -> dict[str, Any]:
    """The owner's costs: the last `days` UTC days (today included), the 12 months up to the
    chosen one, and that month's figures."""
    month = month_of(month_text, now)
    first_day = now.date() - timedelta(days=days - 1)
    since = accrual.day_start(first_day)
    months = accrual.months_ending(month.start, MONTHS)
    rows = await sessions_repo.owner_sessions_since(session, owner, min(since, months[0]))
    everything = _ran_all(rows, now)
    in_window = [r for r in everything if r.usage.end > since or r.usage.start >= since]
    figures = month_figures(everything, month, now)
    limits = await repo.account_budgets(session, [owner])
    return {
        "as_of": now,
        "since": since,
        "days": days,
        "month": month.label,
        "total": micros_to_usd(sum(_window_cost(r, since) for r in in_window)),
        "sessions": [_session_view(r, since) for r in sorted(in_window, key=_newest_first)],
        "daily": _daily(in_window, first_day, now.date()),
        "monthly": _monthly(everything, months, month.end),
        "by_key": _by_key(in_window, since),
        **_month_view(figures, limits.get(owner)),
    }


def _newest_first(r: Ran) -> int:
    return -r.row.id


def _window_cost(r: Ran, since: datetime) -> int:
    return r.usage.cost - accrual.cost_by(r.usage, since)


def _session_view(r: Ran, since: datetime) -> dict[str, Any]:
    gs = r.row
    return {
        "id": gs.id,
        "gpu": gs.gpu,
        "gpu_count": gs.gpu_count,
        "provider": gs.provider,
        "state": gs.state,
        "key_id": gs.key_prefix,
        "running_at": gs.running_at,
        "billing_end": gs.billing_end,
        "price_per_hour": micros_to_usd(gs.price_per_hour),
        "minutes": r.usage.minutes,
        "cost": micros_to_usd(r.usage.cost),
        "window_cost": micros_to_usd(_window_cost(r, since)),
    }


def _daily(sessions: Sequence[Ran], first: date, last: date) -> list[dict[str, Any]]:
    totals = dict.fromkeys(accrual.days_between(first, last), 0)
    for r in sessions:
        for day, part in accrual.by_day(r.usage, first, last).items():
            totals[day] += part
    return [{"date": day, "cost": micros_to_usd(total)} for day, total in totals.items()]


def _monthly(
    sessions: Sequence[Ran], starts: Sequence[datetime], end: datetime
) -> list[dict[str, Any]]:
    totals = [0] * len(starts)
    for r in sessions:
        for i, part in enumerate(accrual.by_period(r.usage, starts, end)):
            totals[i] += part
    return [
        {"month": start.strftime("%Y-%m"), "cost": micros_to_usd(total)}
        for start, total in zip(starts, totals, strict=True)
    ]


def _by_key(sessions: Sequence[Ran], since: datetime) -> list[dict[str, Any]]:
    cost: dict[str | None, int] = defaultdict(int)
    count: dict[str | None, int] = defaultdict(int)
    for r in sessions:
        cost[r.row.key_prefix] += _window_cost(r, since)
        count[r.row.key_prefix] += 1
    order = sorted(cost, key=lambda key: (-cost[key], key is None, key or ""))
    return [
        {"key_id": key, "sessions": count[key], "cost": micros_to_usd(cost[key])} for key in order
    ]


def _month_view(figures: MonthFigures, limit: int | None) -> dict[str, Any]:
    return {
        "burn_rate_per_hour": micros_to_usd(figures.burn_rate),
        "month_to_date": micros_to_usd(figures.to_date),
        "projected_month_end": micros_to_usd(figures.projected),
        "budget": {
            "monthly_limit": None if limit is None else micros_to_usd(limit),
            "projected_over_budget": limit is not None and figures.projected > limit,
        },
    }


# --- every user (admins) ---------------------------------------------------------------------


async def users_report(
    session: AsyncSession, month_text: str | None, now: datetime
) -> dict[str, Any]:
    """Each user's figures for the month, the most expensive first (a team lead's view). Burn
    rates and running counts are those of now, whatever the month."""
    month = month_of(month_text, now)
    by_owner: dict[str, list[Ran]] = defaultdict(list)
    for r in _ran_all(await repo.ran_since(session, month.start), now):
        by_owner[r.row.owner].append(r)
    figures = {owner: month_figures(rs, month, now) for owner, rs in by_owner.items()}
    emails = await repo.emails(session, figures)
    limits = await repo.account_budgets(session, figures)
    users = [
        {
            "user_id": owner,
            "email": emails.get(owner),
            "sessions": f.sessions,
            "running": f.running,
            **_month_view(f, limits.get(owner)),
        }
        for owner, f in sorted(figures.items(), key=lambda item: (-item[1].to_date, item[0]))
        if f.sessions or f.running  # not those who only ran after a past month
    ]
    return {
        "as_of": now,
        "month": month.label,
        "month_to_date": micros_to_usd(sum(f.to_date for f in figures.values())),
        "projected_month_end": micros_to_usd(sum(f.projected for f in figures.values())),
        "users": users,
    }

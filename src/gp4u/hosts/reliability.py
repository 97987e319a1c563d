"""How reliable a host machine is (pure): the share of time its agent was heard from over the
last 30 days, times the share of its rentals that completed.

Rentals use a prior worth five rentals at 90 % completion, so one early failure does not sink a
new machine and a long record outweighs the prior. Uptime counts from the agent's registration
(or 30 days back), so a machine is not punished for days before it existed."""

from __future__ import annotations

from datetime import datetime, timedelta

WINDOW = timedelta(days=30)
PRIOR_RENTALS = 5.0
PRIOR_COMPLETION = 0.9


def uptime(online_seconds: float, since: datetime | None, now: datetime) -> float | None:
    """Share of [max(since, now − 30 d), now) the agent was heard from; None before it ever
    registered or when no time has passed."""
    if since is None:
        return None
    tracked = (now - max(since, now - WINDOW)).total_seconds()
    if tracked <= 0:
        return None
    return max(0.0, min(1.0, online_seconds / tracked))


def completion(completed: int, failed: int) -> float:
    return (completed + PRIOR_RENTALS * PRIOR_COMPLETION) / (completed + failed + PRIOR_RENTALS)


def reliability(up: float | None, completed: int, failed: int) -> float | None:
    """0-1 as offers carry it (None: not measured yet), rounded to 4 places."""
    if up is None:
        return None
    return round(up * completion(completed, failed), 4)

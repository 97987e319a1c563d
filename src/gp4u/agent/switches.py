"""The dead-man switches, pure: given the time, should this machine shut down, and why. The reasons
and the agent's exit code for each live here too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Reason(StrEnum):
    DONE = "done"  # the workload reported it finished (forwarded to the broker when possible)
    BROKER_SHUTDOWN = "broker_shutdown"  # the broker answered "action": "shutdown"
    REVOKED = "revoked"  # the broker answered 401: the session no longer exists for it
    HARD_DEADLINE = "hard_deadline"  # now ≥ the earliest hard deadline, broker or not
    BROKER_TIMEOUT = "broker_timeout"  # no successful broker answer for broker_timeout_seconds
    STOPPED = "stopped"  # SIGTERM or SIGINT: the agent stops, the machine is left alone


EXIT_CODES: dict[Reason, int] = {
    Reason.DONE: 0,
    Reason.BROKER_SHUTDOWN: 10,
    Reason.REVOKED: 11,
    Reason.HARD_DEADLINE: 12,
    Reason.BROKER_TIMEOUT: 13,
    Reason.STOPPED: 14,
}


@dataclass
class DeadMan:
    """When the machine must stop whatever happens. The broker timeout counts from the agent's
    start until the first successful broker answer, then from the latest one."""

    started_at: datetime
    broker_timeout: timedelta
    configured_deadline: datetime | None = None
    broker_deadline: datetime | None = None
    last_contact: datetime | None = None

    @property
    def hard_deadline(self) -> datetime | None:
        """The earliest of the launch's deadline and the broker's latest one."""
        known = [d for d in (self.configured_deadline, self.broker_deadline) if d is not None]
        return min(known) if known else None

    def contact(self, at: datetime, hard_deadline: datetime | None = None) -> None:
        """A successful broker answer; its hard deadline (when given) replaces the broker's last."""
        self.last_contact = at
        if hard_deadline is not None:
            self.broker_deadline = hard_deadline

    def silent_since(self) -> datetime:
        return self.last_contact or self.started_at

    def seconds_left(self, now: datetime) -> float | None:
        deadline = self.hard_deadline
        return None if deadline is None else max(0.0, (deadline - now).total_seconds())

    def check(self, now: datetime) -> Reason | None:
        deadline = self.hard_deadline
        if deadline is not None and now >= deadline:
            return Reason.HARD_DEADLINE
        if now - self.silent_since() >= self.broker_timeout:
            return Reason.BROKER_TIMEOUT
        return None

"""Injectable clocks: code that depends on "now" takes one, so tests move time, not sleep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real time, always timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def ensure_utc(value: datetime) -> datetime:
    """Attach UTC to naive timestamps read back from SQLite; convert aware ones to UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def sqlite_text(value: datetime) -> str:
    """A UTC timestamp in the text form SQLAlchemy stores on SQLite, for raw SQL and comparisons."""
    return ensure_utc(value).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

"""Recent call statistics per provider: success rate and latency percentiles over a rolling
window, from which the provider's status (healthy / degraded / unavailable) is read."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

Status = Literal["healthy", "degraded", "unavailable", "unknown"]


@dataclass(frozen=True)
class Call:
    at: float  # epoch seconds
    ok: bool
    seconds: float | None  # None when the call never reached the provider


class CallStats:
    """The last `size` calls to one provider, as seen by this process."""

    def __init__(self, size: int = 500, window_seconds: float = 900.0) -> None:
        self._calls: deque[Call] = deque(maxlen=size)
        self.window_seconds = window_seconds

    def record(self, at: float, ok: bool, seconds: float | None) -> None:
        self._calls.append(Call(at, ok, seconds))

    def recent(self, now: float) -> list[Call]:
        since = now - self.window_seconds
        return [c for c in self._calls if c.at >= since]

    def summary(self, now: float) -> dict[str, float | int | None]:
        calls = self.recent(now)
        latencies = sorted(c.seconds for c in calls if c.seconds is not None)
        ok = sum(c.ok for c in calls)
        return {
            "calls": len(calls),
            "success_rate": round(ok / len(calls), 4) if calls else None,
            "latency_p50_ms": _percentile_ms(latencies, 0.50),
            "latency_p95_ms": _percentile_ms(latencies, 0.95),
            "latency_p99_ms": _percentile_ms(latencies, 0.99),
        }

    def success_rate(self, now: float) -> float | None:
        calls = self.recent(now)
        return sum(c.ok for c in calls) / len(calls) if calls else None


def _percentile_ms(values: list[float], q: float) -> float | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return round(values[index] * 1000, 1)


def status_of(success_rate: float | None, breaker_open: bool, last_sync_ok: bool | None) -> Status:
    """healthy: calls succeed; degraded: some fail; unavailable: breaker open or nothing works."""
    if breaker_open:
        return "unavailable"
    if success_rate is None:
        if last_sync_ok is None:
            return "unknown"
        return "healthy" if last_sync_ok else "unavailable"
    if success_rate >= 0.95:
        return "healthy"
    if success_rate >= 0.5:
        return "degraded"
    return "unavailable"

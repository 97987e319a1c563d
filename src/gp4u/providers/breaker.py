"""A circuit breaker per provider: closed → open after repeated failures → half-open probe.

While open, calls fail at once without touching the network (`BreakerOpen`, which means
"unknown", never "nothing there"). After `reset_seconds` one caller gets through as the probe:
its success closes the breaker, its failure opens it again for another period. The state machine
is one pure function (`transition`); the memory store applies it under a lock, the Redis store in
an optimistic transaction, so every process of a distributed deployment shares one breaker.

Hand-written because no maintained async breaker offers shared Redis state together with an
injectable clock (tests move time instead of sleeping).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Literal

import orjson
from redis.asyncio import Redis
from redis.exceptions import WatchError

from gp4u.kit.clock import Clock

Event = Literal["allow", "success", "failure", "reset"]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerPolicy:
    failures: int = 5  # consecutive failures that open the breaker
    reset_seconds: float = 30.0  # how long it stays open before one probe


@dataclass(frozen=True)
class BreakerRecord:
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float = 0.0  # epoch seconds
    probe_at: float = 0.0  # when the half-open probe was let through


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_in: float = 0.0  # seconds until a probe may go, when refused


def transition(
    record: BreakerRecord, event: Event, now: float, policy: BreakerPolicy
) -> tuple[BreakerRecord, Verdict]:
    """The breaker's whole behaviour: the next record and whether a call may go."""
    if event == "reset":
        return BreakerRecord(), Verdict(True)
    if event == "success":
        return BreakerRecord(), Verdict(True)
    if event == "failure":
        if record.state is BreakerState.CLOSED:
            failures = record.failures + 1
            if failures >= policy.failures:
                return BreakerRecord(BreakerState.OPEN, failures, now), Verdict(False)
            return replace(record, failures=failures), Verdict(True)
        # a failed probe (or a late failure while open) re-opens for a full period
        return BreakerRecord(BreakerState.OPEN, record.failures + 1, now), Verdict(False)
    # allow
    if record.state is BreakerState.CLOSED:
        return record, Verdict(True)
    if record.state is BreakerState.OPEN:
        wait = record.opened_at + policy.reset_seconds - now
        if wait > 0:
            return record, Verdict(False, wait)
        return replace(record, state=BreakerState.HALF_OPEN, probe_at=now), Verdict(True)
    # half-open: one probe is out; a probe that never reported back frees the slot after a period
    wait = record.probe_at + policy.reset_seconds - now
    if wait > 0:
        return record, Verdict(False, wait)
    return replace(record, probe_at=now), Verdict(True)


Listener = Callable[[str, BreakerState, BreakerState], None]


class CircuitBreaker:
    """One provider's breaker over a store (memory or Redis)."""

    def __init__(
        self,
        provider: str,
        policy: BreakerPolicy,
        clock: Clock,
        redis: Redis | None = None,
        on_transition: Listener | None = None,
    ) -> None:
        self.provider = provider
        self.policy = policy
        self._clock = clock
        self._redis = redis
        self._key = f"gp4u:breaker:{provider}"
        self._record = BreakerRecord()
        self._lock = asyncio.Lock()
        self._on_transition = on_transition

    async def allow(self) -> Verdict:
        return await self._apply("allow")

    async def success(self) -> None:
        await self._apply("success")

    async def failure(self) -> None:
        await self._apply("failure")

    async def reset(self) -> None:
        await self._apply("reset")

    async def record(self) -> BreakerRecord:
        if self._redis is None:
            return self._record
        return _decode(await self._redis.get(self._key))

    async def _apply(self, event: Event) -> Verdict:
        now = self._clock.now().timestamp()
        if self._redis is None:
            async with self._lock:
                before = self._record
                self._record, verdict = transition(before, event, now, self.policy)
                after = self._record
        else:
            before, after, verdict = await self._apply_shared(event, now)
        if before.state is not after.state and self._on_transition:
            self._on_transition(self.provider, before.state, after.state)
        return verdict

    async def _apply_shared(
        self, event: Event, now: float
    ) -> tuple[BreakerRecord, BreakerRecord, Verdict]:
        assert self._redis is not None
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(self._key)
                    before = _decode(await pipe.get(self._key))
                    after, verdict = transition(before, event, now, self.policy)
                    if after != before:
                        pipe.multi()  # type: ignore[no-untyped-call]
                        pipe.set(self._key, _encode(after))
                        await pipe.execute()
                    else:
                        await pipe.unwatch()  # type: ignore[no-untyped-call]
                    return before, after, verdict
                except WatchError:
                    continue


def _encode(record: BreakerRecord) -> bytes:
    return orjson.dumps(asdict(record))


def _decode(raw: bytes | str | None) -> BreakerRecord:
    if not raw:
        return BreakerRecord()
    data = orjson.loads(raw)
    return BreakerRecord(
        BreakerState(data["state"]), data["failures"], data["opened_at"], data["probe_at"]
    )

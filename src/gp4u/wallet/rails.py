"""Payment rails: how money enters and leaves GP4U. A rail collects a deposit from a funding
source or pays a withdrawal out to a destination, and answers "settled", "pending" or
"failed"; a pending transfer is asked again later (`status`) until it settles or fails.

Two test rails ship, in the manner of card processors' test modes: the outcome follows from the
source token (`tok_ok` settles, `tok_decline` fails, anything else fails as unknown).
- `test-instant` settles or fails at once.
- `test-async` answers "pending" and settles (or fails) `settle_seconds` later. It keeps no state:
  the reference it returns encodes the outcome and the time it was made, so any process can
  answer `status`, as a real processor's API would.
Real rails (card processors, on-chain USDC) implement the same protocol."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

Status = Literal["settled", "pending", "failed"]
SETTLED: Status = "settled"
PENDING: Status = "pending"
FAILED: Status = "failed"
OK_SOURCE, DECLINED_SOURCE = "tok_ok", "tok_decline"


@dataclass(frozen=True)
class RailResult:
    status: Status
    reference: str
    reason: str | None = None


class PaymentRail(Protocol):
    name: str

    async def collect(self, amount: int, source: str, now: datetime) -> RailResult:
        """Take `amount` micro-USD from the user's funding source."""
        ...

    async def pay_out(self, amount: int, destination: str, now: datetime) -> RailResult:
        """Send `amount` micro-USD to the user's external account."""
        ...

    async def status(self, reference: str, now: datetime) -> RailResult:
        """Where a pending transfer stands now."""
        ...


def _outcome(token: str) -> tuple[Status, str | None]:
    if token == OK_SOURCE:
        return SETTLED, None
    if token == DECLINED_SOURCE:
        return FAILED, "declined by the test rail (tok_decline)"
    return FAILED, f"unknown test source {token[:40]!r}; use {OK_SOURCE} or {DECLINED_SOURCE}"


class InstantTestRail:
    name = "test-instant"

    async def collect(self, amount: int, source: str, now: datetime) -> RailResult:
        status, reason = _outcome(source)
        return RailResult(status, f"ti_{secrets.token_hex(8)}", reason)

    async def pay_out(self, amount: int, destination: str, now: datetime) -> RailResult:
        return await self.collect(amount, destination, now)

    async def status(self, reference: str, now: datetime) -> RailResult:
        raise ValueError("instant transfers are never pending")


class AsyncTestRail:
    name = "test-async"

    def __init__(self, settle_seconds: float = 60.0) -> None:
        self.settle_seconds = settle_seconds

    async def collect(self, amount: int, source: str, now: datetime) -> RailResult:
        status, _ = _outcome(source)
        outcome = "ok" if status == SETTLED else ("decline" if source == DECLINED_SOURCE else "bad")
        reference = f"ta_{secrets.token_hex(8)}_{outcome}_{int(now.timestamp())}"
        return RailResult(PENDING, reference)

    async def pay_out(self, amount: int, destination: str, now: datetime) -> RailResult:
        return await self.collect(amount, destination, now)

    async def status(self, reference: str, now: datetime) -> RailResult:
        try:
            _, _, outcome, made = reference.split("_")
            started = int(made)
        except ValueError as exc:
            raise ValueError(f"not a reference of this rail: {reference!r}") from exc
        if now.timestamp() - started < self.settle_seconds:
            return RailResult(PENDING, reference)
        if outcome == "ok":
            return RailResult(SETTLED, reference)
        token = DECLINED_SOURCE if outcome == "decline" else "?"
        return RailResult(FAILED, reference, _outcome(token)[1])


def build_rails(names: list[str], settle_seconds: float = 60.0) -> dict[str, PaymentRail]:
    """The rails this server offers, by name (an unknown name is a configuration error)."""
    known: dict[str, PaymentRail] = {
        rail.name: rail for rail in (InstantTestRail(), AsyncTestRail(settle_seconds))
    }
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown payment rails: {', '.join(unknown)}; known: {', '.join(known)}")
    return {name: known[name] for name in names}

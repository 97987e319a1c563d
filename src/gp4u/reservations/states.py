"""The reservation state machine and its money rules (pure).

pending (the quote is held) → active (at the start: a session runs on the machine, elapsed time
is paid to the host as it runs) → completed (at the end: session ended, host paid, the rest
released). From pending or active a reservation may be cancelled by its renter, or fail
(unpaid, machine offline, session that would not start or died).

Cancellation policy: before the start, everything is refunded. After the start, the renter pays
for the minutes started until the cancellation and the rest of the booking is refunded; the
host is paid for those minutes. A failure on the host's side (machine offline at the start, a
session that never started) refunds everything; a session that ran and then died is paid up to
its last sign of life."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


BLOCKING = frozenset({State.PENDING, State.ACTIVE})  # these hold the machine's time
FINAL = frozenset({State.COMPLETED, State.CANCELLED, State.FAILED})
_MOVES = {
    State.PENDING: {State.ACTIVE, State.CANCELLED, State.FAILED},
    State.ACTIVE: {State.COMPLETED, State.CANCELLED, State.FAILED},
}


class BadMove(ValueError):
    pass


def check_move(current: str, target: State) -> None:
    if target not in _MOVES.get(State(current), set()):
        raise BadMove(f"a {current} reservation cannot become {target.value}")


def fee_due(captured_after: int, fee_so_far: int, fee_basis_points: int) -> int:
    """The platform fee of the next capture, kept as a running total so that however the time
    is paid out in parts, the host gets exactly the total less the fee on the total."""
    return captured_after * fee_basis_points // 10_000 - fee_so_far

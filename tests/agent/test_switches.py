"""The dead-man switches, pure: deadlines and broker silence with a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gp4u.agent.switches import EXIT_CODES, DeadMan, Reason
from gp4u.kit.clock import FrozenClock

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _deadman(clock: FrozenClock, deadline: datetime | None = None) -> DeadMan:
    return DeadMan(clock.now(), timedelta(seconds=600), configured_deadline=deadline)


def test_broker_silence_counts_from_the_start_then_from_the_last_contact() -> None:
    clock = FrozenClock(T0)
    deadman = _deadman(clock)
    clock.advance(timedelta(seconds=599))
    assert deadman.check(clock.now()) is None
    deadman.contact(clock.now())
    clock.advance(timedelta(seconds=599))
    assert deadman.check(clock.now()) is None
    clock.advance(timedelta(seconds=1))
    assert deadman.check(clock.now()) is Reason.BROKER_TIMEOUT
    assert deadman.silent_since() == T0 + timedelta(seconds=599)


def test_never_reaching_the_broker_times_out_from_the_start() -> None:
    clock = FrozenClock(T0)
    deadman = _deadman(clock)
    clock.advance(timedelta(seconds=600))
    assert deadman.check(clock.now()) is Reason.BROKER_TIMEOUT


def test_the_earliest_hard_deadline_wins_and_beats_a_live_broker() -> None:
    clock = FrozenClock(T0)
    deadman = _deadman(clock, T0 + timedelta(hours=1))
    deadman.contact(clock.now(), T0 + timedelta(minutes=30))
    assert deadman.hard_deadline == T0 + timedelta(minutes=30)
    deadman.contact(clock.now(), T0 + timedelta(hours=2))  # the broker extends: the launch caps
    assert deadman.hard_deadline == T0 + timedelta(hours=1)
    deadman.contact(clock.now())  # an answer without a deadline keeps the broker's last
    assert deadman.broker_deadline == T0 + timedelta(hours=2)
    clock.advance(timedelta(minutes=59, seconds=59))
    deadman.contact(clock.now())
    assert deadman.check(clock.now()) is None
    assert deadman.seconds_left(clock.now()) == 1.0
    clock.advance(timedelta(seconds=1))
    deadman.contact(clock.now())
    assert deadman.check(clock.now()) is Reason.HARD_DEADLINE
    assert deadman.seconds_left(clock.now()) == 0.0


def test_the_deadline_is_checked_before_the_broker_timeout() -> None:
    clock = FrozenClock(T0)
    deadman = _deadman(clock, T0 + timedelta(seconds=600))
    clock.advance(timedelta(seconds=600))
    assert deadman.check(clock.now()) is Reason.HARD_DEADLINE


def test_no_deadline_means_no_seconds_left() -> None:
    deadman = _deadman(FrozenClock(T0))
    assert deadman.hard_deadline is None
    assert deadman.seconds_left(T0) is None


def test_every_reason_has_its_own_exit_code() -> None:
    assert set(EXIT_CODES) == set(Reason)
    assert len(set(EXIT_CODES.values())) == len(Reason)
    assert EXIT_CODES[Reason.DONE] == 0

"""The cost curve (pure): exact splits by day and by month, projections capped by the paid time
and the hold, and the property that the parts always add up to the session's cost."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from gp4u.costs import accrual
from gp4u.costs.accrual import Usage
from tests.costs.support import cost_of

PRICE = 1_234_567  # $1.234567/h: no minute costs a whole number of micro-dollars


def usage(start: datetime, end: datetime, price: int = PRICE, cap: int | None = None) -> Usage:
    minutes = -(-int((end - start).total_seconds() * 1_000_000) // 60_000_000)
    full = cost_of(price, minutes)
    return Usage(start, end, price, full if cap is None else min(full, cap))


def test_a_minute_that_spans_midnight_counts_in_the_day_it_started() -> None:
    start = datetime(2026, 11, 1, 23, 40, 30, tzinfo=UTC)
    used = usage(start, datetime(2026, 11, 2, 0, 20, 10, tzinfo=UTC))
    assert used.minutes == 40  # 39 min 40 s started 40 minutes
    days = accrual.by_day(used, date(2026, 10, 1), date(2026, 12, 1))
    # 19.5 minutes before midnight: the 20th minute started at 23:59:30.
    assert days == {
        date(2026, 11, 1): cost_of(PRICE, 20),
        date(2026, 11, 2): cost_of(PRICE, 40) - cost_of(PRICE, 20),
    }
    assert sum(days.values()) == used.cost == cost_of(PRICE, 40)


def test_months_split_the_same_way_and_periods_outside_cost_nothing() -> None:
    start = datetime(2026, 11, 30, 23, 58, tzinfo=UTC)
    used = usage(start, datetime(2026, 12, 1, 0, 3, tzinfo=UTC))
    months = accrual.months_ending(datetime(2027, 1, 1, tzinfo=UTC), 4)
    assert [m.strftime("%Y-%m") for m in months] == ["2026-10", "2026-11", "2026-12", "2027-01"]
    parts = accrual.by_period(used, months, datetime(2027, 2, 1, tzinfo=UTC))
    assert parts == [0, cost_of(PRICE, 2), cost_of(PRICE, 5) - cost_of(PRICE, 2), 0]


def test_the_hold_caps_the_curve_and_the_last_minutes_take_what_is_left() -> None:
    start = datetime(2026, 11, 1, 23, 0, tzinfo=UTC)
    used = usage(start, datetime(2026, 11, 2, 1, 0, tzinfo=UTC), cap=cost_of(PRICE, 90))
    days = accrual.by_day(used, date(2026, 11, 1), date(2026, 11, 2))
    assert days == {
        date(2026, 11, 1): cost_of(PRICE, 60),
        date(2026, 11, 2): cost_of(PRICE, 90) - cost_of(PRICE, 60),
    }


def test_a_projection_stops_at_the_given_end_and_at_the_cap() -> None:
    start = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    now = start + timedelta(minutes=30)
    until = start + timedelta(minutes=90)
    assert accrual.projected(PRICE, start, now, until, 10**12) == (
        cost_of(PRICE, 90) - cost_of(PRICE, 30)
    )
    assert accrual.projected(PRICE, start, now, until, cost_of(PRICE, 45)) == (
        cost_of(PRICE, 45) - cost_of(PRICE, 30)
    )
    assert accrual.projected(PRICE, start, now, start, 10**12) == 0  # already past it


def test_month_arithmetic_wraps_years() -> None:
    assert accrual.next_month(datetime(2026, 12, 1, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)
    first = accrual.months_ending(datetime(2027, 2, 1, tzinfo=UTC), 12)[0]
    assert first == datetime(2026, 3, 1, tzinfo=UTC)


EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@given(
    start=st.integers(0, 400 * 86_400_000_000),
    length=st.integers(0, 40 * 86_400_000_000),
    price=st.integers(0, 500 * 1_000_000),
    cap_share=st.floats(0.0, 1.2),
)
def test_the_parts_of_any_split_add_up_to_the_cost(
    start: int, length: int, price: int, cap_share: float
) -> None:
    begin = EPOCH + timedelta(microseconds=start)
    end = begin + timedelta(microseconds=length)
    full = usage(begin, end, price)
    used = usage(begin, end, price, cap=int(full.cost * cap_share))
    days = accrual.by_day(used, begin.date() - timedelta(days=1), end.date() + timedelta(days=1))
    assert all(part > 0 for part in days.values())
    assert sum(days.values()) == used.cost
    months = accrual.months_ending(end, 3)
    outside = accrual.cost_by(used, months[0])
    parts = accrual.by_period(used, months, accrual.next_month(months[-1]))
    assert all(part >= 0 for part in parts)
    assert outside + sum(parts) == used.cost

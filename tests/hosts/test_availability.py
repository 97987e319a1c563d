"""The availability core: parsing opening hours, DST-correct open intervals, free intervals, booking
checks, bookable slots and the calendar, with properties checked over random inputs."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gp4u.hosts.availability import (
    EPOCH,
    Booking,
    Day,
    Interval,
    Segment,
    Unavailable,
    WeeklyWindow,
    calendar,
    check_tz,
    dump_windows,
    free_intervals,
    free_slots,
    open_intervals,
    parse_windows,
    unavailable,
    window_text,
)

BERLIN = "Europe/Berlin"
WEEKDAYS_9_TO_5 = [{"day": d, "start": "09:00", "end": "17:00"} for d in range(5)]


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def hours(*spans: tuple[str, str, str]) -> list[WeeklyWindow]:
    return parse_windows([{"day": d, "start": s, "end": e} for d, s, e in spans])


def covered(intervals: Sequence[Interval], start: datetime, end: datetime) -> bool:
    return any(s <= start and end <= e for s, e in intervals)


def overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def union(intervals: Sequence[Interval]) -> list[Interval]:
    """Overlapping and touching intervals joined (the test's own, simple version)."""
    joined: list[Interval] = []
    for a, b in sorted(intervals):
        if joined and a <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(b, joined[-1][1]))
        else:
            joined.append((a, b))
    return joined


# --- parsing --------------------------------------------------------------------------------


def test_parse_accepts_short_and_full_day_names_and_numbers() -> None:
    windows = parse_windows(
        [
            {"day": "Saturday", "start": "10:00", "end": "14:00"},
            {"day": "MON", "start": "09:00", "end": "17:30"},
            {"day": 2, "start": "00:00", "end": "24:00"},
            {"day": " sun ", "start": "9:05", "end": "09:10"},
        ]
    )
    assert windows == [
        WeeklyWindow(0, 9 * 60, 17 * 60 + 30),
        WeeklyWindow(2, 0, 1440),
        WeeklyWindow(5, 600, 840),
        WeeklyWindow(6, 545, 550),
    ]


def test_parse_merges_overlapping_and_touching_windows_on_the_same_day_only() -> None:
    windows = hours(
        ("tue", "13:00", "18:00"),
        ("tue", "09:00", "12:00"),
        ("tue", "11:00", "13:00"),  # bridges the two
        ("tue", "20:00", "21:00"),
        ("wed", "00:00", "02:00"),  # next day: stays separate
        ("tue", "20:30", "20:45"),  # inside another
    )
    assert windows == [
        WeeklyWindow(1, 540, 1080),
        WeeklyWindow(1, 1200, 1260),
        WeeklyWindow(2, 0, 120),
    ]


def test_parse_of_nothing_is_nothing_and_dump_round_trips() -> None:
    assert parse_windows([]) == []
    windows = hours(("fri", "08:30", "24:00"), ("mon", "00:00", "01:00"))
    assert dump_windows(windows) == [
        {"day": "mon", "start": "00:00", "end": "01:00"},
        {"day": "fri", "start": "08:30", "end": "24:00"},
    ]
    assert parse_windows(list(dump_windows(windows))) == windows


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            {"day": "mon", "start": "09:00", "end": "25:00"},
            "windows[2].end: '25:00' is not a time HH:MM",
        ),
        (
            {"day": "mon", "start": "09:00", "end": "24:30"},
            "windows[2].end: '24:30' is not a time HH:MM",
        ),
        (
            {"day": "mon", "start": "09:60", "end": "10:00"},
            "windows[2].start: '09:60' is not a time HH:MM",
        ),
        (
            {"day": "mon", "start": "9am", "end": "10:00"},
            "windows[2].start: '9am' is not a time HH:MM",
        ),
        (
            {"day": "mon", "start": "09:00:00", "end": "10:00"},
            "windows[2].start: '09:00:00' is not a time HH:MM",
        ),
        ({"day": "mon", "start": 900, "end": "10:00"}, "windows[2].start: 900 is not a time HH:MM"),
        (
            {"day": "mon", "start": "24:00", "end": "24:00"},
            "windows[2].start: '24:00' is allowed only as an end",
        ),
        (
            {"day": "mon", "start": "17:00", "end": "09:00"},
            "windows[2].end: '09:00' is not after start '17:00'",
        ),
        (
            {"day": "mon", "start": "09:00", "end": "09:00"},
            "windows[2].end: '09:00' is not after start '09:00'",
        ),
        (
            {"day": "funday", "start": "09:00", "end": "10:00"},
            "windows[2].day: 'funday' is not a day",
        ),
        ({"day": 7, "start": "09:00", "end": "10:00"}, "windows[2].day: 7 is not a day"),
        ({"day": -1, "start": "09:00", "end": "10:00"}, "windows[2].day: -1 is not a day"),
        ({"day": True, "start": "09:00", "end": "10:00"}, "windows[2].day: True is not a day"),
        ({"day": None, "start": "09:00", "end": "10:00"}, "windows[2].day: None is not a day"),
        ({"start": "09:00", "end": "10:00"}, "windows[2].day: missing"),
        ({"day": "mon", "end": "10:00"}, "windows[2].start: missing"),
        ({"day": "mon", "start": "09:00"}, "windows[2].end: missing"),
        ("mon 09:00-10:00", "windows[2]: 'mon 09:00-10:00' is not an object"),
    ],
)
def test_parse_errors_name_the_item_and_field(item: Any, message: str) -> None:
    good = {"day": "mon", "start": "09:00", "end": "10:00"}
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        parse_windows([good, good, item])


@pytest.mark.parametrize(
    ("day", "start", "end"), [(7, 0, 10), (0, -1, 10), (0, 10, 10), (0, 0, 1441)]
)
def test_weekly_window_refuses_impossible_values(day: int, start: int, end: int) -> None:
    with pytest.raises(ValueError):
        WeeklyWindow(day, start, end)


@pytest.mark.parametrize("name", ["UTC", BERLIN, "America/New_York", "Asia/Kolkata"])
def test_check_tz_accepts_iana_names(name: str) -> None:
    assert check_tz(name) == name


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "utc", "Europe/", "../etc/passwd", "Europe"])
def test_check_tz_refuses_unknown_names(name: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"unknown time zone {name!r}")):
        check_tz(name)


def test_every_function_refuses_an_unknown_zone() -> None:
    s, e = at(2026, 11, 2), at(2026, 11, 3)
    with pytest.raises(ValueError, match="unknown time zone"):
        open_intervals([], "Nowhere/Land", s, e)
    with pytest.raises(ValueError, match="unknown time zone"):
        unavailable([], "Nowhere/Land", [], [], s, e)
    with pytest.raises(ValueError, match="unknown time zone"):
        calendar([], "UTC", [], [], date(2026, 11, 2), 1, display_tz="Nowhere/Land")


# --- summary text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spans", "text"),
    [
        ([], "always open"),
        (
            [(d, "09:00", "17:00") for d in range(5)] + [("sat", "10:00", "14:00")],
            "Mon-Fri 09:00-17:00, Sat 10:00-14:00 (Europe/Berlin)",
        ),
        ([(d, "00:00", "24:00") for d in range(7)], "daily 00:00-24:00 (Europe/Berlin)"),
        (
            [
                ("mon", "09:00", "12:00"),
                ("mon", "13:00", "17:00"),
                ("tue", "09:00", "12:00"),
                ("tue", "13:00", "17:00"),
            ],
            "Mon-Tue 09:00-12:00 and 13:00-17:00 (Europe/Berlin)",
        ),
        (
            [("mon", "09:00", "17:00"), ("wed", "09:00", "17:00")],
            "Mon 09:00-17:00, Wed 09:00-17:00 (Europe/Berlin)",
        ),
        ([("sun", "22:00", "24:00")], "Sun 22:00-24:00 (Europe/Berlin)"),
    ],
)
def test_window_text(spans: list[tuple[Any, str, str]], text: str) -> None:
    assert window_text(hours(*spans), BERLIN) == text


# --- open intervals -------------------------------------------------------------------------


def test_no_windows_means_open_around_the_clock() -> None:
    s, e = at(2026, 3, 28, 13, 7), at(2026, 4, 2, 1, 1)
    assert open_intervals([], BERLIN, s, e) == [(s, e)]
    assert open_intervals([], BERLIN, s, s) == []
    assert free_intervals([], BERLIN, [], [], s, e) == [(s, e)]
    assert unavailable([], BERLIN, [], [], s, e) is None


def test_weekday_hours_in_berlin_winter_and_summer() -> None:
    windows = parse_windows(WEEKDAYS_9_TO_5)
    # Mon 2 Nov 2026 is CET (UTC+1); Mon 6 Jul 2026 is CEST (UTC+2).
    assert open_intervals(windows, BERLIN, at(2026, 11, 2), at(2026, 11, 3)) == [
        (at(2026, 11, 2, 8), at(2026, 11, 2, 16))
    ]
    assert open_intervals(windows, BERLIN, at(2026, 7, 6), at(2026, 7, 7)) == [
        (at(2026, 7, 6, 7), at(2026, 7, 6, 15))
    ]
    # A whole winter week: five windows, nothing on the weekend.
    week = open_intervals(windows, BERLIN, at(2026, 11, 1), at(2026, 11, 8))
    assert week == [(at(2026, 11, d, 8), at(2026, 11, d, 16)) for d in range(2, 7)]


def test_spring_forward_last_sunday_of_march_2026() -> None:
    # 29 Mar 2026: Berlin clocks jump from 02:00 CET to 03:00 CEST (01:00 UTC).
    windows = hours(("sun", "09:00", "17:00"))
    assert open_intervals(windows, BERLIN, at(2026, 3, 21), at(2026, 3, 31)) == [
        (at(2026, 3, 22, 8), at(2026, 3, 22, 16)),  # the Sunday before: CET
        (at(2026, 3, 29, 7), at(2026, 3, 29, 15)),  # the change day: CEST already
    ]
    whole_day = hours(("sun", "00:00", "24:00"))
    assert open_intervals(whole_day, BERLIN, at(2026, 3, 28), at(2026, 3, 31)) == [
        (at(2026, 3, 28, 23), at(2026, 3, 29, 22))  # 23 hours
    ]


def test_spring_forward_windows_in_the_gap_use_fold_0() -> None:
    # Local 02:30 does not exist; fold=0 reads it with the offset before the change (UTC+1).
    window = hours(("sun", "02:30", "04:00"))
    assert open_intervals(window, BERLIN, at(2026, 3, 28), at(2026, 3, 30)) == [
        (at(2026, 3, 29, 1, 30), at(2026, 3, 29, 2))
    ]
    # 02:30 (01:30 UTC) to 03:00 (01:00 UTC) is no time at all.
    empty = hours(("sun", "02:30", "03:00"))
    assert open_intervals(empty, BERLIN, at(2026, 3, 28), at(2026, 3, 30)) == []
    assert unavailable(empty, BERLIN, [], [], at(2026, 3, 29, 1), at(2026, 3, 29, 2)) is not None


def test_fall_back_last_sunday_of_october_2026() -> None:
    # 25 Oct 2026: Berlin clocks go back from 03:00 CEST to 02:00 CET (01:00 UTC).
    windows = hours(("sun", "09:00", "17:00"))
    assert open_intervals(windows, BERLIN, at(2026, 10, 17), at(2026, 10, 27)) == [
        (at(2026, 10, 18, 7), at(2026, 10, 18, 15)),  # the Sunday before: CEST
        (at(2026, 10, 25, 8), at(2026, 10, 25, 16)),  # the change day: CET
    ]
    whole_day = hours(("sun", "00:00", "24:00"))
    assert open_intervals(whole_day, BERLIN, at(2026, 10, 24), at(2026, 10, 27)) == [
        (at(2026, 10, 24, 22), at(2026, 10, 25, 23))  # 25 hours
    ]


def test_fall_back_windows_in_the_overlap_use_the_first_occurrence() -> None:
    until_half_two = hours(("sun", "01:00", "02:30"))
    assert open_intervals(until_half_two, BERLIN, at(2026, 10, 24), at(2026, 10, 26)) == [
        (at(2026, 10, 24, 23), at(2026, 10, 25, 0, 30))
    ]
    from_half_two = hours(("sun", "02:30", "03:00"))  # 02:30 CEST to 03:00 CET: 90 minutes
    assert open_intervals(from_half_two, BERLIN, at(2026, 10, 24), at(2026, 10, 26)) == [
        (at(2026, 10, 25, 0, 30), at(2026, 10, 25, 2))
    ]


def test_windows_merge_across_midnight_and_across_the_week() -> None:
    windows = hours(
        ("mon", "00:00", "24:00"),
        ("tue", "00:00", "08:00"),
        ("sun", "22:00", "24:00"),
    )
    # Sun 1 Nov 2026 to Wed 4 Nov 2026, UTC.
    assert open_intervals(windows, "UTC", at(2026, 11, 1), at(2026, 11, 4)) == [
        (at(2026, 11, 1, 22), at(2026, 11, 3, 8))
    ]


def test_open_intervals_are_clipped_to_the_range() -> None:
    windows = parse_windows(WEEKDAYS_9_TO_5)
    assert open_intervals(windows, "UTC", at(2026, 11, 2, 12), at(2026, 11, 3, 10)) == [
        (at(2026, 11, 2, 12), at(2026, 11, 2, 17)),
        (at(2026, 11, 3, 9), at(2026, 11, 3, 10)),
    ]


def test_aware_datetimes_in_other_zones_are_converted_and_naive_ones_refused() -> None:
    berlin = ZoneInfo(BERLIN)
    s = datetime(2026, 11, 2, 10, tzinfo=berlin)
    e = datetime(2026, 11, 2, 12, tzinfo=berlin)
    [(a, b)] = open_intervals([], "UTC", s, e)
    assert (a, b) == (at(2026, 11, 2, 9), at(2026, 11, 2, 11))
    assert a.tzinfo is UTC and b.tzinfo is UTC
    naive = datetime(2026, 11, 2, 10)
    with pytest.raises(ValueError, match="naive"):
        open_intervals([], "UTC", naive, e)
    with pytest.raises(ValueError, match=re.escape("bookings[0].start")):
        free_intervals([], "UTC", [], [(naive, e)], s, e)
    with pytest.raises(ValueError, match="naive"):
        unavailable([], "UTC", [], [], s, naive)
    with pytest.raises(ValueError, match="naive"):
        free_slots([(naive, e)], 60)


# --- free intervals and booking checks ------------------------------------------------------


def test_free_intervals_remove_blocks_and_bookings() -> None:
    windows = parse_windows(WEEKDAYS_9_TO_5)  # Mon 2 Nov 2026, UTC: 09:00-17:00
    blocks = [(at(2026, 11, 2, 15), at(2026, 11, 2, 16))]
    bookings: list[Booking] = [
        (at(2026, 11, 2, 10), at(2026, 11, 2, 11), 7),
        (at(2026, 11, 2, 11), at(2026, 11, 2, 12), 8),  # back to back: no gap in between
        (at(2026, 11, 2, 16, 30), at(2026, 11, 2, 18)),  # runs past closing
    ]
    assert free_intervals(windows, "UTC", blocks, bookings, at(2026, 11, 2), at(2026, 11, 3)) == [
        (at(2026, 11, 2, 9), at(2026, 11, 2, 10)),
        (at(2026, 11, 2, 12), at(2026, 11, 2, 15)),
        (at(2026, 11, 2, 16), at(2026, 11, 2, 16, 30)),
    ]


def test_empty_bookings_are_ignored_and_reversed_ones_refused() -> None:
    s, e = at(2026, 11, 2), at(2026, 11, 3)
    noon = at(2026, 11, 2, 12)
    assert free_intervals([], "UTC", [], [(noon, noon)], s, e) == [(s, e)]
    with pytest.raises(ValueError, match=re.escape("blocks[0]: ends before it starts")):
        free_intervals([], "UTC", [(e, s)], [], s, e)


def test_back_to_back_bookings_do_not_overlap() -> None:
    booking: list[Booking] = [(at(2026, 11, 27, 10), at(2026, 11, 27, 11))]
    assert unavailable([], "UTC", [], booking, at(2026, 11, 27, 11), at(2026, 11, 27, 12)) is None
    assert unavailable([], "UTC", [], booking, at(2026, 11, 27, 9), at(2026, 11, 27, 10)) is None
    clash = unavailable([], "UTC", [], booking, at(2026, 11, 27, 10, 59), at(2026, 11, 27, 12))
    assert clash is not None and clash.kind == "booked"


def test_unavailable_names_the_earliest_overlapping_booking() -> None:
    bookings: list[Booking] = [
        (at(2026, 11, 27, 13), at(2026, 11, 27, 14), 2),
        (at(2026, 11, 27, 10), at(2026, 11, 27, 12), 1),
        (at(2026, 11, 27, 8), at(2026, 11, 27, 9), 3),  # does not overlap
    ]
    assert unavailable(
        [], "UTC", [], bookings, at(2026, 11, 27, 11), at(2026, 11, 27, 15)
    ) == Unavailable(
        "booked",
        "overlaps a booking 2026-11-27 10:00-12:00 UTC",
        at(2026, 11, 27, 10),
        at(2026, 11, 27, 12),
    )


def test_unavailable_checks_bookings_then_blocks_then_hours() -> None:
    windows = parse_windows(WEEKDAYS_9_TO_5)
    tz = BERLIN  # Fri 27 Nov 2026: open 08:00-16:00 UTC
    blocks = [(at(2026, 11, 27), at(2026, 11, 28))]
    bookings: list[Booking] = [(at(2026, 11, 27, 10), at(2026, 11, 27, 12))]
    s, e = at(2026, 11, 27, 11), at(2026, 11, 27, 17)

    booked = unavailable(windows, tz, blocks, bookings, s, e)
    assert booked is not None and booked.kind == "booked"

    blocked = unavailable(windows, tz, blocks, [], s, e)
    assert blocked == Unavailable(
        "blocked",
        "overlaps a blocked period 2026-11-27 00:00-2026-11-28 00:00 UTC",
        at(2026, 11, 27),
        at(2026, 11, 28),
    )

    closed = unavailable(windows, tz, [], [], s, e)
    assert closed == Unavailable(
        "closed",
        "outside the machine's hours: Mon-Fri 09:00-17:00 (Europe/Berlin)",
        at(2026, 11, 27, 16),  # the first closed stretch of the request
        at(2026, 11, 27, 17),
    )
    assert unavailable(windows, tz, [], [], s, at(2026, 11, 27, 16)) is None


def test_unavailable_message_shows_seconds_only_when_there_are_some() -> None:
    bookings: list[Booking] = [(at(2026, 11, 27, 10, 0, 30), at(2026, 11, 28, 1))]
    found = unavailable([], "UTC", [], bookings, at(2026, 11, 27, 9), at(2026, 11, 27, 11))
    assert found is not None
    assert found.message == "overlaps a booking 2026-11-27 10:00:30-2026-11-28 01:00 UTC"


def test_unavailable_refuses_an_empty_request() -> None:
    with pytest.raises(ValueError, match="end must be after start"):
        unavailable([], "UTC", [], [], at(2026, 11, 27, 11), at(2026, 11, 27, 11))


# --- slots ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("free", "granularity", "slots"),
    [
        ([((10, 20), (13, 10))], 60, [((11, 0), (13, 0))]),
        ([((10, 20), (11, 10))], 60, []),  # no whole hour inside
        ([((10, 0), (11, 0))], 60, [((10, 0), (11, 0))]),  # exactly one step
        ([((10, 0), (14, 0))], 90, [((10, 30), (13, 30))]),  # 90-minute steps from midnight
        ([((10, 7), (10, 52))], 15, [((10, 15), (10, 45))]),
        ([((10, 7), (10, 52))], 1, [((10, 7), (10, 52))]),
        (
            [((9, 0), (9, 40)), ((10, 10), (12, 0)), ((12, 20), (12, 50))],
            30,
            [((9, 0), (9, 30)), ((10, 30), (12, 0))],
        ),
    ],
)
def test_free_slots_shrink_to_granularity(
    free: list[tuple[tuple[int, int], tuple[int, int]]],
    granularity: int,
    slots: list[tuple[tuple[int, int], tuple[int, int]]],
) -> None:
    def day(spans: list[tuple[tuple[int, int], tuple[int, int]]]) -> list[Interval]:
        return [(at(2026, 11, 27, *a), at(2026, 11, 27, *b)) for a, b in spans]

    assert free_slots(day(free), granularity) == day(slots)


def test_free_slots_align_to_the_epoch() -> None:
    [(start, end)] = free_slots([(at(2026, 11, 27, 10), at(2026, 11, 27, 12))], 7)
    step = timedelta(minutes=7)
    assert (start - EPOCH) % step == timedelta(0) and (end - EPOCH) % step == timedelta(0)
    assert at(2026, 11, 27, 10) <= start < at(2026, 11, 27, 10) + step
    assert at(2026, 11, 27, 12) - step < end <= at(2026, 11, 27, 12)


@pytest.mark.parametrize("granularity", [0, -15])
def test_free_slots_refuse_a_granularity_below_one(granularity: int) -> None:
    with pytest.raises(ValueError, match="granularity_minutes"):
        free_slots([], granularity)


# --- calendar -------------------------------------------------------------------------------


def assert_tiles(days: list[Day], first_day: date, display_tz: str) -> None:
    zone = ZoneInfo(display_tz)
    for offset, day in enumerate(days):
        assert day.date == first_day + timedelta(days=offset)
        midnight = datetime.combine(day.date, datetime.min.time(), tzinfo=zone).astimezone(UTC)
        next_day = day.date + timedelta(days=1)
        next_midnight = datetime.combine(next_day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
        assert day.segments[0].start == midnight
        assert day.segments[-1].end == next_midnight
        for a, b in pairwise(day.segments):
            assert a.end == b.start
            assert (a.status, a.ref) != (b.status, b.ref)  # merged
        for segment in day.segments:
            assert segment.start < segment.end
            assert segment.start.tzinfo is UTC


def test_calendar_days_cover_local_days_exactly_across_dst() -> None:
    windows = parse_windows(WEEKDAYS_9_TO_5)
    days = calendar(windows, BERLIN, [], [], date(2026, 3, 28), 3, display_tz=BERLIN)
    assert_tiles(days, date(2026, 3, 28), BERLIN)
    spans = [d.segments[-1].end - d.segments[0].start for d in days]
    assert spans == [timedelta(hours=24), timedelta(hours=23), timedelta(hours=24)]
    # Mon 30 Mar, Berlin display: closed until 09:00 local, free to 17:00, closed after.
    assert [(s.start, s.end, s.status) for s in days[2].segments] == [
        (at(2026, 3, 29, 22), at(2026, 3, 30, 7), "closed"),
        (at(2026, 3, 30, 7), at(2026, 3, 30, 15), "free"),
        (at(2026, 3, 30, 15), at(2026, 3, 30, 22), "closed"),
    ]
    autumn = calendar(windows, BERLIN, [], [], date(2026, 10, 25), 1, display_tz=BERLIN)
    assert autumn[0].segments == [Segment(at(2026, 10, 24, 22), at(2026, 10, 25, 23), "closed")]


def test_calendar_precedence_and_booking_refs() -> None:
    windows = hours(("fri", "09:00", "17:00"))  # Fri 27 Nov 2026, UTC
    blocks = [(at(2026, 11, 27, 7), at(2026, 11, 27, 11))]
    bookings: list[Booking] = [
        (at(2026, 11, 27, 10), at(2026, 11, 27, 12), 41),  # over the block and free time
        (at(2026, 11, 27, 12), at(2026, 11, 27, 13), 42),  # back to back: its own segment
        (at(2026, 11, 27, 16), at(2026, 11, 27, 18), None),  # runs past closing
    ]
    [day] = calendar(windows, "UTC", blocks, bookings, date(2026, 11, 27), 1)
    assert day.segments == [
        Segment(at(2026, 11, 27), at(2026, 11, 27, 7), "closed"),
        Segment(at(2026, 11, 27, 7), at(2026, 11, 27, 10), "blocked"),  # blocked beats closed
        Segment(at(2026, 11, 27, 10), at(2026, 11, 27, 12), "booked", 41),
        Segment(at(2026, 11, 27, 12), at(2026, 11, 27, 13), "booked", 42),
        Segment(at(2026, 11, 27, 13), at(2026, 11, 27, 16), "free"),
        Segment(at(2026, 11, 27, 16), at(2026, 11, 27, 18), "booked"),
        Segment(at(2026, 11, 27, 18), at(2026, 11, 28), "closed"),
    ]


def test_calendar_splits_a_booking_over_midnight_and_merges_same_ref() -> None:
    bookings: list[Booking] = [
        (at(2026, 11, 27, 22), at(2026, 11, 28, 1), 5),
        (at(2026, 11, 28, 1), at(2026, 11, 28, 2), 5),  # same booking id: one segment
    ]
    days = calendar([], "UTC", [], bookings, date(2026, 11, 27), 2)
    assert_tiles(days, date(2026, 11, 27), "UTC")
    assert days[0].segments[-1] == Segment(at(2026, 11, 27, 22), at(2026, 11, 28), "booked", 5)
    assert days[1].segments[0] == Segment(at(2026, 11, 28), at(2026, 11, 28, 2), "booked", 5)
    assert days[1].segments[1] == Segment(at(2026, 11, 28, 2), at(2026, 11, 29), "free")


def test_calendar_of_a_date_the_zone_skipped() -> None:
    # Samoa skipped 30 Dec 2011 when it moved across the date line.
    days = calendar([], "UTC", [], [], date(2011, 12, 29), 3, display_tz="Pacific/Apia")
    assert [len(d.segments) for d in days] == [1, 0, 1]
    assert days[0].segments[0].end == days[2].segments[0].start


@pytest.mark.parametrize("days", [0, -1, 63])
def test_calendar_refuses_a_bad_number_of_days(days: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 62"):
        calendar([], "UTC", [], [], date(2026, 11, 1), days)


def test_62_days_with_hundreds_of_bookings_is_fast() -> None:
    windows = parse_windows(WEEKDAYS_9_TO_5)
    start = at(2026, 3, 1)
    bookings: list[Booking] = [
        (start + timedelta(hours=5 * i), start + timedelta(hours=5 * i + 2), i) for i in range(300)
    ]
    blocks = [
        (start + timedelta(days=3 * i), start + timedelta(days=3 * i, hours=6)) for i in range(20)
    ]
    end = start + timedelta(days=62)
    began = time.perf_counter()
    days = calendar(windows, BERLIN, blocks, bookings, date(2026, 3, 1), 62, display_tz=BERLIN)
    free = free_intervals(windows, BERLIN, blocks, bookings, start, end)
    slots = free_slots(free, 30)
    verdicts = [
        unavailable(windows, BERLIN, blocks, bookings, s, s + timedelta(hours=1)) for s, _ in slots
    ]
    elapsed = time.perf_counter() - began
    assert len(days) == 62 and free and verdicts
    assert elapsed < 2.0, f"took {elapsed:.2f}s"


# --- properties -----------------------------------------------------------------------------

ZONES = [
    "UTC",
    BERLIN,
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/St_Johns",
]
# Weeks with DST changes in several of the zones above, and one without.
BASES = [
    at(2026, 3, 27),
    at(2026, 10, 23),
    at(2026, 3, 6),
    at(2026, 10, 30),
    at(2026, 4, 3),
    at(2026, 6, 10),
]
HORIZON = 4 * 1440  # minutes

windows_st = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 47), st.integers(1, 48)).map(
        lambda t: WeeklyWindow(t[0], t[1] * 30, min(1440, (t[1] + t[2]) * 30))
    ),
    max_size=6,
)
periods_st = st.lists(
    st.tuples(st.integers(0, HORIZON // 15), st.integers(1, 96)).map(
        lambda t: (t[0] * 15, t[0] * 15 + t[1] * 15)
    ),
    max_size=5,
)
request_st = st.tuples(st.integers(0, HORIZON - 1), st.integers(1, 1440)).map(
    lambda t: (t[0], min(HORIZON, t[0] + t[1]))
)


def to_utc(base: datetime, spans: list[tuple[int, int]]) -> list[Interval]:
    return [(base + timedelta(minutes=a), base + timedelta(minutes=b)) for a, b in spans]


@settings(max_examples=300, deadline=None)
@given(
    windows=windows_st,
    tz=st.sampled_from(ZONES),
    base=st.sampled_from(BASES),
    blocks=periods_st,
    bookings=periods_st,
    request=request_st,
)
def test_property_free_iff_inside_one_free_interval(
    windows: list[WeeklyWindow],
    tz: str,
    base: datetime,
    blocks: list[tuple[int, int]],
    bookings: list[tuple[int, int]],
    request: tuple[int, int],
) -> None:
    blocked, booked = to_utc(base, blocks), to_utc(base, bookings)
    lo, hi = base, base + timedelta(minutes=HORIZON)
    free = free_intervals(windows, tz, blocked, booked, lo, hi)

    [(s, e)] = to_utc(base, [request])
    verdict = unavailable(windows, tz, blocked, booked, s, e)
    assert (verdict is None) == covered(free, s, e)
    if verdict is not None:
        assert verdict.kind in ("booked", "blocked", "closed")
        assert verdict.start is not None and verdict.end is not None
        assert overlaps((verdict.start, verdict.end), (s, e))

    opened = open_intervals(windows, tz, lo, hi)
    for a, b in free:
        assert lo <= a < b <= hi
        assert covered(opened, a, b)
        assert not any(overlaps((a, b), busy) for busy in [*blocked, *booked])
    for (_, b), (c, _) in pairwise(free):
        assert b < c  # sorted and merged


def brute_force_free(
    windows: list[WeeklyWindow], offset: timedelta, base: datetime, busy: list[Interval]
) -> list[Interval]:
    """Minute by minute, for a zone with a fixed UTC offset."""
    spans: list[Interval] = []
    for minute in range(HORIZON):
        t = base + timedelta(minutes=minute)
        local = t + offset
        local_minute = local.hour * 60 + local.minute
        opened = not windows or any(
            w.day == local.weekday() and w.start_minute <= local_minute < w.end_minute
            for w in windows
        )
        if opened and not any(a <= t < b for a, b in busy):
            if spans and spans[-1][1] == t:
                spans[-1] = (spans[-1][0], t + timedelta(minutes=1))
            else:
                spans.append((t, t + timedelta(minutes=1)))
    return spans


@settings(max_examples=60, deadline=None)
@given(
    windows=windows_st,
    tz=st.sampled_from(["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/Panama"]),
    blocks=periods_st,
    bookings=periods_st,
)
def test_property_matches_a_minute_by_minute_count_in_fixed_offset_zones(
    windows: list[WeeklyWindow],
    tz: str,
    blocks: list[tuple[int, int]],
    bookings: list[tuple[int, int]],
) -> None:
    base = at(2026, 6, 10)
    offset = base.astimezone(ZoneInfo(tz)).utcoffset()
    assert offset is not None
    busy = to_utc(base, blocks) + to_utc(base, bookings)
    expected = brute_force_free(windows, offset, base, busy)
    got = free_intervals(
        windows,
        tz,
        to_utc(base, blocks),
        to_utc(base, bookings),
        base,
        base + timedelta(minutes=HORIZON),
    )
    assert got == expected


@settings(max_examples=150, deadline=None)
@given(
    windows=windows_st,
    tz=st.sampled_from(ZONES),
    display_tz=st.sampled_from(ZONES),
    base=st.sampled_from(BASES),
    blocks=periods_st,
    bookings=periods_st,
    refs=st.lists(st.one_of(st.none(), st.integers(1, 3)), min_size=5, max_size=5),
)
def test_property_calendar_agrees_with_the_intervals(
    windows: list[WeeklyWindow],
    tz: str,
    display_tz: str,
    base: datetime,
    blocks: list[tuple[int, int]],
    bookings: list[tuple[int, int]],
    refs: list[int | None],
) -> None:
    blocked = to_utc(base, blocks)
    booked: list[tuple[datetime, datetime, int | None]] = [
        (a, b, ref) for (a, b), ref in zip(to_utc(base, bookings), refs, strict=False)
    ]
    first_day = base.date()
    days = calendar(windows, tz, blocked, booked, first_day, 4, display_tz=display_tz)
    assert_tiles(days, first_day, display_tz)

    segments = [s for d in days for s in d.segments]
    lo, hi = segments[0].start, segments[-1].end
    opened = open_intervals(windows, tz, lo, hi)
    for segment in segments:
        if segment.status == "booked":
            with_ref = union([(b[0], b[1]) for b in booked if b[2] == segment.ref])
            assert covered(with_ref, segment.start, segment.end)
            continue
        assert not any(overlaps((segment.start, segment.end), (b[0], b[1])) for b in booked)
        in_block = covered(union(blocked), segment.start, segment.end)
        assert (segment.status == "blocked") == in_block
        if not in_block:
            assert not any(overlaps((segment.start, segment.end), b) for b in blocked)
            is_open = covered(opened, segment.start, segment.end)
            assert segment.status == ("free" if is_open else "closed")

    free_from_calendar: list[Interval] = []
    for segment in segments:
        if segment.status != "free":
            continue
        if free_from_calendar and free_from_calendar[-1][1] == segment.start:
            free_from_calendar[-1] = (free_from_calendar[-1][0], segment.end)
        else:
            free_from_calendar.append((segment.start, segment.end))
    assert free_from_calendar == free_intervals(windows, tz, blocked, booked, lo, hi)


@settings(max_examples=200, deadline=None)
@given(
    busy=periods_st,
    granularity=st.sampled_from([1, 5, 7, 15, 30, 60, 90, 1440]),
    base=st.sampled_from(BASES),
    shift=st.integers(0, 59),
)
def test_property_slots_are_the_aligned_steps_inside_free_time(
    busy: list[tuple[int, int]], granularity: int, base: datetime, shift: int
) -> None:
    # Free time: what the random busy periods leave of four days from an unaligned start.
    start = base + timedelta(minutes=shift)
    free = free_intervals(
        [], "UTC", [], to_utc(start, busy), start, start + timedelta(minutes=HORIZON)
    )
    slots = free_slots(free, granularity)
    step = timedelta(minutes=granularity)
    for a, b in slots:
        assert (a - EPOCH) % step == timedelta(0) and (b - EPOCH) % step == timedelta(0)
        assert b - a >= step
        assert covered(free, a, b)
    for (_, b), (c, _) in pairwise(slots):
        assert b < c
    # Every aligned step inside free time is inside a slot.
    for a, b in free:
        t = a + (EPOCH - a) % step
        while t + step <= b:
            assert covered(slots, t, t + step)
            t += step

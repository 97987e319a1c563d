"""When a host machine can be rented (pure): weekly opening hours, blocked periods and bookings.

Opening hours are weekly windows of local wall-clock time in the machine's IANA time zone; they are
turned into UTC instants day by day (fold=0 in DST gaps and overlaps), so "09:00-17:00" stays
09:00-17:00 local across DST changes. No windows at all means open around the clock. Blocked
periods and bookings are UTC intervals. Every interval is half-open, [start, end), and every
datetime in and out is timezone-aware UTC (aware datetimes in other zones are converted; naive
ones are refused)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MINUTES_PER_DAY = 1440
MAX_CALENDAR_DAYS = 62
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STATUSES = ("free", "booked", "blocked", "closed")
_OPEN, _BLOCK, _BOOKING = 0, 1, 2  # the calendar's layers, weakest first

Interval: TypeAlias = tuple[datetime, datetime]
# A booking, optionally with its id (the calendar shows it; the other functions ignore it).
Booking: TypeAlias = tuple[datetime, datetime] | tuple[datetime, datetime, int | None]

_HHMM = re.compile(r"([0-9]{1,2}):([0-9]{2})")


@dataclass(frozen=True, order=True)
class WeeklyWindow:
    """Opening hours on one weekday, in minutes after local midnight."""

    day: int  # 0 = Monday … 6 = Sunday
    start_minute: int  # 0..1439
    end_minute: int  # 1..1440 (1440 = midnight at the end of the day), > start_minute

    def __post_init__(self) -> None:
        if not 0 <= self.day <= 6:
            raise ValueError(f"day {self.day} is not 0..6")
        if not 0 <= self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise ValueError(
                f"window {self.start_minute}-{self.end_minute} is not within 0..1440 minutes "
                "with start before end"
            )


@dataclass(frozen=True)
class Unavailable:
    """Why a requested period cannot be booked."""

    kind: str  # "booked" | "blocked" | "closed"
    message: str
    start: datetime | None = None  # the conflicting interval when there is one
    end: datetime | None = None


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    status: str  # "free" | "booked" | "blocked" | "closed"
    ref: int | None = None  # the booking's id for "booked" segments when known


@dataclass(frozen=True)
class Day:
    """One calendar date in the display time zone: segments cover [local midnight, next local
    midnight) in UTC, in order, with no gaps (empty only for a date the zone skipped)."""

    date: date
    segments: list[Segment]


# --- time zones and datetimes ---------------------------------------------------------------


def check_tz(name: str) -> str:
    """The name, if it is a known IANA time zone; ValueError otherwise."""
    _zone(name)
    return name


def _zone(name: str) -> ZoneInfo:
    if not isinstance(name, str):
        raise ValueError(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    # ValueError and OSError: malformed keys ("../x", "Europe/") rather than unknown ones.
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what}: {moment.isoformat()} is naive; expected a UTC datetime")
    return moment.astimezone(UTC)


def _span(start: datetime, end: datetime) -> Interval:
    return _utc(start, "start"), _utc(end, "end")


def _instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time on `day` (fold=0: in a DST gap the offset before the
    change applies, in an overlap the first occurrence); minute 1440 is the next midnight."""
    day += timedelta(days=minute // MINUTES_PER_DAY)
    minute %= MINUTES_PER_DAY
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    return local.astimezone(UTC)


# --- weekly windows -------------------------------------------------------------------------


def parse_windows(items: list[dict[str, Any]]) -> list[WeeklyWindow]:
    """Windows from `{"day": "mon", "start": "09:00", "end": "17:30"}` items, merged where they
    overlap or touch on the same day, sorted by (day, start). Errors name the item and field."""
    windows: list[WeeklyWindow] = []
    for index, item in enumerate(items):
        where = f"windows[{index}]"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: {item!r} is not an object with day, start and end")
        day = _parse_day(_field(item, where, "day"), f"{where}.day")
        start = _parse_time(_field(item, where, "start"), f"{where}.start", end=False)
        end = _parse_time(_field(item, where, "end"), f"{where}.end", end=True)
        if end <= start:
            raise ValueError(f"{where}.end: {item['end']!r} is not after start {item['start']!r}")
        windows.append(WeeklyWindow(day, start, end))
    return _normalise(windows)


def dump_windows(windows: Sequence[WeeklyWindow]) -> list[dict[str, str]]:
    """The inverse of `parse_windows`: items with short day names and HH:MM times."""
    return [
        {"day": DAYS[w.day], "start": _hhmm(w.start_minute), "end": _hhmm(w.end_minute)}
        for w in _normalise(windows)
    ]


def _field(item: dict[str, Any], where: str, name: str) -> Any:
    if name not in item:
        raise ValueError(f"{where}.{name}: missing")
    return item[name]


def _parse_day(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str):
        key = value.strip().lower()
        for names in (DAYS, DAY_NAMES):
            if key in names:
                return names.index(key)
    raise ValueError(f"{where}: {value!r} is not a day (mon..sun, monday..sunday or 0..6)")


def _parse_time(value: Any, where: str, *, end: bool) -> int:
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    minute = int(match[1]) * 60 + int(match[2]) if match else -1
    if match is None or int(match[2]) > 59 or minute > MINUTES_PER_DAY:
        raise ValueError(f"{where}: {value!r} is not a time HH:MM")
    if minute == MINUTES_PER_DAY and not end:
        raise ValueError(f"{where}: {value!r} is allowed only as an end")
    return minute


def _normalise(windows: Iterable[WeeklyWindow]) -> list[WeeklyWindow]:
    merged: list[WeeklyWindow] = []
    for w in sorted(windows):
        last = merged[-1] if merged else None
        if last and last.day == w.day and w.start_minute <= last.end_minute:
            end = max(last.end_minute, w.end_minute)
            merged[-1] = WeeklyWindow(last.day, last.start_minute, end)
        else:
            merged.append(w)
    return merged


def _by_day(windows: Sequence[WeeklyWindow]) -> list[tuple[tuple[int, int], ...]]:
    days: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    for w in _normalise(windows):
        days[w.day].append((w.start_minute, w.end_minute))
    return [tuple(hours) for hours in days]


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def window_text(windows: Sequence[WeeklyWindow], tz: str) -> str:
    """A human summary, e.g. "Mon-Fri 09:00-17:00, Sat 10:00-14:00 (Europe/Berlin)"."""
    if not windows:
        return "always open"
    groups: list[tuple[int, int, tuple[tuple[int, int], ...]]] = []  # first day, last day, hours
    for day, hours in enumerate(_by_day(windows)):
        if not hours:
            continue
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == hours:
            groups[-1] = (groups[-1][0], day, hours)
        else:
            groups.append((day, day, hours))
    parts = [
        f"{_day_range(first, last)} {' and '.join(f'{_hhmm(s)}-{_hhmm(e)}' for s, e in hours)}"
        for first, last, hours in groups
    ]
    return f"{', '.join(parts)} ({tz})"


def _day_range(first: int, last: int) -> str:
    if (first, last) == (0, 6):
        return "daily"
    names = DAYS[first].title(), DAYS[last].title()
    return names[0] if first == last else f"{names[0]}-{names[1]}"


# --- intervals ------------------------------------------------------------------------------


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping and touching intervals joined."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(base: list[Interval], cuts: list[Interval]) -> list[Interval]:
    """`base` minus `cuts`; both sorted and merged, and so is the result."""
    out: list[Interval] = []
    first = 0
    for start, end in base:
        while first < len(cuts) and cuts[first][1] <= start:
            first += 1
        cursor, i = start, first
        while i < len(cuts) and cuts[i][0] < end:
            if cuts[i][0] > cursor:
                out.append((cursor, cuts[i][0]))
            cursor = max(cursor, cuts[i][1])
            i += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def _intervals(items: Sequence[Booking], what: str) -> list[Interval]:
    return [(start, end) for start, end, _ in _checked(items, what)]


def _checked(items: Sequence[Booking], what: str) -> list[tuple[datetime, datetime, int | None]]:
    """Validated UTC intervals with their ids; empty ones are dropped (they occupy nothing)."""
    out: list[tuple[datetime, datetime, int | None]] = []
    for index, item in enumerate(items):
        start = _utc(item[0], f"{what}[{index}].start")
        end = _utc(item[1], f"{what}[{index}].end")
        if end < start:
            raise ValueError(f"{what}[{index}]: ends before it starts")
        if end > start:
            out.append((start, end, item[2] if len(item) > 2 else None))
    return out


def open_intervals(
    windows: Sequence[WeeklyWindow], tz: str, start: datetime, end: datetime
) -> list[Interval]:
    """The merged UTC intervals within [start, end) when the opening hours say open."""
    zone = _zone(tz)
    start, end = _span(start, end)
    if end <= start:
        return []
    if not windows:
        return [(start, end)]
    by_day = _by_day(windows)
    out: list[Interval] = []
    # One local day of margin either side: cheap, and safe whatever the zone's offset.
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        for first_minute, end_minute in by_day[day.weekday()]:
            # A window that starts in a DST gap and ends just after it can come out empty.
            opens = max(_instant(day, first_minute, zone), start)
            closes = min(_instant(day, end_minute, zone), end)
            if opens < closes:
                out.append((opens, closes))
        day += timedelta(days=1)
    return _merge(out)


def free_intervals(
    windows: Sequence[WeeklyWindow],
    tz: str,
    blocks: Sequence[Interval],
    bookings: Sequence[Booking],
    start: datetime,
    end: datetime,
) -> list[Interval]:
    """Open intervals within [start, end) minus blocked periods and bookings, merged."""
    busy = _merge([*_intervals(blocks, "blocks"), *_intervals(bookings, "bookings")])
    return _subtract(open_intervals(windows, tz, start, end), busy)


# --- booking checks -------------------------------------------------------------------------


def unavailable(
    windows: Sequence[WeeklyWindow],
    tz: str,
    blocks: Sequence[Interval],
    bookings: Sequence[Booking],
    start: datetime,
    end: datetime,
) -> Unavailable | None:
    """Why [start, end) cannot be booked (bookings first, then blocks, then opening hours), or
    None when all of it is free."""
    _zone(tz)
    start, end = _span(start, end)
    if end <= start:
        raise ValueError("end must be after start")
    booking = _first_overlap(_intervals(bookings, "bookings"), start, end)
    if booking:
        return Unavailable("booked", f"overlaps a booking {_period(*booking)}", *booking)
    block = _first_overlap(_intervals(blocks, "blocks"), start, end)
    if block:
        return Unavailable("blocked", f"overlaps a blocked period {_period(*block)}", *block)
    opened = open_intervals(windows, tz, start, end)
    if opened != [(start, end)]:
        closed = _subtract([(start, end)], opened)[0]  # the first closed stretch
        message = f"outside the machine's hours: {window_text(windows, tz)}"
        return Unavailable("closed", message, *closed)
    return None


def _first_overlap(intervals: list[Interval], start: datetime, end: datetime) -> Interval | None:
    overlapping = [(s, e) for s, e in intervals if s < end and e > start]
    return min(overlapping) if overlapping else None


def _period(start: datetime, end: datetime) -> str:
    if start.date() == end.date():
        return f"{start:%Y-%m-%d} {_clock(start)}-{_clock(end)} UTC"
    return f"{start:%Y-%m-%d} {_clock(start)}-{end:%Y-%m-%d} {_clock(end)} UTC"


def _clock(moment: datetime) -> str:
    return f"{moment:%H:%M:%S}" if moment.second or moment.microsecond else f"{moment:%H:%M}"


def free_slots(free: Sequence[Interval], granularity_minutes: int) -> list[Interval]:
    """Free intervals shrunk inward to multiples of the granularity (counted from the Unix epoch,
    UTC), without the pieces shorter than one step; ranges, not one row per step."""
    if isinstance(granularity_minutes, bool) or granularity_minutes < 1:
        raise ValueError(f"granularity_minutes: {granularity_minutes!r} is not at least 1")
    step = timedelta(minutes=granularity_minutes)
    slots: list[Interval] = []
    for start, end in _intervals(free, "free"):
        first = start + (EPOCH - start) % step  # rounded up
        last = end - (end - EPOCH) % step  # rounded down
        if first < last:  # both aligned, so at least one step apart
            slots.append((first, last))
    return _merge(slots)


# --- calendar -------------------------------------------------------------------------------


def calendar(
    windows: Sequence[WeeklyWindow],
    tz: str,
    blocks: Sequence[Interval],
    bookings: Sequence[Booking],
    first_day: date,
    days: int,
    display_tz: str = "UTC",
) -> list[Day]:
    """`days` calendar dates from `first_day` in `display_tz`, each split into free, booked,
    blocked and closed segments (where several apply: booked > blocked > closed > free)."""
    if isinstance(days, bool) or not 1 <= days <= MAX_CALENDAR_DAYS:
        raise ValueError(f"days: {days!r} is not between 1 and {MAX_CALENDAR_DAYS}")
    display = _zone(display_tz)
    dates = [first_day + timedelta(days=i) for i in range(days + 1)]
    bounds = [_instant(d, 0, display) for d in dates]
    pieces = _paint(
        open_intervals(windows, tz, bounds[0], bounds[-1]),
        _intervals(blocks, "blocks"),
        _checked(bookings, "bookings"),
        bounds,
    )
    calendar_days: list[Day] = []
    i = 0
    for day, day_end in zip(dates[:-1], bounds[1:], strict=True):
        segments: list[Segment] = []
        while i < len(pieces) and pieces[i].end <= day_end:
            _append(segments, pieces[i])
            i += 1
        calendar_days.append(Day(day, segments))
    return calendar_days


def _paint(
    opened: list[Interval],
    blocks: list[Interval],
    bookings: list[tuple[datetime, datetime, int | None]],
    cuts: list[datetime],
) -> list[Segment]:
    """Elementary segments over [cuts[0], cuts[-1]) split at every cut and every interval edge,
    by one sweep: each segment takes the strongest layer active over it."""
    start, end = cuts[0], cuts[-1]
    # (instant, +1 at a start / -1 at an end, layer, booking index or -1)
    edges: list[tuple[datetime, int, int, int]] = []
    for layer, intervals in ((_OPEN, opened), (_BLOCK, blocks)):
        for s, e in intervals:
            if s < end and e > start:
                edges += [(max(s, start), 1, layer, -1), (min(e, end), -1, layer, -1)]
    for index, (s, e, _) in enumerate(bookings):
        if s < end and e > start:
            edges += [(max(s, start), 1, _BOOKING, index), (min(e, end), -1, _BOOKING, index)]
    edges.sort(key=lambda edge: edge[0])
    points = sorted({*cuts, *(edge[0] for edge in edges)})

    counts = [0, 0]  # open, block
    active: set[int] = set()  # the bookings over the current point
    pieces: list[Segment] = []
    k = 0
    for here, there in pairwise(points):
        while k < len(edges) and edges[k][0] <= here:
            _, sign, layer, index = edges[k]
            if layer != _BOOKING:
                counts[layer] += sign
            elif sign > 0:
                active.add(index)
            else:
                active.discard(index)
            k += 1
        if active:
            # Overlapping bookings should not exist; if they do, show the earliest.
            first = min(active, key=lambda i: (bookings[i][0], i))
            pieces.append(Segment(here, there, "booked", bookings[first][2]))
        elif counts[_BLOCK]:
            pieces.append(Segment(here, there, "blocked"))
        else:
            pieces.append(Segment(here, there, "free" if counts[_OPEN] else "closed"))
    return pieces


def _append(segments: list[Segment], piece: Segment) -> None:
    last = segments[-1] if segments else None
    if last and (last.status, last.ref, last.end) == (piece.status, piece.ref, piece.start):
        segments[-1] = Segment(last.start, piece.end, last.status, last.ref)
    else:
        segments.append(piece)

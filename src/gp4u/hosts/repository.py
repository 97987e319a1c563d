"""Every query of the hosts domain. Bookings are read from the reservations table through a
column list of their own (`_bookings`): the reservations domain sits above this one and owns
the table, while machines' calendars, block checks and dashboards only read it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    BigInteger,
    String,
    Table,
    and_,
    bindparam,
    case,
    column,
    func,
    literal,
    select,
    table,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.db.base import UtcDateTime
from gp4u.hosts.models import HostMachine, MachineBlock, MachineRun, MachineUptime
from gp4u.offers.models import Offer

# The reservation states that hold a machine's time (reservations.states.BLOCKING; a test
# keeps the two equal).
BLOCKING_STATES = ("pending", "active")
_bookings = table(
    "reservations",
    column("id", BigInteger),
    column("machine_id", BigInteger),
    column("owner", String),
    column("host", String),
    column("state", String),
    column("start_at", UtcDateTime),
    column("end_at", UtcDateTime),
    column("price_per_hour", BigInteger),
    column("held", BigInteger),
    column("captured", BigInteger),
    column("fee", BigInteger),
)


@dataclass(frozen=True)
class Booking:
    id: int
    machine_id: int
    owner: str
    state: str
    start_at: datetime
    end_at: datetime
    price_per_hour: int


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _lock(query: Any, session: AsyncSession, lock: str | None) -> Any:
    """FOR SHARE (bookings, which may run side by side) or FOR UPDATE (changes to the machine's
    terms and calendar). SQLite serialises writers anyway."""
    if lock is None or _dialect(session) == "sqlite":
        return query
    return query.with_for_update(read=lock == "share")


_MACHINE = select(HostMachine).where(HostMachine.id == bindparam("machine_id"))


async def get(
    session: AsyncSession, machine_id: int, *, lock: str | None = None
) -> HostMachine | None:
    query = _lock(_MACHINE, session, lock)
    return (await session.scalars(query, {"machine_id": machine_id})).one_or_none()


class BookableMachine(NamedTuple):
    """What a booking reads of a machine: a plain row, since building the ORM instance made
    this read cost the booking twice as much CPU as any other statement."""

    id: int
    owner: str
    name: str
    status: str
    gpu: str
    gpu_count: int
    price_per_hour: int
    min_minutes: int
    timezone: str
    windows: list[dict[str, Any]]
    agent_secret_digest: str | None
    last_heartbeat_at: datetime | None
    gpu_check: str | None
    gpu_check_detail: str | None

    def online_at(self, now: datetime, offline_after_seconds: float) -> bool:
        # The model's rule itself (it reads only columns selected here), so there is one rule.
        return HostMachine.online_at(self, now, offline_after_seconds)  # type: ignore[arg-type]


_machines = cast(Table, HostMachine.__table__).c
_BOOKABLE = select(*(_machines[name] for name in BookableMachine._fields)).where(
    _machines.id == bindparam("machine_id")
)
_BOOKABLE_LOCKED = _BOOKABLE.with_for_update()


async def bookable_locked(session: AsyncSession, machine_id: int) -> BookableMachine | None:
    """The machine's terms and agent state, its row locked FOR UPDATE as by `get` (bookings of
    one machine take turns), in a statement built once."""
    query = _BOOKABLE if _dialect(session) == "sqlite" else _BOOKABLE_LOCKED
    row = (await session.execute(query, {"machine_id": machine_id})).first()
    return None if row is None else BookableMachine._make(row)


async def owned(
    session: AsyncSession, owner: str, statuses: Sequence[str] | None
) -> list[HostMachine]:
    query = select(HostMachine).where(HostMachine.owner == owner).order_by(HostMachine.id)
    if statuses:
        query = query.where(HostMachine.status.in_(statuses))
    return list((await session.scalars(query)).all())


async def by_token(session: AsyncSession, digest: str) -> HostMachine | None:
    query = select(HostMachine).where(HostMachine.agent_token_digest == digest)
    return (await session.scalars(_lock(query, session, "update"))).one_or_none()


async def by_secret(session: AsyncSession, digest: str) -> HostMachine | None:
    query = select(HostMachine).where(HostMachine.agent_secret_digest == digest)
    return (await session.scalars(_lock(query, session, "update"))).one_or_none()


async def publishable(session: AsyncSession) -> list[HostMachine]:
    """Every machine the market should know about (retired ones drop out)."""
    query = select(HostMachine).where(HostMachine.status != "retired").order_by(HostMachine.id)
    return list((await session.scalars(query)).all())


def _overlapping(start_col: Any, end_col: Any, start: Any, end: Any) -> Any:
    """Rows whose half-open [start_col, end_col) overlaps [start, end)."""
    return and_(start_col < end, end_col > start)


async def blocks(
    session: AsyncSession, machine_id: int, start: datetime, end: datetime
) -> list[MachineBlock]:
    query = (
        select(MachineBlock)
        .where(
            MachineBlock.machine_id == machine_id,
            _overlapping(MachineBlock.start_at, MachineBlock.end_at, start, end),
        )
        .order_by(MachineBlock.start_at)
    )
    return list((await session.scalars(query)).all())


Span = tuple[datetime, datetime]
# Blocked and booked time of one machine overlapping [start, end), in one prepared statement:
# the booking path reads it under the machine's lock, so it is kept cheap.
_START: Any = bindparam("start")
_END: Any = bindparam("end")
_BUSY = union_all(
    select(MachineBlock.start_at, MachineBlock.end_at, literal(True).label("blocked")).where(
        MachineBlock.machine_id == bindparam("machine_id"),
        _overlapping(MachineBlock.start_at, MachineBlock.end_at, _START, _END),
    ),
    select(_bookings.c.start_at, _bookings.c.end_at, literal(False).label("blocked")).where(
        _bookings.c.machine_id == bindparam("machine_id"),
        _bookings.c.state.in_(BLOCKING_STATES),
        _overlapping(_bookings.c.start_at, _bookings.c.end_at, _START, _END),
    ),
)


async def busy(
    session: AsyncSession, machine_id: int, start: datetime, end: datetime
) -> tuple[list[Span], list[Span]]:
    """The machine's (blocked, booked) spans overlapping [start, end)."""
    params = {"machine_id": machine_id, "start": start, "end": end}
    blocked: list[Span] = []
    booked: list[Span] = []
    for span_start, span_end, is_block in await session.execute(_BUSY, params):
        (blocked if is_block else booked).append((span_start, span_end))
    return sorted(blocked), sorted(booked)


async def block(session: AsyncSession, block_id: int) -> MachineBlock | None:
    return await session.get(MachineBlock, block_id)


async def bookings(
    session: AsyncSession,
    machine_ids: Sequence[int],
    start: datetime,
    end: datetime,
    states: Sequence[str] = BLOCKING_STATES,
) -> list[Booking]:
    """Bookings of these machines overlapping [start, end), oldest start first."""
    b = _bookings.c
    query = (
        select(b.id, b.machine_id, b.owner, b.state, b.start_at, b.end_at, b.price_per_hour)
        .where(
            b.machine_id.in_(machine_ids),
            b.state.in_(states),
            _overlapping(b.start_at, b.end_at, start, end),
        )
        .order_by(b.start_at, b.id)
    )
    return [Booking(*row) for row in (await session.execute(query)).all()]


async def upcoming_bookings(
    session: AsyncSession, host: str, now: datetime, limit: int
) -> list[Booking]:
    b = _bookings.c
    query = (
        select(b.id, b.machine_id, b.owner, b.state, b.start_at, b.end_at, b.price_per_hour)
        .where(b.host == host, b.state.in_(BLOCKING_STATES), b.end_at > now)
        .order_by(b.start_at, b.id)
        .limit(limit)
    )
    return [Booking(*row) for row in (await session.execute(query)).all()]


async def add_uptime(session: AsyncSession, machine_id: int, day: date, seconds: float) -> None:
    values = {"machine_id": machine_id, "day": day, "online_seconds": seconds}
    maker = pg_insert if _dialect(session) == "postgresql" else sqlite_insert
    statement = maker(MachineUptime).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["machine_id", "day"],
        set_={"online_seconds": MachineUptime.online_seconds + statement.excluded.online_seconds},
    )
    await session.execute(statement)


async def online_seconds(session: AsyncSession, machine_id: int, since: date) -> float:
    query = select(func.coalesce(func.sum(MachineUptime.online_seconds), 0.0)).where(
        MachineUptime.machine_id == machine_id, MachineUptime.day >= since
    )
    return float((await session.execute(query)).scalar_one())


async def offer_id_of(session: AsyncSession, machine_id: int) -> int | None:
    """The market offer of a machine (published by `service.publish`)."""
    query = select(Offer.id).where(
        Offer.source == "host", Offer.provider == "gp4u", Offer.offer_ref == str(machine_id)
    )
    return (await session.scalars(query)).first()


class MachineMoney(NamedTuple):
    """One machine's money and bookings, micro-USD: captured from renters (`gross`), the
    platform's `fee` on it, still held for bookings not yet run (`pending`, before the fee),
    and how many bookings are still to come or running (`upcoming`)."""

    gross: int
    fee: int
    pending: int
    upcoming: int


async def money_by_machine(
    session: AsyncSession, host: str, now: datetime
) -> dict[int, MachineMoney]:
    """Every machine of the host that has ever been booked, with its MachineMoney."""
    b = _bookings.c
    holding = b.state.in_(BLOCKING_STATES)
    query = (
        select(
            b.machine_id,
            func.coalesce(func.sum(b.captured), 0),
            func.coalesce(func.sum(b.fee), 0),
            func.coalesce(func.sum(case((holding, b.held - b.captured), else_=0)), 0),
            func.coalesce(func.sum(case((and_(holding, b.end_at > now), 1), else_=0)), 0),
        )
        .where(b.host == host, b.machine_id.is_not(None))
        .group_by(b.machine_id)
    )
    rows = (await session.execute(query)).all()
    return {
        int(mid): MachineMoney(int(gross), int(fee), max(0, int(pending)), int(upcoming))
        for mid, gross, fee, pending, upcoming in rows
    }


async def current_blocks(
    session: AsyncSession, machine_id: int, now: datetime
) -> list[MachineBlock]:
    """The machine's blocked periods that have not ended yet, earliest first."""
    query = (
        select(MachineBlock)
        .where(MachineBlock.machine_id == machine_id, MachineBlock.end_at > now)
        .order_by(MachineBlock.start_at, MachineBlock.id)
    )
    return list((await session.scalars(query)).all())


async def earned(session: AsyncSession, host: str) -> tuple[int, int]:
    """(gross paid by renters, platform fee) over every reservation of the host's machines."""
    b = _bookings.c
    query = select(func.coalesce(func.sum(b.captured), 0), func.coalesce(func.sum(b.fee), 0))
    gross, fee = (await session.execute(query.where(b.host == host))).one()
    return int(gross), int(fee)


# --- runs on host machines ---------------------------------------------------------------------

_RUNS = select(MachineRun, HostMachine).join(HostMachine, HostMachine.id == MachineRun.machine_id)


async def run_by_client_token(
    session: AsyncSession, client_token: str
) -> tuple[MachineRun, HostMachine] | None:
    found = await session.execute(_RUNS.where(MachineRun.client_token == client_token))
    row = found.one_or_none()
    return None if row is None else (row[0], row[1])


async def runs_by_id(
    session: AsyncSession, run_ids: Sequence[str], *, lock: bool = False
) -> list[tuple[MachineRun, HostMachine]]:
    query = _RUNS.where(MachineRun.run_id.in_(list(run_ids))).order_by(MachineRun.id)
    if lock and _dialect(session) != "sqlite":
        query = query.with_for_update(of=MachineRun)
    return [(r[0], r[1]) for r in (await session.execute(query)).all()]


async def live_runs(
    session: AsyncSession, label_prefix: str
) -> list[tuple[MachineRun, HostMachine]]:
    """Runs not ended whose label starts with the prefix (one deployment's)."""
    query = _RUNS.where(
        MachineRun.ended_at.is_(None), MachineRun.label.startswith(label_prefix, autoescape=True)
    ).order_by(MachineRun.id)
    return [(r[0], r[1]) for r in (await session.execute(query)).all()]


async def open_runs_of(session: AsyncSession, machine_id: int) -> list[MachineRun]:
    """A machine's runs not ended yet, locked (its heartbeat changes them)."""
    query = (
        select(MachineRun)
        .where(MachineRun.machine_id == machine_id, MachineRun.ended_at.is_(None))
        .order_by(MachineRun.id)
    )
    return list((await session.scalars(_lock(query, session, "update"))).all())

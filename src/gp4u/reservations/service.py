"""Booking time blocks on host machines: quote and hold at booking, refuse overlaps (the
database has the last word), list, cancel and extend. The manager (`manage`) activates, pays
and completes reservations as time passes; see `states` for the money policy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.accounts.principal import Principal
from gp4u.alerts.service import notification_values
from gp4u.audit.service import event_values, record
from gp4u.hosts import repository as hosts_repo
from gp4u.hosts import service as hosts
from gp4u.jobs.context import JobContext
from gp4u.kit.errors import AppError, Conflict, InvalidInput, NotFound
from gp4u.kit.money import format_usd, micros_to_usd
from gp4u.kit.paging import keyset_page
from gp4u.ledger import service as ledger
from gp4u.ledger.repository import money_transaction
from gp4u.offers.models import Offer
from gp4u.provisioning import billing
from gp4u.provisioning.launcher import launchable
from gp4u.provisioning.service import retime_for_reservation
from gp4u.reservations import lifecycle
from gp4u.reservations import repository as repo
from gp4u.reservations.lifecycle import HOLD_MARGIN
from gp4u.reservations.models import Reservation
from gp4u.reservations.states import State
from gp4u.wallet import service as wallet


class BookingConflict(Conflict):
    """The time asked for is taken: another booking, a blocked period, or closed hours."""


@dataclass(frozen=True)
class BookSpec:
    start: datetime
    end: datetime
    machine_id: int | None = None
    offer_id: int | None = None
    startup_command: str | None = None
    ssh_public_key: str | None = None


def _minute(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput("times need a time zone, e.g. 2026-11-27T10:00:00Z", field=field)
    if value.second or value.microsecond:
        raise InvalidInput("reservations start and end on whole minutes", field=field)
    return value.astimezone(UTC)


def _check_span(start: datetime, end: datetime, machine: hosts.Machine, ctx: JobContext) -> int:
    """The booked minutes, once the span is sound for this machine."""
    now = ctx.clock.now()
    if end <= start:
        raise InvalidInput("the end must be after the start", field="end")
    if start < now.replace(second=0, microsecond=0):
        raise InvalidInput(f"the start {start:%Y-%m-%d %H:%M} UTC is in the past", field="start")
    horizon = ctx.settings.reservation_horizon_days
    if start > now + timedelta(days=horizon):
        raise InvalidInput(f"a reservation starts at most {horizon} days ahead", field="start")
    minutes = int((end - start).total_seconds() // 60)
    if minutes < machine.min_minutes:
        raise InvalidInput(
            f"machine {machine.id} is rented for at least {machine.min_minutes / 60:g} h",
            field="end",
        )
    if minutes > ctx.settings.reservation_max_days * 24 * 60:
        raise InvalidInput(
            f"a reservation lasts at most {ctx.settings.reservation_max_days} days", field="end"
        )
    return minutes


async def _machine_for(ctx: JobContext, session: AsyncSession, spec: BookSpec) -> int:
    if (spec.machine_id is None) == (spec.offer_id is None):
        raise InvalidInput("name either machine_id or offer_id", field="machine_id")
    if spec.machine_id is not None:
        return spec.machine_id
    offer = await session.get(Offer, spec.offer_id)
    if offer is None:
        raise NotFound(f"no offer {spec.offer_id}")
    if offer.source != hosts.SOURCE:
        launchable(ctx.providers, offer.source, offer.provider)  # says why it cannot launch
        raise Conflict(
            f"{offer.provider} takes no advance bookings through its API; launch offer "
            f"{offer.id} now instead (POST /api/v1/sessions)"
        )
    return hosts.offer_machine(offer.source, offer.provider, offer.offer_ref)


async def book(
    ctx: JobContext, principal: Principal, spec: BookSpec, idempotency_key: str | None
) -> dict[str, Any]:
    """Hold the quote (price × booked minutes) and record the reservation, in one money
    transaction; refused with a clear reason when the time is not free or not payable."""
    start, end = _minute(spec.start, "start"), _minute(spec.end, "end")
    now = ctx.clock.now()

    async def work(session: AsyncSession) -> dict[str, Any]:
        machine_id = await _machine_for(ctx, session, spec)
        machine, minutes = await _free_time(ctx, session, machine_id, principal.owner, start, end)
        amount = billing.cost_of(machine.price_per_hour, minutes)
        span = _span(start, end)
        charge = await _authorise(
            session,
            principal.owner,
            principal.key_prefix,
            amount,
            f"machine {machine.id} ({machine.name}), {span}",
            end,
            now,
        )
        values = _row(
            principal.owner,
            principal.key_prefix,
            machine,
            State.PENDING,
            start,
            end,
            machine.price_per_hour,
            now,
            charge_ids=[charge],
            held=amount,
            startup_command=spec.startup_command,
            ssh_public_key=spec.ssh_public_key,
        )
        with _refused_overlap(machine.id):
            reservation = SimpleNamespace(id=await repo.insert_new(session, values), **values)
        await _announce_booking(
            session,
            machine,
            reservation.id,
            now,
            actor=principal.user_id,
            message=f"was booked for {span}.",
            held_micros=amount,
        )
        return reservation_view(reservation, now)

    payload = {
        "machine_id": spec.machine_id,
        "offer_id": spec.offer_id,
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
    return await ledger.idempotent(
        ctx.sessions, principal.owner, idempotency_key, "reservation", payload, work, now
    )


async def _free_time(
    ctx: JobContext,
    session: AsyncSession,
    machine_id: int,
    owner: str,
    start: datetime,
    end: datetime,
) -> tuple[hosts.Machine, int]:
    """The machine (locked) and the minutes of [start, end), once `owner` may book that time
    on it; else the error that says why not. Bookings of one machine take turns: the calendar
    check decides, and the database's constraint stays a backstop that never has to wait on
    another booking."""
    machine = await hosts_repo.bookable_locked(session, machine_id)
    if machine is None or machine.status == "retired":
        raise NotFound(f"no machine {machine_id}")
    if machine.owner == owner:
        raise Conflict("you cannot book your own machine; block the time instead")
    minutes = _check_span(start, end, machine, ctx)
    reason = hosts.not_bookable_reason(machine, ctx.clock.now(), ctx.settings)
    if reason is not None:
        raise Conflict(reason)
    clash = await hosts.unavailable(session, machine, start, end)
    if clash is not None:
        raise BookingConflict(f"machine {machine.id} is not free then: {clash.message}")
    return machine, minutes


def _row(
    owner: str,
    key_prefix: str | None,
    machine: hosts.Machine,
    state: State,
    start: datetime,
    end: datetime,
    price_per_hour: int,
    now: datetime,
    **set_: Any,
) -> dict[str, Any]:
    """A new reservation's row (`set_`: the columns that differ from a fresh booking's)."""
    return {
        "owner": owner,
        "key_prefix": key_prefix,
        "machine_id": machine.id,
        "host": machine.owner,
        "state": state.value,
        "start_at": start,
        "end_at": end,
        "price_per_hour": price_per_hour,
        "charge_ids": [],
        "held": 0,
        "captured": 0,
        "fee": 0,
        "captured_until": None,
        "session_id": None,
        "startup_command": None,
        "ssh_public_key": None,
        "end_reason": None,
        "end_detail": None,
        "created_at": now,
        "activated_at": None,
        "ended_at": None,
        "extensions": 0,
        "cluster_id": None,
    } | set_


async def book_for_cluster(
    ctx: JobContext,
    session: AsyncSession,
    machine_id: int,
    owner: str,
    key_prefix: str | None,
    cluster_id: int,
    price_per_hour: int,
    end: datetime,
    now: datetime,
) -> Reservation | str:
    """Book a host machine from now until `end` for a cluster's member planned at
    `price_per_hour`, in the cluster's money transaction, with the checks of any booking: an
    active reservation that only takes the time (the cluster pays, the manager leaves it
    alone). Returns why not when the machine cannot take it (its price rose since the plan,
    too)."""
    start, end = now.replace(second=0, microsecond=0), lifecycle.minute_up(end)
    try:
        machine, _ = await _free_time(ctx, session, machine_id, owner, start, end)
    except AppError as exc:
        return exc.detail
    if machine.price_per_hour > price_per_hour:
        return (
            f"machine {machine_id}'s price rose to {format_usd(machine.price_per_hour)}/h "
            f"(planned at {format_usd(price_per_hour)}/h)"
        )
    values = _row(
        owner,
        key_prefix,
        machine,
        State.ACTIVE,
        start,
        end,
        price_per_hour,
        now,
        activated_at=now,
        cluster_id=cluster_id,
    )
    try:
        async with session.begin_nested():  # a race past the calendar check fails only this
            reservation_id = await repo.insert_new(session, values)
    except IntegrityError:
        return f"machine {machine_id} was booked for that time meanwhile"
    await _announce_booking(
        session,
        machine,
        reservation_id,
        now,
        actor=owner,
        message=f"is running a member of cluster {cluster_id} until {end:%Y-%m-%d %H:%M} UTC "
        "at the latest; you are paid your share of the cluster's host pool by contribution when "
        "the cluster ends.",
        cluster_id=cluster_id,
    )
    return await repo.get(session, reservation_id) or f"reservation {reservation_id} vanished"


async def _announce_booking(
    session: AsyncSession,
    machine: hosts.Machine,
    reservation_id: int,
    now: datetime,
    *,
    actor: str,
    message: str,
    **detail: Any,
) -> None:
    """The booking's audit event and its host's notification ("Machine … <message>"), written
    together (one statement on PostgreSQL)."""
    event = event_values(
        now,
        "reservation_booked",
        actor=actor,
        reservation_id=reservation_id,
        machine_id=machine.id,
        **detail,
    )
    note = notification_values(
        machine.owner,
        kind="machine_booked",
        message=f"Machine {machine.name} ({machine.gpu_count}× {machine.gpu}) {message}",
        payload={"machine_id": machine.id, "reservation_id": reservation_id},
        now=now,
    )
    await repo.insert_event_and_note(session, event, note)


@contextmanager
def _refused_overlap(machine_id: int) -> Iterator[None]:
    """The database refuses an overlap that raced past the calendar check; the conflict then
    rolls the whole transaction back."""
    try:
        yield
    except IntegrityError:
        raise BookingConflict(
            f"machine {machine_id} was booked for an overlapping time a moment ago"
        ) from None


async def _hold(
    session: AsyncSession,
    reservation: Reservation,
    amount: int,
    what: str,
    until: datetime,
    now: datetime,
) -> None:
    """Hold `amount` more for the reservation, within its renter's budgets and balance."""
    charge = await _authorise(
        session,
        reservation.owner,
        reservation.key_prefix,
        amount,
        f"reservation {reservation.id}: {what}",
        until,
        now,
    )
    reservation.charge_ids = [*reservation.charge_ids, charge]
    reservation.held += amount


async def _authorise(
    session: AsyncSession,
    owner: str,
    key_prefix: str | None,
    amount: int,
    description: str,
    until: datetime,
    now: datetime,
) -> int:
    """Hold `amount` on the renter's wallet until a while after `until`; the charge's id."""
    charge = await wallet.authorise_spend(
        session,
        owner,
        key_prefix,
        amount,
        "reservation",
        description,
        until - now + HOLD_MARGIN,
        now,
    )
    return int(charge["id"])


def _span(start: datetime, end: datetime) -> str:
    return f"{start:%Y-%m-%d %H:%M}-{end:%Y-%m-%d %H:%M} UTC"


# --- reading -----------------------------------------------------------------------------------


async def owned(
    session: AsyncSession, principal: Principal, reservation_id: int, *, lock: bool = False
) -> Reservation:
    reservation = await repo.get(session, reservation_id, lock=lock)
    if reservation is None or reservation.owner != principal.owner:
        raise NotFound(f"no reservation {reservation_id}")
    return reservation


async def get(
    session: AsyncSession, principal: Principal, reservation_id: int, now: datetime
) -> dict[str, Any]:
    return reservation_view(await owned(session, principal, reservation_id), now)


async def list_mine(
    session: AsyncSession,
    principal: Principal,
    states: list[str] | None,
    since: datetime | None,
    until: datetime | None,
    before: int | None,
    limit: int,
    now: datetime,
) -> dict[str, Any]:
    rows = await repo.owned(session, principal.owner, states, since, until, before, limit + 1)
    page, next_before = keyset_page(rows, limit, lambda row: row.id)
    return {"items": [reservation_view(r, now) for r in page], "next_before": next_before}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def reservation_view(reservation: Reservation | SimpleNamespace, now: datetime) -> dict[str, Any]:
    """JSON-ready (idempotent replays store it verbatim). A new booking passes its values, not
    an ORM instance, whose instrumentation costs the booking path CPU."""
    minutes = int((reservation.end_at - reservation.start_at).total_seconds() // 60)
    return {
        "id": reservation.id,
        "machine_id": reservation.machine_id,
        "state": reservation.state,
        "start": reservation.start_at.isoformat(),
        "end": reservation.end_at.isoformat(),
        "hours": round(minutes / 60, 4),
        "price_per_hour": micros_to_usd(reservation.price_per_hour),
        "quote": micros_to_usd(billing.cost_of(reservation.price_per_hour, minutes)),
        "held": micros_to_usd(reservation.held - reservation.captured)
        if reservation.state in (State.PENDING, State.ACTIVE)
        else 0.0,
        "paid": micros_to_usd(reservation.captured),
        "session_id": reservation.session_id,
        "end_reason": reservation.end_reason,
        "end_detail": reservation.end_detail,
        "extensions": reservation.extensions,
        "cluster_id": reservation.cluster_id,
        "created_at": reservation.created_at.isoformat(),
        "activated_at": _iso(reservation.activated_at),
        "ended_at": _iso(reservation.ended_at),
        "starts_in_seconds": max(0, int((reservation.start_at - now).total_seconds())),
    }


# --- changing ------------------------------------------------------------------------------------


def _not_a_clusters(reservation: Reservation, instead: str) -> None:
    if reservation.cluster_id is not None:
        raise Conflict(
            f"reservation {reservation.id} is cluster {reservation.cluster_id}'s time on the "
            f"machine, which the cluster manages: {instead}"
        )


async def cancel(ctx: JobContext, principal: Principal, reservation_id: int) -> dict[str, Any]:
    """Before the start: everything back. After it: pay for the minutes started so far, the
    rest back, and the session ends (see `states` for the policy)."""
    now = ctx.clock.now()
    async with money_transaction(ctx.sessions) as session:
        reservation = await owned(session, principal, reservation_id, lock=True)
        _not_a_clusters(reservation, "stop the cluster")
        if reservation.state not in (State.PENDING, State.ACTIVE):
            raise Conflict(f"reservation {reservation.id} is already {reservation.state}")
        started = reservation.state == State.ACTIVE
        await lifecycle.close(
            session,
            ctx,
            reservation,
            State.CANCELLED,
            "cancelled",
            paid_until=now if started else None,
            detail="cancelled by you" + ("" if started else " before its start"),
            actor=principal.user_id,
        )
        return reservation_view(reservation, now)


async def extend(
    ctx: JobContext, principal: Principal, reservation_id: int, new_end: datetime
) -> dict[str, Any]:
    """Move the end later when the following time is free, holding the difference (at the
    booked price)."""
    end = _minute(new_end, "end")
    now = ctx.clock.now()
    async with money_transaction(ctx.sessions) as session:
        reservation = await owned(session, principal, reservation_id, lock=True)
        _not_a_clusters(reservation, "the cluster re-plans when more is needed")
        if reservation.state not in (State.PENDING, State.ACTIVE):
            raise Conflict(f"reservation {reservation.id} is {reservation.state}")
        if end <= reservation.end_at:
            raise InvalidInput(
                f"the new end must be after the current end, {reservation.end_at:%Y-%m-%d %H:%M}"
                " UTC",
                field="end",
            )
        machine = await hosts_repo.get(session, reservation.machine_id, lock="update")
        assert machine is not None
        old = int((reservation.end_at - reservation.start_at).total_seconds() // 60)
        total = int((end - reservation.start_at).total_seconds() // 60)
        if total > ctx.settings.reservation_max_days * 24 * 60:
            raise InvalidInput(
                f"a reservation lasts at most {ctx.settings.reservation_max_days} days",
                field="end",
            )
        if machine.status != "listed":
            raise Conflict(f"machine {machine.id} is {machine.status} by its owner")
        clash = await hosts.unavailable(session, machine, reservation.end_at, end)
        if clash is not None:
            raise BookingConflict(f"machine {machine.id} is not free then: {clash.message}")
        price = reservation.price_per_hour
        extra = billing.cost_of(price, total) - billing.cost_of(price, old)
        await _hold(session, reservation, extra, f"extension to {end:%Y-%m-%d %H:%M}", end, now)
        reservation.end_at = end
        reservation.extensions += 1
        with _refused_overlap(machine.id):
            await session.flush()
        if reservation.session_id is not None:
            await retime_for_reservation(session, ctx.settings, reservation.session_id, end, now)
        await record(
            session,
            now,
            "reservation_extended",
            actor=principal.user_id,
            reservation_id=reservation.id,
            end=end.isoformat(),
            held_micros=extra,
        )
        return reservation_view(reservation, now)

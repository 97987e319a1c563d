"""The reservation manager: activates reservations at their start (a session on the booked
machine), pays hosts for elapsed time as it runs, completes them at their end, and fails them
when the machine or its session lets the renter down. Also the money steps that cancellation
and completion share, and the end and payment of the time a cluster booked on host machines
for its members (`service.book_for_cluster`; the manager leaves those alone). The policy is in
`states`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.alerts.service import notify
from gp4u.audit.service import record
from gp4u.hosts import repository as hosts_repo
from gp4u.hosts import service as hosts
from gp4u.jobs import outbox
from gp4u.jobs.context import JobContext
from gp4u.kit.money import format_usd
from gp4u.ledger.repository import money_transaction
from gp4u.provisioning import billing
from gp4u.provisioning import repository as sessions_repo
from gp4u.provisioning.lifecycle import DESTROY_JOB, end_session
from gp4u.provisioning.models import GpuSession
from gp4u.provisioning.service import (
    LaunchSpec,
    ReservedMachine,
    open_for_reservation,
)
from gp4u.provisioning.states import FINAL as SESSION_FINAL
from gp4u.provisioning.states import EndReason
from gp4u.provisioning.states import State as SessionState
from gp4u.reservations import repository as repo
from gp4u.reservations.models import Reservation
from gp4u.reservations.states import FINAL, State, check_move, fee_due
from gp4u.wallet import service as wallet

HOLD_MARGIN = timedelta(days=1)  # a reservation's holds outlive its end by this much
# Session endings that are the renter's doing; any other ending before the reservation's end is
# the machine failing the renter.
RENTER_ENDINGS = frozenset({EndReason.USER.value, EndReason.AGENT_DONE.value})


# --- money ---------------------------------------------------------------------------------------


async def pay_until(
    session: AsyncSession, reservation: Reservation, until: datetime, fee_bps: int, now: datetime
) -> int:
    """Pay the host for the booked time up to `until` (minutes started since the start, never
    past the end) from the reservation's holds in order; what is not yet due stays held.
    Returns the amount paid now."""
    stop = min(max(until, reservation.start_at), reservation.end_at)
    minutes = billing.billable_minutes(reservation.start_at, stop)
    due = min(billing.cost_of(reservation.price_per_hour, minutes), reservation.held)
    left = due - reservation.captured
    if left <= 0:
        return 0

    remaining, paid = await wallet.capture_in_order(
        session,
        reservation.owner,
        reservation.charge_ids,
        left,
        now,
        ttl=reservation.end_at - now + HOLD_MARGIN,
        host=reservation.host,
        fee_on=_fees(reservation, fee_bps),
    )
    reservation.charge_ids = remaining
    reservation.captured_until = stop
    return paid


def _fees(reservation: Reservation, fee_bps: int) -> Callable[[int], int]:
    """The platform fee on each part paid to the host, kept as a running total on the
    reservation: the fee on everything paid so far, less the fees already taken."""

    def fee_on(part: int) -> int:
        fee = fee_due(reservation.captured + part, reservation.fee, fee_bps)
        reservation.captured += part
        reservation.fee += fee
        return fee

    return fee_on


async def release_rest(session: AsyncSession, reservation: Reservation, now: datetime) -> int:
    """Give back everything still held for the reservation; returns the amount."""
    returned = await wallet.release_open(session, reservation.owner, reservation.charge_ids, now)
    reservation.charge_ids = []
    return returned


async def close(
    session: AsyncSession,
    ctx: JobContext,
    reservation: Reservation,
    target: State,
    reason: str,
    *,
    paid_until: datetime | None,
    detail: str | None = None,
    actor: str = "system",
) -> None:
    """End a reservation: pay the host up to `paid_until` (None: nothing more), release the
    rest, end its session if it still runs, and tell the renter."""
    now = ctx.clock.now()
    check_move(reservation.state, target)
    if paid_until is not None:
        await pay_until(session, reservation, paid_until, ctx.settings.platform_fee_bps, now)
    returned = await release_rest(session, reservation, now)
    gs = await _session_of(session, reservation)
    if gs is not None and await end_session(
        session,
        gs,
        EndReason.EXPIRED if target == State.COMPLETED else EndReason.USER,
        now,
        fee_basis_points=ctx.settings.platform_fee_bps,
        actor=actor,
        detail=f"reservation {reservation.id} {target.value}",
    ):
        await outbox.enqueue(session, DESTROY_JOB, now, {"session_id": gs.id})
    reservation.state = target.value
    reservation.end_reason, reservation.end_detail, reservation.ended_at = reason, detail, now
    await record(
        session,
        now,
        f"reservation_{target.value}",
        actor=actor,
        session_id=reservation.session_id,
        reservation_id=reservation.id,
        reason=reason,
        paid_micros=reservation.captured,
        returned_micros=returned,
    )
    await notify(
        session,
        reservation.owner,
        kind=f"reservation_{target.value}",
        message=f"Reservation {reservation.id} {target.value}"
        + (f": {detail}" if detail else "")
        + f". Paid {format_usd(reservation.captured)}, {format_usd(returned)} returned.",
        payload={"reservation_id": reservation.id, "reason": reason},
        now=now,
    )


async def _session_of(session: AsyncSession, reservation: Reservation) -> GpuSession | None:
    if reservation.session_id is None:
        return None
    return await sessions_repo.get(session, reservation.session_id, lock=True)


# --- the manager ---------------------------------------------------------------------------------


async def manage(ctx: JobContext, box_key: bytes) -> dict[str, int]:
    """One pass over reservations that need something (each in its own money transaction)."""
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        ids = await repo.due(session, now)
    counts: Counter[str] = Counter()
    for reservation_id in ids:
        async with money_transaction(ctx.sessions) as session:
            reservation = await repo.get(session, reservation_id, lock=True)
            if reservation is None:
                continue
            if reservation.state == State.PENDING:
                counts[await _activate(ctx, session, reservation, box_key)] += 1
            elif reservation.state == State.ACTIVE:
                counts[await _run(ctx, session, reservation)] += 1
    return dict(counts)


async def _activate(
    ctx: JobContext, session: AsyncSession, reservation: Reservation, box_key: bytes
) -> str:
    now = ctx.clock.now()
    if reservation.start_at > now:
        return "waiting"
    machine = await hosts_repo.get(session, reservation.machine_id, lock="share")
    if machine is None:
        return "missing"
    if reservation.end_at <= now:
        await close(
            session,
            ctx,
            reservation,
            State.FAILED,
            "not_started",
            paid_until=None,
            detail="it could not be started before its end; everything is refunded",
        )
        return "failed"
    reason = hosts.not_bookable_reason(machine, now, ctx.settings)
    if reason is not None:
        await close(
            session,
            ctx,
            reservation,
            State.FAILED,
            "machine_unavailable",
            paid_until=None,
            detail=f"{reason}; everything is refunded",
        )
        await hosts.record_rental(session, machine.id, completed=False, now=now)
        return "failed"
    if not await _still_held(session, reservation):
        await close(
            session,
            ctx,
            reservation,
            State.FAILED,
            "unpaid",
            paid_until=None,
            detail="its payment hold is no longer there",
        )
        return "failed"
    offer_id = await hosts_repo.offer_id_of(session, machine.id)
    if offer_id is None:
        await hosts.publish(session, ctx.settings, now)
        offer_id = await hosts_repo.offer_id_of(session, machine.id)
    gs = await open_for_reservation(
        session,
        ctx.settings,
        reservation.owner,
        reservation.key_prefix,
        ReservedMachine(
            reservation_id=reservation.id,
            offer_id=offer_id or 0,
            machine_id=machine.id,
            provider=ctx.settings.host_sessions_provider,
            gpu=machine.gpu,
            gpu_count=machine.gpu_count,
            region=machine.region,
        ),
        reservation.end_at,
        LaunchSpec(
            offer_id=offer_id or 0,
            hours=0,
            startup_command=reservation.startup_command,
            ssh_public_key=reservation.ssh_public_key,
        ),
        box_key,
        now,
    )
    check_move(reservation.state, State.ACTIVE)
    reservation.state = State.ACTIVE.value
    reservation.activated_at, reservation.session_id = now, gs.id
    reservation.captured_until = reservation.start_at
    await record(
        session, now, "reservation_active", session_id=gs.id, reservation_id=reservation.id
    )
    await notify(
        session,
        reservation.owner,
        kind="reservation_active",
        message=f"Reservation {reservation.id} has started: session {gs.id} is starting on "
        f"machine {machine.name}.",
        payload={"reservation_id": reservation.id, "session_id": gs.id},
        now=now,
    )
    return "activated"


async def _still_held(session: AsyncSession, reservation: Reservation) -> bool:
    for charge_id in reservation.charge_ids:
        if not await wallet.is_open(session, charge_id):
            return False
    return bool(reservation.charge_ids)


async def _run(ctx: JobContext, session: AsyncSession, reservation: Reservation) -> str:
    now = ctx.clock.now()
    gs = await _session_of(session, reservation)
    ran = gs is not None and gs.running_at is not None
    if now >= reservation.end_at:
        if not ran:
            await _host_failed(ctx, session, reservation, gs, "its session never started")
            return "failed"
        await close(
            session, ctx, reservation, State.COMPLETED, "ended", paid_until=reservation.end_at
        )
        await hosts.record_rental(session, reservation.machine_id, completed=True, now=now)
        return "completed"
    if gs is not None and (
        gs.state == SessionState.ENDING or SessionState(gs.state) in SESSION_FINAL
    ):
        if gs.end_reason in RENTER_ENDINGS and ran:
            stop = gs.billing_end or gs.ending_at or now
            await close(
                session,
                ctx,
                reservation,
                State.COMPLETED,
                "ended_early",
                paid_until=stop,
                detail=f"its session ended ({gs.end_reason})",
            )
            await hosts.record_rental(session, reservation.machine_id, completed=True, now=now)
            return "completed"
        said = f": {gs.end_detail}" if gs.end_detail else ""
        await _host_failed(
            ctx, session, reservation, gs, f"its session ended ({gs.end_reason}{said})"
        )
        return "failed"
    due = reservation.captured_until or reservation.start_at
    every = timedelta(minutes=ctx.settings.reservation_capture_minutes)
    if ran and now - due >= every:
        await pay_until(session, reservation, now, ctx.settings.platform_fee_bps, now)
        return "paid"
    return "running"


async def _host_failed(
    ctx: JobContext,
    session: AsyncSession,
    reservation: Reservation,
    gs: GpuSession | None,
    why: str,
) -> None:
    """The machine let the renter down: they pay only for time it really ran (up to its last
    sign of life), the rest is refunded, and the machine's record counts a failed rental."""
    stop = gs.billing_end or gs.last_seen_at if gs is not None and gs.running_at else None
    await close(
        session, ctx, reservation, State.FAILED, "machine_failed", paid_until=stop, detail=why
    )
    await hosts.record_rental(session, reservation.machine_id, completed=False, now=ctx.clock.now())


# --- a cluster's time on host machines -----------------------------------------------------------


def minute_up(value: datetime) -> datetime:
    floor = value.replace(second=0, microsecond=0)
    return floor if floor == value else floor + timedelta(minutes=1)


async def end_for_cluster(
    session: AsyncSession,
    reservation_id: int,
    *,
    ran: bool,
    lost: bool,
    detail: str,
    now: datetime,
) -> None:
    """A cluster member's time on a host machine is over: the rest of the booked time is free
    again. The machine's record counts a failed rental when the member was lost, a completed
    one when it ran; a member ended before it ran cancels the time and counts nothing."""
    reservation = await repo.get(session, reservation_id, lock=True)
    if reservation is None or reservation.cluster_id is None or reservation.state in FINAL:
        return
    target = State.FAILED if lost else State.COMPLETED if ran else State.CANCELLED
    check_move(reservation.state, target)
    reservation.state = target.value
    reservation.end_reason = {
        State.FAILED: "machine_failed",
        State.COMPLETED: "cluster_member_ended",
        State.CANCELLED: "cancelled",
    }[target]
    reservation.end_detail, reservation.ended_at = detail, now
    ended = minute_up(now)
    if reservation.start_at < ended < reservation.end_at:
        reservation.end_at = ended
    if lost or ran:
        await hosts.record_rental(session, reservation.machine_id, completed=not lost, now=now)


async def pay_host_for_cluster(
    session: AsyncSession,
    reservation_id: int,
    charge_ids: Sequence[int],
    amount: int,
    fee_bps: int,
    now: datetime,
    ttl: timedelta,
) -> tuple[list[int], int]:
    """Pay a host-owned member's owner `amount` from its cluster's holds (`charge_ids`, oldest
    first), less the platform fee, recorded on the member's reservation as for any booking.
    Returns the charges still holding money and the fee taken."""
    reservation = await repo.get(session, reservation_id, lock=True)
    if reservation is None or reservation.cluster_id is None:
        raise ValueError(f"reservation {reservation_id} is not a cluster's")
    fee_before = reservation.fee
    remaining, paid = await wallet.capture_in_order(
        session,
        reservation.owner,
        charge_ids,
        amount,
        now,
        ttl=ttl,
        host=reservation.host,
        fee_on=_fees(reservation, fee_bps),
    )
    if paid != amount:
        raise ValueError(f"cluster {reservation.cluster_id}'s holds do not cover {amount}")
    return remaining, reservation.fee - fee_before

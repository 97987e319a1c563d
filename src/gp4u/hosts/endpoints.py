"""Hosts API: list and manage your machines (host role), their blocked time, the host
dashboard and payouts; anyone's view of a machine's free slots and calendar; and the host
agent's check-in and heartbeats (authenticated by the machine's token, then its secret)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Query

from gp4u.accounts.deps import HostUser, OptionalUser
from gp4u.hosts import service
from gp4u.hosts.schemas import (
    AgentTokenOut,
    AvailabilityOut,
    BlockIn,
    BlockOut,
    BlocksOut,
    CalendarOut,
    DashboardOut,
    HostAgentBeatIn,
    HostAgentBeatOut,
    HostAgentRegisteredOut,
    HostAgentRegisterIn,
    MachineChangeIn,
    MachineCreatedOut,
    MachineIn,
    MachineOut,
    MachinesOut,
    PayoutIn,
)
from gp4u.kit.money import usd_to_micros
from gp4u.wallet import service as wallet
from gp4u.wallet.endpoints import IdempotencyKey, MoneySessions, Rails
from gp4u.wallet.schemas import PaymentOut
from gp4u.web.deps import AgentAuth, ClockDep, ObjectId, SessionDep, SettingsDep, bearer_secret
from gp4u.web.errors import AUTH_RESPONSES, ERROR_RESPONSES, ErrorOut
from gp4u.web.responses import FastJSON

router = APIRouter(
    prefix="/api/v1/machines", tags=["hosts"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)
host_router = APIRouter(
    prefix="/api/v1/host", tags=["hosts"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)
agent_router = APIRouter(
    prefix="/api/v1/hosts/agent", tags=["node agent"], responses=ERROR_RESPONSES
)
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "Booked time, or a retired machine."}
}


def _terms(body: MachineIn | MachineChangeIn) -> dict[str, Any]:
    stated = body.model_dump(exclude_unset=True, exclude={"status"})
    if "price_per_hour" in stated:
        stated["price_per_hour"] = usd_to_micros(stated["price_per_hour"])
    if "windows" in stated:
        stated["windows"] = [dict(w) for w in stated["windows"] or []]
    return stated


@router.post(
    "",
    status_code=201,
    response_model=MachineCreatedOut,
    summary="List a machine on the marketplace",
    description="The answer carries a one-time agent token: run `gp4u agent host --token …` on "
    "the machine. It becomes bookable when the agent checks in and sees the listed GPUs.",
)
async def register(
    body: MachineIn, user: HostUser, session: SessionDep, clock: ClockDep
) -> FastJSON:
    spec = service.MachineSpec(**_terms(body))
    return FastJSON(await service.register(session, user, spec, clock.now()), status_code=201)


@router.get("", response_model=MachinesOut, summary="Your machines")
async def machines(
    user: HostUser,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    status: list[str] | None = Query(None, description="Only these: listed, paused, retired."),
) -> FastJSON:
    return FastJSON(await service.list_mine(session, user, status, settings, clock.now()))


@router.get("/{machine_id}", response_model=MachineOut, summary="One of your machines")
async def machine(
    machine_id: ObjectId,
    user: HostUser,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> FastJSON:
    return FastJSON(await service.get_mine(session, user, machine_id, settings, clock.now()))


@router.patch(
    "/{machine_id}",
    response_model=MachineOut,
    responses=CONFLICT,
    summary="Change a machine's terms, hours or status",
    description="New terms apply to new bookings. Retiring is refused while bookings are "
    "upcoming; pause the machine to take no new ones.",
)
async def change(
    machine_id: ObjectId,
    body: MachineChangeIn,
    user: HostUser,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> FastJSON:
    changes = _terms(body)
    if body.status is not None:
        changes["status"] = body.status
    view = await service.update(session, user, machine_id, changes, settings, clock.now())
    return FastJSON(view)


@router.post(
    "/{machine_id}/agent-token",
    response_model=AgentTokenOut,
    summary="A new one-time agent token (the current agent is signed out)",
)
async def agent_token(
    machine_id: ObjectId, user: HostUser, session: SessionDep, clock: ClockDep
) -> FastJSON:
    return FastJSON(await service.new_agent_token(session, user, machine_id, clock.now()))


@router.post(
    "/{machine_id}/blocks",
    status_code=201,
    response_model=BlockOut,
    responses=CONFLICT,
    summary="Block a period (no bookings then)",
)
async def add_block(
    machine_id: ObjectId, body: BlockIn, user: HostUser, session: SessionDep, clock: ClockDep
) -> FastJSON:
    view = await service.add_block(
        session, user, machine_id, body.start, body.end, body.reason, clock.now()
    )
    return FastJSON(view, status_code=201)


@router.get(
    "/{machine_id}/blocks",
    response_model=BlocksOut,
    summary="Your machine's blocked periods that have not ended",
)
async def blocks(
    machine_id: ObjectId, user: HostUser, session: SessionDep, clock: ClockDep
) -> FastJSON:
    return FastJSON(await service.blocks_of(session, user, machine_id, clock.now()))


@router.delete("/{machine_id}/blocks/{block_id}", status_code=204, summary="Unblock a period")
async def remove_block(
    machine_id: ObjectId, block_id: ObjectId, user: HostUser, session: SessionDep
) -> None:
    await service.remove_block(session, user, machine_id, block_id)


@router.get(
    "/{machine_id}/availability",
    response_model=AvailabilityOut,
    summary="Free slots of a machine",
    description="Free time in [from, to) (at most 62 days, never before now), shrunk to whole "
    "`granularity` steps, and whether the machine can be booked at all right now.",
)
async def availability(
    machine_id: ObjectId,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    from_: datetime = Query(alias="from", description="Start (ISO 8601 with a zone)."),
    to: datetime = Query(description="End (ISO 8601 with a zone)."),
    granularity: int = Query(60, ge=1, le=1440, description="Slot size in minutes."),
) -> FastJSON:
    view = await service.availability(
        session, machine_id, from_, to, granularity, settings, clock.now()
    )
    return FastJSON(view)


@router.get(
    "/{machine_id}/calendar",
    response_model=CalendarOut,
    summary="A machine's calendar, day by day",
    description="Free, booked, blocked and closed time for each day. Reservation ids are shown "
    "only to the machine's owner and to the renter of that reservation.",
)
async def calendar(
    machine_id: ObjectId,
    session: SessionDep,
    user: OptionalUser,
    start: date = Query(description="First day (YYYY-MM-DD, in `tz`)."),
    days: int = Query(7, ge=1, le=62),
    tz: str = Query("UTC", max_length=64, description="Time zone of the days."),
) -> FastJSON:
    return FastJSON(await service.calendar(session, user, machine_id, start, days, tz))


# --- the host dashboard ------------------------------------------------------------------------


@host_router.get("/dashboard", response_model=DashboardOut, summary="Your machines and earnings")
async def dashboard(
    user: HostUser, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> FastJSON:
    return FastJSON(await service.dashboard(session, user, settings, clock.now()))


@host_router.post(
    "/payouts",
    status_code=201,
    response_model=PaymentOut,
    responses={402: {"model": ErrorOut, "description": "More than your earnings."}},
    summary="Pay your earnings out to your account",
    description="Moves earnings to your account through a payment rail (Idempotency-Key makes "
    "it safe to retry). A failed payout leaves the money in your wallet.",
)
async def payout(
    body: PayoutIn,
    user: HostUser,
    clock: ClockDep,
    sessions: MoneySessions,
    rails: Rails,
    idempotency_key: IdempotencyKey = None,
) -> FastJSON:
    done = await wallet.request_payment(
        sessions,
        rails,
        user.owner,
        "payout",
        usd_to_micros(body.amount),
        body.rail,
        body.destination,
        idempotency_key,
        clock.now(),
    )
    return FastJSON(done, status_code=201)


# --- the host agent ------------------------------------------------------------------------------


@agent_router.post(
    "/register", response_model=HostAgentRegisteredOut, summary="A host agent checks in (once)"
)
async def agent_register(
    body: HostAgentRegisterIn, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> FastJSON:
    view = await service.agent_register(session, body.token, body.facts, settings, clock.now())
    return FastJSON(view)


@agent_router.post("/heartbeat", response_model=HostAgentBeatOut, summary="A host is online")
async def agent_heartbeat(
    body: HostAgentBeatIn,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    authorization: AgentAuth = None,
) -> FastJSON:
    reports = None if body.runs is None else [r.model_dump() for r in body.runs]
    view = await service.agent_heartbeat(
        session, bearer_secret(authorization), body.facts, reports, settings, clock.now()
    )
    return FastJSON(view)

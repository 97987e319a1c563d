"""Reservations API: book a machine's time, list and read your reservations, cancel, extend.
Everything is the caller's own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request

from gp4u.accounts.deps import Reader, Trader
from gp4u.db.base import MAX_ID
from gp4u.provisioning.endpoints import Machinery
from gp4u.reservations import service
from gp4u.reservations.schemas import (
    BookIn,
    ExtendIn,
    ReservationOut,
    ReservationsOut,
    ReservationState,
)
from gp4u.wallet.endpoints import IdempotencyKey
from gp4u.web.deps import ClockDep, ObjectId, SessionDep, kick_runner
from gp4u.web.errors import AUTH_RESPONSES, ERROR_RESPONSES, ErrorOut
from gp4u.web.responses import FastJSON

router = APIRouter(
    prefix="/api/v1/reservations",
    tags=["reservations"],
    responses={**ERROR_RESPONSES, **AUTH_RESPONSES},
)
BOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    402: {"model": ErrorOut, "description": "Insufficient funds or budget for the quote."},
    409: {
        "model": ErrorOut,
        "description": "The time is taken (BookingConflict: another booking, a blocked period, "
        "closed hours), or the machine cannot be booked now (offline, paused).",
    },
}
MAX_PAGE = 200


@router.post(
    "",
    status_code=201,
    response_model=ReservationOut,
    responses=BOOK_RESPONSES,
    summary="Book a machine for [start, end)",
    description="Holds the quote (price × booked minutes) on your wallet. At the start a "
    "session runs on the machine and the host is paid for elapsed time as it runs; at the end "
    "the rest is released. Cancel before the start for a full refund; after it you pay for the "
    "minutes started. Send an Idempotency-Key to retry safely.",
)
async def book(
    body: BookIn,
    user: Trader,
    ctx: Machinery,
    idempotency_key: IdempotencyKey = None,
) -> FastJSON:
    spec = service.BookSpec(
        start=body.start,
        end=body.end,
        machine_id=body.machine_id,
        offer_id=body.offer_id,
        startup_command=body.startup_command,
        ssh_public_key=body.ssh_public_key,
    )
    return FastJSON(await service.book(ctx, user, spec, idempotency_key), status_code=201)


@router.get("", response_model=ReservationsOut, summary="Your reservations, newest first")
async def reservations(
    user: Reader,
    session: SessionDep,
    clock: ClockDep,
    state: list[ReservationState] | None = Query(None, description="Only these states."),
    since: datetime | None = Query(None, description="Only those ending after this time."),
    until: datetime | None = Query(None, description="Only those starting before this time."),
    before: int | None = Query(None, ge=1, le=MAX_ID, description="Continue below this id."),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
) -> FastJSON:
    page = await service.list_mine(
        session, user, list(state or []), since, until, before, limit, clock.now()
    )
    return FastJSON(page)


@router.get("/{reservation_id}", response_model=ReservationOut, summary="One of your reservations")
async def get_reservation(
    reservation_id: ObjectId, user: Reader, session: SessionDep, clock: ClockDep
) -> FastJSON:
    return FastJSON(await service.get(session, user, reservation_id, clock.now()))


@router.post(
    "/{reservation_id}/cancel",
    response_model=ReservationOut,
    summary="Cancel: full refund before the start, the unused time after it",
)
async def cancel(
    reservation_id: ObjectId, user: Trader, ctx: Machinery, request: Request
) -> FastJSON:
    view = await service.cancel(ctx, user, reservation_id)
    kick_runner(request)
    return FastJSON(view)


@router.post(
    "/{reservation_id}/extend",
    response_model=ReservationOut,
    responses=BOOK_RESPONSES,
    summary="Move the end later, if that time is free (the difference is held)",
)
async def extend(
    reservation_id: ObjectId, body: ExtendIn, user: Trader, ctx: Machinery
) -> FastJSON:
    return FastJSON(await service.extend(ctx, user, reservation_id, body.end))

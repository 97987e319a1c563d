"""Alerts API: watches, the notification feed, the live stream (Server-Sent Events) and the
webhook delivery log. Every object belongs to the user who made it; another user's is 404."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from gp4u.accounts.deps import Reader, Trader
from gp4u.alerts import service
from gp4u.alerts.schemas import (
    DeliveriesOut,
    MarkedReadOut,
    NotificationOut,
    NotificationsOut,
    UnreadOut,
    WatchCreated,
    WatchesOut,
    WatchIn,
    WatchOut,
)
from gp4u.db.base import MAX_ID
from gp4u.web.deps import ClockDep, ObjectId, SessionDep, SettingsDep
from gp4u.web.errors import AUTH_RESPONSES, ERROR_RESPONSES
from gp4u.web.responses import FastJSON

router = APIRouter(
    prefix="/api/v1/alerts", tags=["alerts"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)
POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0


@router.post(
    "",
    status_code=201,
    response_model=WatchCreated,
    responses=ERROR_RESPONSES,
    summary="Watch a query for a price at or below a threshold",
)
async def create_watch(
    body: WatchIn, user: Trader, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> FastJSON:
    created = await service.create_watch(
        session,
        user.owner,
        name=body.name,
        query=body.query,
        max_price_per_gpu_hour=body.max_price_per_gpu_hour,
        webhook_url=body.webhook_url,
        now=clock.now(),
        public_webhooks_only=settings.auth == "accounts",
    )
    return FastJSON(created, status_code=201)


@router.get("", response_model=WatchesOut, summary="Your watches")
async def list_watches(user: Reader, session: SessionDep) -> FastJSON:
    return FastJSON({"items": await service.list_watches(session, user.owner)})


@router.get(
    "/notifications", response_model=NotificationsOut, summary="The alert feed, newest first"
)
async def notifications(
    user: Reader,
    session: SessionDep,
    after: int = Query(0, ge=0, le=MAX_ID, description="Only notifications with a larger id."),
    unread: bool = Query(False),
    limit: int = Query(50, ge=1, le=500),
) -> FastJSON:
    items = await service.notifications(
        session, user.owner, after=after, unread=unread, limit=limit
    )
    return FastJSON({"items": items})


@router.get(
    "/notifications/unread",
    response_model=UnreadOut,
    summary="How many of your notifications are unread",
)
async def unread(user: Reader, session: SessionDep) -> FastJSON:
    return FastJSON({"unread": await service.unread_count(session, user.owner)})


@router.post(
    "/notifications/read",
    response_model=MarkedReadOut,
    summary="Mark every notification read",
)
async def mark_all_read(user: Reader, session: SessionDep) -> FastJSON:
    return FastJSON({"marked": await service.mark_all_read(session, user.owner)})


@router.post(
    "/notifications/{note_id}/read",
    response_model=NotificationOut,
    responses=ERROR_RESPONSES,
    summary="Mark a notification read",
)
async def mark_read(note_id: ObjectId, user: Reader, session: SessionDep) -> FastJSON:
    return FastJSON(await service.mark_read(session, user.owner, note_id))


@router.get(
    "/stream",
    summary="Live alerts as Server-Sent Events",
    description="`event: notification` with the notification as JSON `data`, `id` its id (send "
    "`Last-Event-ID` to resume). A comment line every 15 s keeps proxies from closing it. "
    "`max_events` ends the stream after that many (for scripts).",
    response_class=StreamingResponse,
)
async def stream(
    request: Request,
    user: Reader,
    session: SessionDep,
    last_event_id: int | None = Header(None),
    max_events: int | None = Query(None, ge=1),
) -> StreamingResponse:
    sessions, owner = request.app.state.sessions, user.owner
    if last_event_id is None:
        last_event_id = await service.last_notification_id(session, owner)
    await session.commit()  # the stream polls with its own sessions: hold no transaction open

    async def events() -> AsyncIterator[bytes]:
        after, sent, quiet = last_event_id or 0, 0, 0.0
        while not await request.is_disconnected():
            async with sessions() as session:
                batch = await service.new_notifications(session, owner, after)
            for note in batch:
                after = note["id"]
                sent += 1
                yield b"id: %d\nevent: notification\ndata: %s\n\n" % (after, orjson.dumps(note))
                if max_events is not None and sent >= max_events:
                    return
            quiet = 0.0 if batch else quiet + POLL_SECONDS
            if quiet >= HEARTBEAT_SECONDS:
                quiet = 0.0
                yield b": keep-alive\n\n"
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


@router.get("/{watch_id}", response_model=WatchOut, responses=ERROR_RESPONSES, summary="One watch")
async def get_watch(watch_id: ObjectId, user: Reader, session: SessionDep) -> FastJSON:
    return FastJSON(await service.get_watch(session, user.owner, watch_id))


@router.delete("/{watch_id}", status_code=204, responses=ERROR_RESPONSES, summary="Delete a watch")
async def delete_watch(watch_id: ObjectId, user: Trader, session: SessionDep) -> Response:
    await service.delete_watch(session, user.owner, watch_id)
    return Response(status_code=204)


@router.get(
    "/{watch_id}/deliveries",
    response_model=DeliveriesOut,
    responses=ERROR_RESPONSES,
    summary="The webhook delivery log of a watch",
)
async def deliveries(watch_id: ObjectId, user: Reader, session: SessionDep) -> FastJSON:
    return FastJSON({"items": await service.deliveries(session, user.owner, watch_id)})

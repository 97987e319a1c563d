"""Market API: search offers, the group-by-GPU summary, and the live stream of market changes
(one offer's detail is served by the pricing router, which scores it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Literal

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from gp4u.db.base import MAX_ID
from gp4u.offers import service
from gp4u.offers.fields import FIELD_NAMES, SORTABLE
from gp4u.offers.query import build_query
from gp4u.offers.schemas import MarketChanges, OfferPage, SummaryOut
from gp4u.web.deps import MarketDep, SessionDep, SettingsDep
from gp4u.web.errors import ERROR_RESPONSES
from gp4u.web.responses import FastJSON

router = APIRouter(prefix="/api/v1", tags=["market"])
STREAM_BATCH = 1000  # changed offers per event; more at once is a `reset`
STREAM_POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0


class EventStream(StreamingResponse):
    """Server-Sent Events (so OpenAPI documents the events' model under this media type)."""

    media_type = "text/event-stream"


Q_HELP = (
    "Filters in the query language: `field op value` terms joined by spaces, all must hold. "
    "Operators `= != < <= > >= in notin ~` (~ is text contains); lists `[a,b]`; quote values "
    "with spaces; `field=null` tests for a missing value. Prices in USD. GPU names in any "
    "provider spelling (`gpu=A100-80GB` is an 80 GB A100). Only available offers unless the "
    "query mentions `available`. Fields: " + ", ".join(FIELD_NAMES) + ". "
    "Example: `gpu=H100 gpu_count>=8 price_per_gpu_hour<2.5 country in [US,CA] spot=false`."
)
SORT_HELP = (
    "Field to sort by, ascending; prefix with `-` (or suffix `:desc`) for descending. Ties are "
    "broken by id, missing values sort last. Sortable: " + ", ".join(SORTABLE) + "."
)


@router.get("/offers", response_model=OfferPage, responses=ERROR_RESPONSES, summary="Search offers")
async def search_offers(
    session: SessionDep,
    settings: SettingsDep,
    market: MarketDep,
    q: str | None = Query(None, description=Q_HELP),
    sort: str | None = Query(None, description=SORT_HELP + " Default: price_per_gpu_hour."),
    limit: int | None = Query(None, description="Page size, 1 to the server's maximum (1000)."),
    cursor: str | None = Query(None, description="`next_cursor` of the previous page."),
) -> FastJSON:
    query = build_query(
        q,
        sort=sort,
        limit=limit,
        cursor=cursor,
        default_limit=settings.search_default_limit,
        max_limit=settings.search_max_limit,
    )
    page = await service.search_offers(session, query, market)
    return FastJSON(page.as_json())


@router.get(
    "/offers/summary",
    response_model=SummaryOut,
    responses=ERROR_RESPONSES,
    summary="Offers grouped by GPU",
)
async def offers_summary(
    session: SessionDep,
    market: MarketDep,
    q: str | None = Query(None, description=Q_HELP),
    by: Literal["gpu", "variant"] = Query(
        "gpu", description="`gpu`: per model and memory size; `variant`: also per form factor."
    ),
) -> FastJSON:
    query = build_query(q)
    return FastJSON({"by": by, "items": await service.summarize(session, query, by, market)})


@router.get(
    "/offers/stream",
    summary="Live market changes as Server-Sent Events",
    description="After each sync that changed the market: `event: changes` with `data` "
    "`{version, items}` (each changed offer's id, prices in USD, availability, stale flag and "
    "whether it is new) and `id` the market version (send `Last-Event-ID` to resume from it; "
    "without it the stream starts at the current version). When more than "
    f"{STREAM_BATCH} offers changed at once: `event: reset` with `data` `{{version}}`: reload "
    "instead of patching. A comment line every 15 s keeps proxies from closing it; "
    "`max_events` ends the stream after that many events (for scripts). The `changes` data is "
    "a `MarketChanges`.",
    response_class=EventStream,
    responses={200: {"model": MarketChanges}},
)
async def stream(
    request: Request,
    session: SessionDep,
    last_event_id: int | None = Header(None, ge=0, le=MAX_ID),
    max_events: int | None = Query(None, ge=1),
) -> EventStream:
    sessions = request.app.state.sessions
    since = last_event_id if last_event_id is not None else await service.market_version(session)
    await session.commit()  # the stream polls with its own sessions: hold no transaction open

    async def events() -> AsyncIterator[bytes]:
        version, sent, quiet = since, 0, 0.0
        while not await request.is_disconnected():
            async with sessions() as poll:
                latest, items = await service.market_changes(poll, version, STREAM_BATCH)
            if latest > version:
                version, sent, quiet = latest, sent + 1, 0.0
                if items is None:
                    yield b"id: %d\nevent: reset\ndata: %s\n\n" % (
                        version,
                        orjson.dumps({"version": version}),
                    )
                else:
                    body = orjson.dumps({"version": version, "items": items})
                    yield b"id: %d\nevent: changes\ndata: %s\n\n" % (version, body)
                if max_events is not None and sent >= max_events:
                    return
            else:
                quiet += STREAM_POLL_SECONDS
            if quiet >= HEARTBEAT_SECONDS:
                quiet = 0.0
                yield b": keep-alive\n\n"
            await asyncio.sleep(STREAM_POLL_SECONDS)

    return EventStream(events(), headers={"Cache-Control": "no-cache"})


# The offer detail route (with its G-Score) is the pricing router's: it scores the offer.

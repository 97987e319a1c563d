"""Market API: search offers, the group-by-GPU summary, and one offer."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from gp4u.offers import service
from gp4u.offers.fields import FIELD_NAMES, SORTABLE
from gp4u.offers.query import build_query
from gp4u.offers.schemas import OfferDetail, OfferPage, SummaryOut
from gp4u.web.deps import MarketDep, SessionDep, SettingsDep
from gp4u.web.errors import ERROR_RESPONSES
from gp4u.web.responses import FastJSON

router = APIRouter(prefix="/api/v1", tags=["market"])

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
    "/offers/{offer_id}",
    response_model=OfferDetail,
    responses=ERROR_RESPONSES,
    summary="One offer with its price history",
)
async def get_offer(session: SessionDep, offer_id: int) -> FastJSON:
    return FastJSON(await service.get_offer(session, offer_id))

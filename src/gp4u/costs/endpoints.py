"""Costs API: your GPU sessions' costs (`GET /api/v1/costs`), and every user's month for admins
(`GET /api/v1/costs/users`)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response

from gp4u.accounts.deps import AdminUser, Reader
from gp4u.costs import service
from gp4u.costs.export import CostTable, costs_csv
from gp4u.costs.schemas import MONTH_PATTERN, CostsOut, UserCostsOut
from gp4u.web.deps import ClockDep, SessionDep
from gp4u.web.downloads import CSV_RESPONSES
from gp4u.web.errors import AUTH_RESPONSES, ERROR_RESPONSES
from gp4u.web.responses import FastJSON

router = APIRouter(
    prefix="/api/v1/costs", tags=["costs"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)
MONTH_HELP = (
    "The month of the month figures, YYYY-MM (UTC; default: the current month). Past months "
    "are complete: nothing is projected into them."
)
PROJECTION_RULE = (
    "The projection is the month-to-date cost plus, for each running session, what its running "
    "time from now until the month ends will cost, no further than its paid time (`expires_at`) "
    "and never more than was held for it. Sessions not running yet add nothing. The budget flag "
    "compares it with your account's monthly budget (the wallet also counts holds against the "
    "budget: see /api/v1/wallet/budget)."
)


@router.get(
    "",
    response_model=CostsOut,
    responses=CSV_RESPONSES,
    summary="Your GPU session costs: by session, day, month and API key, with a projection",
    description="Cost accrues per started minute of running time at the session's hourly "
    "price. A session that spans midnight (or a month's end) is split by its minutes in each "
    "day, exactly: `daily` adds up to `total`, the sum of the sessions' `window_cost`. "
    + PROJECTION_RULE
    + " `format=csv` downloads one of the report's tables (`table`: sessions, daily, monthly "
    "or keys) as `gp4u-costs-<table>-<span>.csv`.",
)
async def costs(
    user: Reader,
    session: SessionDep,
    clock: ClockDep,
    days: int = Query(30, ge=1, le=366, description="How many UTC days, today included."),
    month: str | None = Query(None, pattern=MONTH_PATTERN, description=MONTH_HELP),
    format: Literal["json", "csv"] = Query("json", description="`csv`: one table as a file."),
    table: CostTable = Query("sessions", description="With `format=csv`: which table."),
) -> Response:
    report = await service.report(session, user.owner, days, month, clock.now())
    if format == "csv":
        return costs_csv(report, table)
    return FastJSON(report)


@router.get(
    "/users",
    response_model=UserCostsOut,
    summary="Every user's session costs for a month (admins only)",
    description="Per user: month-to-date cost, projection, budget flag, and the burn rate and "
    "running sessions of now; the most expensive first. " + PROJECTION_RULE,
)
async def user_costs(
    _admin: AdminUser,
    session: SessionDep,
    clock: ClockDep,
    month: str | None = Query(None, pattern=MONTH_PATTERN, description=MONTH_HELP),
) -> FastJSON:
    return FastJSON(await service.users_report(session, month, clock.now()))

"""Wallet API: balance, transactions, deposits and withdrawals (with Idempotency-Key),
payments, spending analytics and budgets. Everything is the caller's own."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from gp4u.accounts.deps import Reader, Trader
from gp4u.accounts.service import list_api_keys
from gp4u.db.base import MAX_ID
from gp4u.kit.money import usd_to_micros
from gp4u.ledger.service import Sessions
from gp4u.wallet import service
from gp4u.wallet.export import transactions_csv
from gp4u.wallet.rails import PaymentRail
from gp4u.wallet.schemas import (
    AnalyticsOut,
    BudgetIn,
    BudgetsOut,
    DepositIn,
    EntryKind,
    PaymentOut,
    PaymentsOut,
    TransactionsOut,
    WalletOut,
    WithdrawalIn,
)
from gp4u.web.deps import ClockDep, ObjectId, SessionDep
from gp4u.web.downloads import CSV_RESPONSES
from gp4u.web.errors import AUTH_RESPONSES, ERROR_RESPONSES, ErrorOut
from gp4u.web.responses import FastJSON

router = APIRouter(
    prefix="/api/v1/wallet", tags=["wallet"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)
MONEY_RESPONSES: dict[int | str, dict[str, Any]] = {
    402: {"model": ErrorOut, "description": "Insufficient funds or budget."},
    409: {"model": ErrorOut, "description": "Idempotency-Key reused with another request."},
}
IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=200,
        description="Makes the request safe to retry: a replay returns the first response.",
    ),
]
MAX_PAGE = 200


async def _money_sessions(request: Request, session: SessionDep) -> Sessions:
    """Money moves in ledger transactions of its own: end the request's transaction first (on
    SQLite it may hold the write lock after recording an API key's use)."""
    await session.commit()
    sessions: Sessions = request.app.state.sessions
    return sessions


def _rails(request: Request) -> dict[str, PaymentRail]:
    rails: dict[str, PaymentRail] = request.app.state.rails
    return rails


MoneySessions = Annotated[Sessions, Depends(_money_sessions)]
Rails = Annotated[dict[str, PaymentRail], Depends(_rails)]


@router.get("", response_model=WalletOut, summary="Your balances and budget")
async def wallet(user: Reader, session: SessionDep, clock: ClockDep) -> FastJSON:
    return FastJSON(await service.summary(session, user.owner, clock.now()))


@router.get(
    "/transactions",
    response_model=TransactionsOut,
    responses=CSV_RESPONSES,
    summary="Your ledger, newest first, as JSON pages or one CSV file",
    description="Filter by `kind` and by time (`since` inclusive, `until` exclusive). "
    "`format=csv` downloads every matching entry (newest first, up to "
    f"{service.EXPORT_MAX:,}; `limit` does not apply) as `gp4u-transactions.csv`.",
)
async def transactions(
    user: Reader,
    session: SessionDep,
    kind: EntryKind | None = None,
    since: datetime | None = Query(None, description="From this time (inclusive)."),
    until: datetime | None = Query(None, description="Before this time."),
    before: int | None = Query(
        None, ge=1, le=MAX_ID, description="Page: entries older than this id."
    ),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    format: Literal["json", "csv"] = Query("json", description="`csv`: every match, one file."),
) -> Response:
    if format == "csv":
        items = await service.every_transaction(
            session, user.owner, kind=kind, since=since, until=until, before=before
        )
        return transactions_csv(items, "gp4u-transactions.csv")
    page = await service.transactions(
        session, user.owner, kind=kind, since=since, until=until, before=before, limit=limit
    )
    return FastJSON(page)


@router.post(
    "/deposits",
    status_code=201,
    response_model=PaymentOut,
    responses=MONEY_RESPONSES,
    summary="Add money through a payment rail",
    description="Settled at once (test-instant) or later (test-async: `pending`, then `settled` "
    "or `failed`). A failed payment is returned with its reason and moves no money.",
)
async def deposit(
    body: DepositIn,
    user: Trader,
    sessions: MoneySessions,
    rails: Rails,
    clock: ClockDep,
    idempotency_key: IdempotencyKey = None,
) -> FastJSON:
    done = await service.request_payment(
        sessions,
        rails,
        user.owner,
        "deposit",
        usd_to_micros(body.amount),
        body.rail,
        body.source,
        idempotency_key,
        clock.now(),
    )
    return FastJSON(done, status_code=201)


@router.post(
    "/withdrawals",
    status_code=201,
    response_model=PaymentOut,
    responses=MONEY_RESPONSES,
    summary="Send money out: held at once, paid out when the rail settles",
)
async def withdraw(
    body: WithdrawalIn,
    user: Trader,
    sessions: MoneySessions,
    rails: Rails,
    clock: ClockDep,
    idempotency_key: IdempotencyKey = None,
) -> FastJSON:
    done = await service.request_payment(
        sessions,
        rails,
        user.owner,
        "withdrawal",
        usd_to_micros(body.amount),
        body.rail,
        body.destination,
        idempotency_key,
        clock.now(),
    )
    return FastJSON(done, status_code=201)


@router.get("/payments", response_model=PaymentsOut, summary="Your deposits and withdrawals")
async def payments(
    user: Reader,
    session: SessionDep,
    status: str | None = Query(None, pattern="^(pending|settled|failed)$"),
    before: int | None = Query(None, ge=1, le=MAX_ID),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
) -> FastJSON:
    return FastJSON(await service.payments(session, user.owner, status, before, limit))


@router.get("/payments/{payment_id}", response_model=PaymentOut, summary="One payment")
async def payment(payment_id: ObjectId, user: Reader, session: SessionDep) -> FastJSON:
    return FastJSON(await service.get_payment(session, user.owner, payment_id))


@router.get("/analytics", response_model=AnalyticsOut, summary="Spending by day and by category")
async def analytics(
    user: Reader,
    session: SessionDep,
    clock: ClockDep,
    days: int = Query(30, ge=1, le=366),
) -> FastJSON:
    return FastJSON(await service.analytics(session, user.owner, days, clock.now()))


@router.get("/budget", response_model=BudgetsOut, summary="Your monthly budgets")
async def budgets(user: Reader, session: SessionDep, clock: ClockDep) -> FastJSON:
    return FastJSON(await service.budgets(session, user.owner, clock.now()))


@router.put(
    "/budget",
    response_model=BudgetsOut,
    summary="Set or remove a monthly budget (the account's, or one API key's)",
    description="Alerts at 50, 80 and 100 % arrive in the notification feed; at 100 % new "
    "spending is refused until the next month (UTC).",
)
async def set_budget(
    body: BudgetIn, user: Trader, session: SessionDep, clock: ClockDep
) -> FastJSON:
    user.require_session()  # a key must not lift its own cap
    limit = None if body.monthly_limit is None else usd_to_micros(body.monthly_limit)
    keys = {k["id"] for k in await list_api_keys(session, user)}
    changed = await service.set_budget(session, user.owner, body.key_id, limit, clock.now(), keys)
    return FastJSON(changed)

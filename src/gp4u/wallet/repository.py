"""All SQL of the wallet: payments, charges, budgets and budget alerts, and the read-only views
of the ledger a user sees (their transactions)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.db import bulk
from gp4u.ledger.entries import ESCROW, HOST, OPEN, WALLET
from gp4u.ledger.models import Hold, JournalEntry, LedgerAccount, Posting
from gp4u.wallet.models import Budget, BudgetAlert, Charge, Payment


async def payment(session: AsyncSession, payment_id: int, *, lock: bool = False) -> Payment | None:
    query = select(Payment).where(Payment.id == payment_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def payments_of(
    session: AsyncSession, owner: str, status: str | None, before: int | None, limit: int
) -> Sequence[Payment]:
    query = select(Payment).where(Payment.owner == owner)
    if status is not None:
        query = query.where(Payment.status == status)
    if before is not None:
        query = query.where(Payment.id < before)
    return (await session.execute(query.order_by(Payment.id.desc()).limit(limit))).scalars().all()


async def pending_payment_ids(session: AsyncSession, limit: int) -> list[int]:
    found = await session.execute(
        select(Payment.id).where(Payment.status == "pending").order_by(Payment.id).limit(limit)
    )
    return [int(i) for i in found.scalars()]


async def charge(session: AsyncSession, charge_id: int, *, lock: bool = False) -> Charge | None:
    query = select(Charge).where(Charge.id == charge_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def month_spend(
    session: AsyncSession, owner: str, key_prefix: str | None, month_start: datetime
) -> int:
    """Captured this month plus still held: what counts against a budget. A charge's hold is
    the truth about whether it is still held (holds can expire without the wallet's help)."""
    spent = case(
        (Hold.status == OPEN, Charge.held),
        (and_(Charge.status == "captured", Charge.resolved_at >= month_start), Charge.captured),
        else_=0,
    )
    query = (
        select(func.coalesce(func.sum(spent), 0))
        .join(Hold, Hold.id == Charge.hold_id)
        .where(Charge.owner == owner, or_(Hold.status == OPEN, Charge.resolved_at >= month_start))
    )
    if key_prefix is not None:
        query = query.where(Charge.key_prefix == key_prefix)
    return int((await session.execute(query)).scalar_one())


async def captured_since(session: AsyncSession, owner: str, since: datetime) -> list[Any]:
    found = await session.execute(
        select(Charge.resolved_at, Charge.category, Charge.captured).where(
            Charge.owner == owner,
            Charge.status == "captured",
            Charge.resolved_at >= since,
            Charge.captured > 0,
        )
    )
    return list(found.all())


_INSERT_CHARGE = insert(cast(Table, Charge.__table__)).returning(Charge.__table__.c.id)


async def insert_charge(session: AsyncSession, values: dict[str, Any]) -> int:
    """A new charge's id. Written with a prepared Core statement: holds sit on the booking
    path, where the ORM's unit of work costs twice as much CPU."""
    return int((await session.execute(_INSERT_CHARGE, values)).scalar_one())


# Read before every hold, so built once.
_BUDGETS_OF = select(Budget).where(Budget.owner == bindparam("owner")).order_by(Budget.key_prefix)


async def budgets_of(session: AsyncSession, owner: str) -> Sequence[Budget]:
    return (await session.scalars(_BUDGETS_OF, {"owner": owner})).all()


async def budget(session: AsyncSession, owner: str, key_prefix: str) -> Budget | None:
    found = await session.execute(
        select(Budget).where(Budget.owner == owner, Budget.key_prefix == key_prefix)
    )
    return found.scalar_one_or_none()


async def record_budget_alert(
    session: AsyncSession, owner: str, key_prefix: str, month: str, threshold: int, now: datetime
) -> bool:
    """Whether this threshold is new this month (a concurrent writer's row wins quietly)."""
    insert = bulk.insert_for(session.get_bind().dialect.name)
    result = await session.execute(
        insert(BudgetAlert)
        .values(
            owner=owner, key_prefix=key_prefix, month=month, threshold=threshold, created_at=now
        )
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def transactions(
    session: AsyncSession,
    owner: str,
    kind: str | None,
    since: datetime | None,
    until: datetime | None,
    before: int | None,
    limit: int,
) -> list[Any]:
    """Journal entries that touched the owner's accounts, newest first, with what each did to
    their available, held and host-earnings balances."""

    def change(account_kind: str) -> Any:
        return func.sum(case((LedgerAccount.kind == account_kind, Posting.amount), else_=0))

    deltas = (
        select(
            Posting.entry_id,
            change(WALLET).label("available"),
            change(ESCROW).label("held"),
            change(HOST).label("earnings"),
        )
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(LedgerAccount.owner == owner)
        .group_by(Posting.entry_id)
    )
    if before is not None:  # in the aggregate too: the outer filter does not reach inside it
        deltas = deltas.where(Posting.entry_id < before)
    deltas_q = deltas.subquery()
    query = (
        select(
            JournalEntry.id,
            JournalEntry.kind,
            JournalEntry.hold_id,
            JournalEntry.memo,
            JournalEntry.created_at,
            deltas_q.c.available,
            deltas_q.c.held,
            deltas_q.c.earnings,
        )
        .join(deltas_q, deltas_q.c.entry_id == JournalEntry.id)
        .order_by(JournalEntry.id.desc())
        .limit(limit)
    )
    if kind is not None:
        query = query.where(JournalEntry.kind == kind)
    if since is not None:
        query = query.where(JournalEntry.created_at >= since)
    if until is not None:
        query = query.where(JournalEntry.created_at < until)
    if before is not None:
        query = query.where(JournalEntry.id < before)
    return list((await session.execute(query)).all())

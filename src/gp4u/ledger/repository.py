"""All SQL of the ledger: accounts, locked balances, journal entries, holds, idempotency records
and the audit's aggregates."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from gp4u.ledger.entries import MAY_GO_NEGATIVE, UNCACHED, Leg
from gp4u.ledger.models import (
    AccountBalance,
    Hold,
    IdempotencyRecord,
    JournalEntry,
    LedgerAccount,
    Posting,
)


@asynccontextmanager
async def money_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A unit of work for moving money. On SQLite it takes the write lock at once (BEGIN
    IMMEDIATE), so concurrent writers queue instead of failing when they upgrade from reading;
    on PostgreSQL the balance rows are locked row by row (`lock_balances`)."""
    async with sessions() as session:
        try:
            if session.get_bind().dialect.name == "sqlite":
                await session.execute(text("BEGIN IMMEDIATE"))
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def account_ids(
    session: AsyncSession, keys: Sequence[tuple[str, str]], now: datetime
) -> dict[tuple[str, str], int]:
    """Ids of (owner, kind) accounts, creating the missing ones with a zero balance (a
    concurrent creator of the same account is waited for, never duplicated). Called before any
    balance is locked, so creating never waits while holding a lock."""
    wanted = sorted(set(keys))
    found = await _existing(session, wanted)
    missing = [k for k in wanted if k not in found]
    if missing:
        postgres = session.get_bind().dialect.name == "postgresql"
        await _create(
            await session.connection(), missing, now, pg_insert if postgres else sqlite_insert
        )
        found = await _existing(session, wanted)
    return found


async def _existing(
    session: AsyncSession, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    owners = {owner for owner, _ in keys}
    rows = await session.execute(
        select(LedgerAccount.owner, LedgerAccount.kind, LedgerAccount.id).where(
            LedgerAccount.owner.in_(owners)
        )
    )
    wanted = set(keys)
    return {(o, k): int(i) for o, k, i in rows.all() if (o, k) in wanted}


async def _create(
    conn: AsyncConnection, keys: Sequence[tuple[str, str]], now: datetime, insert: Any
) -> None:
    await conn.execute(
        insert(LedgerAccount)
        .values([{"owner": o, "kind": k, "created_at": now} for o, k in keys])
        .on_conflict_do_nothing()
    )
    for owner, kind in keys:
        if kind in UNCACHED:
            continue
        account_id = await conn.scalar(
            select(LedgerAccount.id).where(LedgerAccount.owner == owner, LedgerAccount.kind == kind)
        )
        await conn.execute(
            insert(AccountBalance)
            .values(account_id=account_id, balance=0, may_go_negative=kind in MAY_GO_NEGATIVE)
            .on_conflict_do_nothing()
        )


async def lock_balances(session: AsyncSession, ids: Sequence[int]) -> dict[int, int]:
    """Current balances, locked until commit (in id order, so writers never deadlock)."""
    query = (
        select(AccountBalance.account_id, AccountBalance.balance)
        .where(AccountBalance.account_id.in_(sorted(ids)))
        .order_by(AccountBalance.account_id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return {int(a): int(b) for a, b in (await session.execute(query)).all()}


async def write_entry(
    session: AsyncSession,
    *,
    kind: str,
    owner: str,
    legs: Sequence[Leg],
    accounts: dict[tuple[str, str], int],
    now: datetime,
    hold_id: int | None = None,
    memo: dict[str, Any] | None = None,
) -> int:
    """One journal entry with its postings, and the cached balances moved by them."""
    entry = JournalEntry(kind=kind, owner=owner, hold_id=hold_id, memo=memo or {}, created_at=now)
    session.add(entry)
    await session.flush()
    for leg in legs:
        account_id = accounts[(leg.owner, leg.kind)]
        session.add(Posting(entry_id=entry.id, account_id=account_id, amount=leg.amount))
        if leg.kind in UNCACHED:
            continue
        await session.execute(
            update(AccountBalance)
            .where(AccountBalance.account_id == account_id)
            .values(balance=AccountBalance.balance + leg.amount)
        )
    await session.flush()
    return entry.id


async def hold_for_update(session: AsyncSession, hold_id: int) -> Hold | None:
    query = select(Hold).where(Hold.id == hold_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def due_holds(session: AsyncSession, now: datetime) -> list[int]:
    query = select(Hold.id).where(Hold.status == "open", Hold.expires_at <= now).order_by(Hold.id)
    return list((await session.scalars(query)).all())


async def idempotency_record(
    session: AsyncSession, owner: str, key: str
) -> IdempotencyRecord | None:
    query = select(IdempotencyRecord).where(
        IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
    )
    return (await session.scalars(query)).first()


async def balances_of(session: AsyncSession, owner: str) -> dict[str, int]:
    query = (
        select(LedgerAccount.kind, AccountBalance.balance)
        .join(AccountBalance, AccountBalance.account_id == LedgerAccount.id)
        .where(LedgerAccount.owner == owner)
    )
    return {str(k): int(b) for k, b in (await session.execute(query)).all()}


async def audit_rows(session: AsyncSession) -> dict[str, Any]:
    """Everything the audit compares: cached vs recomputed balances, per-entry sums, the
    grand total, and open holds vs escrow."""
    recomputed = dict(
        (
            await session.execute(
                select(Posting.account_id, func.sum(Posting.amount)).group_by(Posting.account_id)
            )
        ).all()
    )
    cached = dict(
        (await session.execute(select(AccountBalance.account_id, AccountBalance.balance))).all()
    )
    unbalanced = (
        await session.execute(
            select(Posting.entry_id, func.sum(Posting.amount))
            .group_by(Posting.entry_id)
            .having(func.sum(Posting.amount) != 0)
        )
    ).all()
    total = await session.scalar(select(func.coalesce(func.sum(Posting.amount), 0)))
    open_holds = dict(
        (
            await session.execute(
                select(Hold.owner, func.sum(Hold.amount))
                .where(Hold.status == "open")
                .group_by(Hold.owner)
            )
        ).all()
    )
    escrow = dict(
        (
            await session.execute(
                select(LedgerAccount.owner, AccountBalance.balance)
                .join(AccountBalance, AccountBalance.account_id == LedgerAccount.id)
                .where(LedgerAccount.kind == "escrow")
            )
        ).all()
    )
    negative = (
        await session.execute(
            select(AccountBalance.account_id).where(
                AccountBalance.balance < 0, AccountBalance.may_go_negative.is_(False)
            )
        )
    ).all()
    return {
        "recomputed": {int(k): int(v) for k, v in recomputed.items()},
        "cached": {int(k): int(v) for k, v in cached.items()},
        "unbalanced_entries": [int(r[0]) for r in unbalanced],
        "total": int(total or 0),
        "open_holds": {k: int(v) for k, v in open_holds.items()},
        "escrow": {k: int(v) for k, v in escrow.items()},
        "negative": [int(r[0]) for r in negative],
    }

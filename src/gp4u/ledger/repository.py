"""All SQL of the ledger: the money transaction, posting a journal entry (with its postings,
cached balances, funds check, and the hold it opens or resolves), idempotency records, the
platform's revenue for refunds, and the audit's aggregates.

The hot path is SQLAlchemy Core, not the ORM. On PostgreSQL a journal entry is one
data-modifying CTE: it finds the accounts, resolves the hold, locks the balance rows in id
order, checks funds, inserts the hold, the entry and its postings, moves the cached balances and
returns the balances before the move. On SQLite, where writers are serialised anyway, it is a
handful of plain statements under the write lock."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Engine,
    and_,
    bindparam,
    case,
    func,
    insert,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from gp4u.db import bulk
from gp4u.db.base import UtcDateTime
from gp4u.ledger.entries import (
    MAY_GO_NEGATIVE,
    OPEN,
    PLATFORM,
    PLATFORM_OWNER,
    UNCACHED,
    Leg,
)
from gp4u.ledger.models import (
    AccountBalance,
    Hold,
    IdempotencyRecord,
    JournalEntry,
    LedgerAccount,
    Posting,
)

Key = tuple[str, str]  # (owner, kind)

# How long a SQLite writer waits for its turn in this process before it falls back to
# SQLite's own busy handler (the engine's busy_timeout), e.g. for a nested money transaction.
SQLITE_TURN_SECONDS = 10.0


class _Turns:
    """One queue per SQLite engine and event loop (an asyncio.Lock belongs to one loop)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[
            Engine, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()

    def lock(self, engine: Engine) -> asyncio.Lock:
        per_loop = self._locks.setdefault(engine, weakref.WeakKeyDictionary())
        return per_loop.setdefault(asyncio.get_running_loop(), asyncio.Lock())


_turns = _Turns()


@asynccontextmanager
async def _sqlite_turn(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    """SQLite has one writer. Writers of this process queue here, in order, instead of all
    polling SQLite's busy handler (which sleeps up to 100 ms between tries and made 16
    concurrent writers spend most of their time asleep). Other processes still queue on
    BEGIN IMMEDIATE, which is what keeps it correct."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "sqlite":
        yield
        return
    lock = _turns.lock(bind.sync_engine)
    try:
        async with asyncio.timeout(SQLITE_TURN_SECONDS):
            await lock.acquire()
    except TimeoutError:
        yield  # not our turn yet: let BEGIN IMMEDIATE wait (and fail) as it would without us
        return
    try:
        yield
    finally:
        lock.release()


@asynccontextmanager
async def money_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A unit of work for moving money. On SQLite it takes the write lock at once (BEGIN
    IMMEDIATE), so concurrent writers queue instead of failing when they upgrade from reading;
    on PostgreSQL the balance rows are locked row by row by `post_entry`."""
    async with _sqlite_turn(sessions), sessions() as session:
        try:
            if _dialect(session) == "sqlite":
                await session.execute(text("BEGIN IMMEDIATE"))
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


# --------------------------------------------------------------------------- accounts


async def create_accounts(conn: AsyncConnection, keys: Sequence[Key], now: datetime) -> None:
    """Create the (owner, kind) accounts that do not exist yet, with a zero cached balance
    unless the kind is a house account. A concurrent creator of the same account is waited
    for, never duplicated; callers create accounts before they lock any balance."""
    if not keys:
        return
    insert_ = bulk.insert_for(conn.dialect.name)
    await conn.execute(
        insert_(LedgerAccount)
        .values([{"owner": o, "kind": k, "created_at": now} for o, k in sorted(set(keys))])
        .on_conflict_do_nothing()
    )
    cached = sorted({(o, k) for o, k in keys if k not in UNCACHED})
    if not cached:
        return
    await conn.execute(
        insert_(AccountBalance)
        .from_select(
            ["account_id", "balance", "may_go_negative"],
            select(
                LedgerAccount.id,
                bindparam("zero", 0),
                LedgerAccount.kind.in_(sorted(MAY_GO_NEGATIVE)),
            ).where(tuple_(LedgerAccount.owner, LedgerAccount.kind).in_(cached)),
        )
        .on_conflict_do_nothing()
    )


async def account_ids(session: AsyncSession, keys: Sequence[Key], now: datetime) -> dict[Key, int]:
    """Ids of (owner, kind) accounts, creating the missing ones (see `create_accounts`)."""
    conn = await session.connection()
    await create_accounts(conn, keys, now)
    rows = await conn.execute(
        select(LedgerAccount.owner, LedgerAccount.kind, LedgerAccount.id).where(
            tuple_(LedgerAccount.owner, LedgerAccount.kind).in_(sorted(set(keys)))
        )
    )
    return {(o, k): int(i) for o, k, i in rows.all()}


# --------------------------------------------------------------------------- journal entries


@dataclass(frozen=True)
class NewHold:
    """A hold to open in the same statement as its journal entry."""

    amount: int
    expires_at: datetime


@dataclass(frozen=True)
class Resolve:
    """An open hold of the entry's owner to resolve in the same statement as its journal entry
    (exactly once: only an open hold is resolved). `captured` must fit in the hold;
    `capture_all` captures all of it."""

    hold_id: int
    status: str
    captured: int | None = None
    capture_all: bool = False


# The legs of an entry that resolves a hold, as a function of the amount held. Entries are
# linear in it (escrow gives it all back, the wallet or the world receives it), so the
# PostgreSQL statement is given each account's fixed part and its share of the held amount.
LegsOf = Callable[[int], Sequence[Leg]]


@dataclass(frozen=True)
class Posted:
    entry_id: int
    hold_id: int | None
    held: int | None  # the resolved hold's amount
    after: dict[Key, int]  # cached balance of every touched account after the entry


@dataclass(frozen=True)
class Shortfall:
    """The checked account cannot pay: nothing was written."""

    need: int
    available: int


@dataclass(frozen=True)
class Unresolved:
    """The hold to resolve is not an open hold of this owner, or the capture does not fit in
    it: nothing was written (`hold_state` tells which)."""


@dataclass(frozen=True)
class _Plan:
    keys: list[Key]
    deltas: list[int]  # fixed part
    per_held: list[int]  # times the held amount
    checked: list[bool]

    def delta(self, index: int, held: int | None) -> int:
        return self.deltas[index] + self.per_held[index] * (held or 0)


def _sums(legs: Sequence[Leg]) -> dict[Key, int]:
    total: dict[Key, int] = {}
    for leg in legs:
        total[(leg.owner, leg.kind)] = total.get((leg.owner, leg.kind), 0) + leg.amount
    return total


def _plan(
    fixed: dict[Key, int], per_held: dict[Key, int], check: Key | None, report: Sequence[Key]
) -> _Plan:
    keys = sorted({*fixed, *per_held, *report, *([check] if check else [])})
    return _Plan(
        keys,
        [fixed.get(k, 0) for k in keys],
        [per_held.get(k, 0) for k in keys],
        [k == check for k in keys],
    )


def _linear(legs_of: LegsOf, base: int) -> tuple[dict[Key, int], dict[Key, int]]:
    """(fixed part, share of the held amount) per account, from two evaluations."""
    at, next_ = _sums(legs_of(base)), _sums(legs_of(base + 1))
    slope = {k: next_.get(k, 0) - at.get(k, 0) for k in {*at, *next_}}
    return {k: at.get(k, 0) - base * s for k, s in slope.items()}, slope


async def post_entry(
    session: AsyncSession,
    *,
    kind: str,
    owner: str,
    legs: Sequence[Leg] | LegsOf,
    now: datetime,
    check: Key | None = None,
    report: Sequence[Key] = (),
    new_hold: NewHold | None = None,
    resolve: Resolve | None = None,
    memo: dict[str, Any] | None = None,
) -> Posted | Shortfall | Unresolved:
    """Write one journal entry of `legs` (which sum to zero; a function of the held amount
    when it `resolve`s a hold) and move the cached balances, unless the `check`ed account
    would go below zero or the hold cannot be resolved (then nothing is written). Missing
    accounts are created first. `report` names accounts whose balance the caller wants back
    (they are locked too, so the figures are exactly those after this entry)."""
    conn = await session.connection()
    args = {
        "kind": kind,
        "owner": owner,
        "hold_id": resolve.hold_id if resolve else None,
        "hold_amount": new_hold.amount if new_hold else None,
        "expires_at": new_hold.expires_at if new_hold else None,
        "resolve_to": resolve.status if resolve else None,
        "captured": resolve.captured if resolve else None,
        "capture_all": resolve.capture_all if resolve else False,
        "memo": memo or {},
        "now": now,
    }
    if conn.dialect.name == "sqlite":
        return await _post_sqlite(conn, legs, check, report, resolve, args)
    legs_of: LegsOf | None = None
    if callable(legs):
        legs_of = legs
        base = (resolve.captured or 0) + 1 if resolve else 1  # a valid held amount
        plan = _plan(*_linear(legs_of, base), check, report)
    else:
        plan = _plan(_sums(legs), {}, check, report)
    posted = await _post_postgresql(conn, plan, args)
    if isinstance(posted, Posted) and legs_of is not None:
        assert posted.held is not None
        exact = _sums(legs_of(posted.held))
        written = {k: plan.delta(i, posted.held) for i, k in enumerate(plan.keys)}
        if {k: v for k, v in written.items() if v} != {k: v for k, v in exact.items() if v}:
            # a bug in entries.py; raised before commit, so the unit of work rolls back
            raise RuntimeError(f"the legs of a {kind} entry are not linear in the held amount")
    return posted


# One statement per journal entry. The hold is resolved first (`resolved`: its row lock comes
# before the balances', as everywhere). `locked` then takes the balance row locks in account
# id order (LockRows over a sort), so writers never deadlock. The funds check (`go`) reads the
# checked row from `locked`; the final SELECT reads all of `locked`; and `moved`, which nothing
# references, runs only after that SELECT has finished, so every lock is held before any
# balance moves. If an account is missing, nothing is locked or written and `ready` says so:
# the caller creates the accounts and runs the statement again. In READ COMMITTED a row locked
# after waiting is read in its newest version and the UPDATE applies its delta to that version,
# so the balances returned plus the deltas are exactly the new balances.
_POST_POSTGRESQL = text("""
WITH found AS MATERIALIZED (
    SELECT t.owner, t.kind, t.delta, t.per_held, t.checked, a.id AS account_id
    FROM unnest(
        CAST(:owners AS varchar[]), CAST(:kinds AS varchar[]), CAST(:deltas AS bigint[]),
        CAST(:per_held AS bigint[]), CAST(:checked AS boolean[])
    ) AS t(owner, kind, delta, per_held, checked)
    LEFT JOIN ledger_accounts a ON a.owner = t.owner AND a.kind = t.kind
),
ready AS MATERIALIZED (
    SELECT bool_and(account_id IS NOT NULL) AS ok FROM found
),
resolved AS (
    UPDATE holds
    SET status = CAST(:resolve_to AS varchar), resolved_at = :now,
        captured = CASE WHEN CAST(:capture_all AS boolean) THEN amount
                        ELSE coalesce(CAST(:captured AS bigint), captured) END
    WHERE id = CAST(:hold_id AS bigint) AND CAST(:resolve_to AS varchar) IS NOT NULL
      AND owner = :owner AND status = 'open'
      AND amount >= coalesce(CAST(:captured AS bigint), 0)
      AND (SELECT ok FROM ready)
    RETURNING amount
),
touched AS MATERIALIZED (
    SELECT f.owner, f.kind, f.checked, f.account_id,
           f.delta + f.per_held * coalesce((SELECT amount FROM resolved), 0) AS delta
    FROM found f
),
proceed AS MATERIALIZED (
    SELECT (SELECT ok FROM ready) AND (
        CAST(:resolve_to AS varchar) IS NULL OR EXISTS (SELECT 1 FROM resolved)
    ) AS ok
),
locked AS MATERIALIZED (
    SELECT b.account_id, b.balance
    FROM account_balances b
    WHERE b.account_id IN (SELECT account_id FROM touched) AND (SELECT ok FROM proceed)
    ORDER BY b.account_id
    FOR UPDATE
),
go AS MATERIALIZED (
    SELECT p.ok AND NOT EXISTS (
        SELECT 1 FROM touched t JOIN locked l ON l.account_id = t.account_id
        WHERE t.checked AND l.balance + t.delta < 0
    ) AS ok
    FROM proceed p
),
hold AS (
    INSERT INTO holds (owner, amount, captured, status, expires_at, created_at)
    SELECT :owner, CAST(:hold_amount AS bigint), 0, 'open', :expires_at, :now
    FROM go
    WHERE go.ok AND CAST(:hold_amount AS bigint) IS NOT NULL
    RETURNING id
),
entry AS (
    INSERT INTO journal_entries (kind, owner, hold_id, memo, created_at)
    SELECT :kind, :owner, coalesce((SELECT id FROM hold), CAST(:hold_id AS bigint)), :memo, :now
    FROM go
    WHERE go.ok
    RETURNING id
),
posted AS (
    INSERT INTO postings (entry_id, account_id, amount)
    SELECT e.id, t.account_id, t.delta FROM entry e CROSS JOIN touched t WHERE t.delta <> 0
),
moved AS (
    UPDATE account_balances b SET balance = b.balance + t.delta
    FROM entry e CROSS JOIN touched t
    WHERE b.account_id = t.account_id AND t.delta <> 0
)
SELECT r.ok AS ready, (SELECT amount FROM resolved) AS held, (SELECT id FROM entry) AS entry_id,
       (SELECT id FROM hold) AS hold_id, t.owner, t.kind, l.balance
FROM found t CROSS JOIN ready r LEFT JOIN locked l ON l.account_id = t.account_id
""").bindparams(
    bindparam("owner", type_=LedgerAccount.owner.type),
    bindparam("kind", type_=JournalEntry.kind.type),
    bindparam("memo", type_=JSON()),
    bindparam("now", type_=UtcDateTime()),
    bindparam("expires_at", type_=UtcDateTime()),
)


async def _post_postgresql(
    conn: AsyncConnection, plan: _Plan, args: dict[str, Any]
) -> Posted | Shortfall | Unresolved:
    params = {
        **args,
        "owners": [o for o, _ in plan.keys],
        "kinds": [k for _, k in plan.keys],
        "deltas": plan.deltas,
        "per_held": plan.per_held,
        "checked": plan.checked,
    }
    rows = (await conn.execute(_POST_POSTGRESQL, params)).all()
    if not rows[0].ready:
        await create_accounts(conn, plan.keys, args["now"])
        rows = (await conn.execute(_POST_POSTGRESQL, params)).all()
        if not rows[0].ready:  # pragma: no cover - accounts are never deleted
            raise RuntimeError("ledger accounts vanished while posting")
    held = None if rows[0].held is None else int(rows[0].held)
    if args["resolve_to"] is not None and held is None:
        return Unresolved()
    before = {(r.owner, r.kind): r.balance for r in rows}
    if rows[0].entry_id is None:
        return _shortfall(plan, before)
    return Posted(
        entry_id=int(rows[0].entry_id),
        hold_id=int(rows[0].hold_id) if rows[0].hold_id is not None else args["hold_id"],
        held=held,
        after=_after(plan, before, held),
    )


async def _post_sqlite(
    conn: AsyncConnection,
    legs: Sequence[Leg] | LegsOf,
    check: Key | None,
    report: Sequence[Key],
    resolve: Resolve | None,
    args: dict[str, Any],
) -> Posted | Shortfall | Unresolved:
    # The write lock is held (BEGIN IMMEDIATE), so nothing read here can change under us, and
    # statements can simply run one after the other.
    held = None
    if resolve is not None:
        held = await _resolve_hold(conn, resolve, args["owner"], args["now"])
        if held is None:
            return Unresolved()
    plan = _plan(_sums(legs(held or 0) if callable(legs) else legs), {}, check, report)
    found = await _sqlite_accounts(conn, plan.keys)
    if len(found) < len(plan.keys):
        await create_accounts(conn, [k for k in plan.keys if k not in found], args["now"])
        found = await _sqlite_accounts(conn, plan.keys)
    before = {key: balance for key, (_, balance) in found.items()}
    for key, delta, checked in zip(plan.keys, plan.deltas, plan.checked, strict=True):
        if checked and (before[key] or 0) + delta < 0:
            return _shortfall(plan, before)
    hold_id = args["hold_id"]
    if args["hold_amount"] is not None:
        hold_id = await conn.scalar(
            insert(Hold)
            .values(
                owner=args["owner"],
                amount=args["hold_amount"],
                captured=0,
                status=OPEN,
                expires_at=args["expires_at"],
                created_at=args["now"],
            )
            .returning(Hold.id)
        )
    entry_id = await conn.scalar(
        insert(JournalEntry)
        .values(
            kind=args["kind"],
            owner=args["owner"],
            hold_id=hold_id,
            memo=args["memo"],
            created_at=args["now"],
        )
        .returning(JournalEntry.id)
    )
    moves = [(found[k][0], d, k) for k, d in zip(plan.keys, plan.deltas, strict=True) if d]
    await conn.execute(
        insert(Posting).values(
            [{"entry_id": entry_id, "account_id": a, "amount": d} for a, d, _ in moves]
        )
    )
    cached = {a: d for a, d, k in moves if k[1] not in UNCACHED}
    if cached:
        await conn.execute(
            update(AccountBalance)
            .where(AccountBalance.account_id.in_(sorted(cached)))
            .values(balance=AccountBalance.balance + case(cached, value=AccountBalance.account_id))
        )
    assert entry_id is not None
    return Posted(
        entry_id=int(entry_id),
        hold_id=None if hold_id is None else int(hold_id),
        held=held,
        after=_after(plan, before, None),
    )


async def _resolve_hold(
    conn: AsyncConnection, resolve: Resolve, owner: str, now: datetime
) -> int | None:
    values: dict[str, Any] = {"status": resolve.status, "resolved_at": now}
    where = [Hold.id == resolve.hold_id, Hold.owner == owner, Hold.status == OPEN]
    if resolve.capture_all:
        values["captured"] = Hold.amount
    elif resolve.captured is not None:
        values["captured"] = resolve.captured
        where.append(Hold.amount >= resolve.captured)
    held = await conn.scalar(update(Hold).where(and_(*where)).values(values).returning(Hold.amount))
    return None if held is None else int(held)


async def _sqlite_accounts(
    conn: AsyncConnection, keys: Sequence[Key]
) -> dict[Key, tuple[int, int | None]]:
    """(account id, cached balance or None for house accounts) of the existing accounts."""
    wanted = set(keys)
    rows = await conn.execute(
        select(LedgerAccount.owner, LedgerAccount.kind, LedgerAccount.id, AccountBalance.balance)
        .outerjoin(AccountBalance, AccountBalance.account_id == LedgerAccount.id)
        .where(LedgerAccount.owner.in_(sorted({o for o, _ in keys})))
    )
    return {
        (o, k): (int(i), None if b is None else int(b))
        for o, k, i, b in rows.all()
        if (o, k) in wanted
    }


def _after(plan: _Plan, before: dict[Key, int | None], held: int | None) -> dict[Key, int]:
    return {
        key: balance + plan.delta(i, held)
        for i, key in enumerate(plan.keys)
        if (balance := before.get(key)) is not None
    }


def _shortfall(plan: _Plan, before: dict[Key, int | None]) -> Shortfall:
    index = plan.checked.index(True)
    available = before.get(plan.keys[index]) or 0
    return Shortfall(need=-plan.deltas[index], available=available)


# --------------------------------------------------------------------------- holds


@dataclass(frozen=True)
class HoldState:
    owner: str
    status: str
    amount: int


async def hold_state(session: AsyncSession, hold_id: int) -> HoldState | None:
    conn = await session.connection()
    row = (
        await conn.execute(select(Hold.owner, Hold.status, Hold.amount).where(Hold.id == hold_id))
    ).first()
    return None if row is None else HoldState(row.owner, row.status, int(row.amount))


async def due_holds(session: AsyncSession, now: datetime) -> list[tuple[int, str]]:
    """(id, owner) of the open holds past their time."""
    query = (
        select(Hold.id, Hold.owner)
        .where(Hold.status == OPEN, Hold.expires_at <= now)
        .order_by(Hold.id)
    )
    return [(int(i), str(o)) for i, o in (await session.execute(query)).all()]


# --------------------------------------------------------------------------- house accounts


async def platform_revenue_for_update(session: AsyncSession) -> int:
    """The platform's revenue (the sum of its postings), with the platform account locked so
    that refunds, its only debits, take turns. FOR NO KEY UPDATE does not conflict with the key
    share lock that every posting's foreign key check takes, so captures never wait for it."""
    conn = await session.connection()
    query = select(LedgerAccount.id).where(
        LedgerAccount.owner == PLATFORM_OWNER, LedgerAccount.kind == PLATFORM
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(key_share=True)
    account_id = await conn.scalar(query)
    if account_id is None:
        return 0
    total = await conn.scalar(
        select(func.coalesce(func.sum(Posting.amount), 0)).where(Posting.account_id == account_id)
    )
    return int(total or 0)


# --------------------------------------------------------------------------- idempotency


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    response: dict[str, Any]


async def idempotency_record(session: AsyncSession, owner: str, key: str) -> StoredResponse | None:
    conn = await session.connection()
    row = (
        await conn.execute(
            select(IdempotencyRecord.fingerprint, IdempotencyRecord.response).where(
                IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
            )
        )
    ).first()
    return None if row is None else StoredResponse(row.fingerprint, dict(row.response))


async def save_idempotency_record(
    session: AsyncSession,
    owner: str,
    key: str,
    fingerprint: str,
    response: dict[str, Any],
    now: datetime,
) -> None:
    """Raises IntegrityError when a concurrent request with the same key committed first."""
    conn = await session.connection()
    await conn.execute(
        insert(IdempotencyRecord).values(
            owner=owner, key=key, fingerprint=fingerprint, response=response, created_at=now
        )
    )


# --------------------------------------------------------------------------- reads and audit


async def balances_of(session: AsyncSession, owner: str) -> dict[str, int]:
    query = (
        select(LedgerAccount.kind, AccountBalance.balance)
        .join(AccountBalance, AccountBalance.account_id == LedgerAccount.id)
        .where(LedgerAccount.owner == owner)
    )
    return {str(k): int(b) for k, b in (await session.execute(query)).all()}


async def audit_rows(session: AsyncSession) -> dict[str, Any]:
    """Everything the audit compares: cached vs recomputed balances, per-entry sums, the
    grand total, open holds vs escrow, accounts (cached or house) below zero that may not be,
    and holds not resolved exactly once (open with a resolving entry, or resolved without
    exactly one)."""
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
                .where(Hold.status == OPEN)
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
    house = (
        await session.scalars(
            select(LedgerAccount.id).where(
                LedgerAccount.kind.in_(sorted(UNCACHED - MAY_GO_NEGATIVE))
            )
        )
    ).all()
    resolutions = func.count(JournalEntry.id)
    resolved_wrongly = (
        await session.execute(
            select(Hold.id, Hold.status, resolutions)
            .outerjoin(
                JournalEntry, and_(JournalEntry.hold_id == Hold.id, JournalEntry.kind != "hold")
            )
            .group_by(Hold.id, Hold.status)
            .having(resolutions != case((Hold.status == OPEN, 0), else_=1))
        )
    ).all()
    return {
        "holds_resolved_wrongly": [(int(i), str(s), int(n)) for i, s, n in resolved_wrongly],
        "recomputed": {int(k): int(v) for k, v in recomputed.items()},
        "cached": {int(k): int(v) for k, v in cached.items()},
        "unbalanced_entries": [int(r[0]) for r in unbalanced],
        "total": int(total or 0),
        "open_holds": {k: int(v) for k, v in open_holds.items()},
        "escrow": {k: int(v) for k, v in escrow.items()},
        "negative": [int(r[0]) for r in negative],
        "house_negative": [int(a) for a in house if int(recomputed.get(a, 0)) < 0],
    }

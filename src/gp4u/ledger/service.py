"""Ledger operations. Each runs in its own money transaction: lock the balances it touches,
check funds, write one balanced journal entry, update the cached balances. A request that
carries an idempotency key returns the first response on replay; the same key with another
payload is refused; a concurrent duplicate waits for the first and gets its response."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.errors import AppError, Conflict, InvalidInput, NotFound
from gp4u.ledger import entries
from gp4u.ledger import repository as repo
from gp4u.ledger.entries import ESCROW, WALLET, Leg
from gp4u.ledger.models import Hold, IdempotencyRecord

Sessions = async_sessionmaker[AsyncSession]


class InsufficientFunds(AppError):
    status_code = 402


def _positive(amount: int) -> int:
    if not isinstance(amount, int) or amount <= 0:
        raise InvalidInput("amount must be a positive number of micro-USD", field="amount")
    return amount


async def _move(
    session: AsyncSession,
    kind: str,
    owner: str,
    legs: list[Leg],
    now: datetime,
    *,
    check_wallet: bool = False,
    hold_id: int | None = None,
    memo: dict[str, Any] | None = None,
) -> int:
    accounts = await repo.account_ids(
        session, [(leg.owner, leg.kind) for leg in legs] + [(owner, WALLET), (owner, ESCROW)], now
    )
    cached = [i for (_, kind), i in accounts.items() if kind not in entries.UNCACHED]
    balances = await repo.lock_balances(session, cached)
    if check_wallet:
        wallet = accounts[(owner, WALLET)]
        need = -sum(leg.amount for leg in legs if (leg.owner, leg.kind) == (owner, WALLET))
        if balances[wallet] < need:
            raise InsufficientFunds(
                f"insufficient funds: {need / 1e6:.2f} USD needed, "
                f"{balances[wallet] / 1e6:.2f} USD available"
            )
    return await repo.write_entry(
        session,
        kind=kind,
        owner=owner,
        legs=legs,
        accounts=accounts,
        now=now,
        hold_id=hold_id,
        memo=memo,
    )


async def balance(session: AsyncSession, owner: str) -> dict[str, int]:
    """posted (wallet + held), pending (held) and available (wallet), in micro-USD."""
    found = await repo.balances_of(session, owner)
    available, pending = found.get(WALLET, 0), found.get(ESCROW, 0)
    return {"posted": available + pending, "pending": pending, "available": available}


async def deposit(session: AsyncSession, owner: str, amount: int, now: datetime) -> dict[str, Any]:
    entry = await _move(session, "deposit", owner, entries.deposit(owner, _positive(amount)), now)
    return {"entry_id": entry, **await balance(session, owner)}


async def withdraw(session: AsyncSession, owner: str, amount: int, now: datetime) -> dict[str, Any]:
    legs = entries.withdraw(owner, _positive(amount))
    entry = await _move(session, "withdraw", owner, legs, now, check_wallet=True)
    return {"entry_id": entry, **await balance(session, owner)}


async def authorise(
    session: AsyncSession, owner: str, amount: int, now: datetime, ttl: timedelta
) -> dict[str, Any]:
    """Move `amount` from the wallet to escrow for a booking or session."""
    legs = entries.authorise(owner, _positive(amount))
    hold = Hold(
        owner=owner,
        amount=amount,
        captured=0,
        status=entries.OPEN,
        expires_at=now + ttl,
        created_at=now,
    )
    session.add(hold)
    await session.flush()
    await _move(session, "hold", owner, legs, now, check_wallet=True, hold_id=hold.id)
    return {"hold_id": hold.id, **await balance(session, owner)}


async def _open_hold(session: AsyncSession, owner: str, hold_id: int) -> Hold:
    hold = await repo.hold_for_update(session, hold_id)
    if hold is None or hold.owner != owner:
        raise NotFound(f"no hold {hold_id}")
    return hold


async def capture(
    session: AsyncSession,
    owner: str,
    hold_id: int,
    amount: int,
    now: datetime,
    *,
    host: str | None = None,
    fee_basis_points: int = 0,
) -> dict[str, Any]:
    """Take `amount` (≤ the hold) to the host (less the fee) or the platform; the rest of the
    hold returns to the wallet. Once."""
    hold = await _open_hold(session, owner, hold_id)
    try:
        hold.status = entries.resolve(hold.status, entries.CAPTURED)
        legs = entries.capture(owner, hold.amount, amount, host, fee_basis_points)
    except entries.HoldResolved as exc:
        raise Conflict(str(exc)) from exc
    except ValueError as exc:
        raise InvalidInput(str(exc), field="amount") from exc
    hold.captured, hold.resolved_at = amount, now
    await _move(session, "capture", owner, legs, now, hold_id=hold.id)
    return {"hold_id": hold.id, "captured": amount, **await balance(session, owner)}


async def release(
    session: AsyncSession, owner: str, hold_id: int, now: datetime, *, expired: bool = False
) -> dict[str, Any]:
    """Void (or expire) a hold: all of it returns to the wallet. Once."""
    hold = await _open_hold(session, owner, hold_id)
    try:
        hold.status = entries.resolve(hold.status, entries.EXPIRED if expired else entries.VOIDED)
    except entries.HoldResolved as exc:
        raise Conflict(str(exc)) from exc
    hold.resolved_at = now
    kind = "expire" if expired else "void"
    await _move(session, kind, owner, entries.release(owner, hold.amount), now, hold_id=hold.id)
    return {"hold_id": hold.id, "status": hold.status, **await balance(session, owner)}


async def expire_due(sessions: Sessions, now: datetime) -> int:
    """Expire every open hold past its time (each in its own transaction)."""
    async with sessions() as session:
        due = await repo.due_holds(session, now)
    done = 0
    for hold_id in due:
        async with repo.money_transaction(sessions) as session:
            hold = await repo.hold_for_update(session, hold_id)
            if hold is None or hold.status != entries.OPEN:
                continue  # resolved meanwhile
            await release(session, hold.owner, hold_id, now, expired=True)
            done += 1
    return done


def fingerprint(operation: str, payload: dict[str, Any]) -> str:
    body = orjson.dumps({"op": operation, **payload}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()


async def idempotent(
    sessions: Sessions,
    owner: str,
    key: str | None,
    operation: str,
    payload: dict[str, Any],
    work: Callable[[AsyncSession], Awaitable[dict[str, Any]]],
    now: datetime,
) -> dict[str, Any]:
    """Run `work` once per (owner, key): a replay returns the stored response; the same key
    with a different payload is refused (409). The record and the money move commit together,
    so a failed attempt leaves no record and may be retried with the same key."""
    if key is None:
        async with repo.money_transaction(sessions) as session:
            return await work(session)
    if not 1 <= len(key) <= 200:
        raise InvalidInput("Idempotency-Key must be 1-200 characters", field="Idempotency-Key")
    print_ = fingerprint(operation, payload)
    for _ in range(3):
        try:
            async with repo.money_transaction(sessions) as session:
                found = await repo.idempotency_record(session, owner, key)
                if found is not None:
                    return _replay(found, print_)
                response = await work(session)
                session.add(
                    IdempotencyRecord(
                        owner=owner,
                        key=key,
                        fingerprint=print_,
                        response=response,
                        created_at=now,
                    )
                )
                await session.flush()
                return response
        except IntegrityError:
            continue  # a concurrent duplicate committed first: read its response
    raise Conflict("the same Idempotency-Key is being used concurrently; retry")


def _replay(found: IdempotencyRecord, print_: str) -> dict[str, Any]:
    if found.fingerprint != print_:
        raise Conflict(
            "this Idempotency-Key was used with a different request", field="Idempotency-Key"
        )
    return {**found.response, "replayed": True}


async def audit(session: AsyncSession) -> list[str]:
    """Every inconsistency found (empty when the ledger is sound)."""
    rows = await repo.audit_rows(session)
    problems = []
    for account_id, cached in rows["cached"].items():
        actual = rows["recomputed"].get(account_id, 0)
        if cached != actual:
            problems.append(f"account {account_id}: cached {cached} != postings {actual}")
    if rows["total"] != 0:
        problems.append(f"all postings sum to {rows['total']}, not 0")
    for entry_id in rows["unbalanced_entries"]:
        problems.append(f"entry {entry_id} does not balance")
    for owner in set(rows["open_holds"]) | set(rows["escrow"]):
        held, escrow = rows["open_holds"].get(owner, 0), rows["escrow"].get(owner, 0)
        if held != escrow:
            problems.append(f"{owner}: open holds {held} != escrow {escrow}")
    problems += [f"account {a} is negative" for a in rows["negative"]]
    return problems

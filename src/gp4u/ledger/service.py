"""Ledger operations: deposit, withdraw, holds (authorise, capture, release, expire, payout),
refunds, balances and the audit. Each runs inside the caller's money transaction and posts one
balanced journal entry: lock the balances it touches, check funds, write the entry, move the
cached balances (one statement on PostgreSQL, see the repository). A request that
carries an idempotency key returns the first response on replay; the same key with another
payload is refused; a concurrent duplicate waits for the first and gets its response."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, NoReturn

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.errors import AppError, Conflict, InvalidInput, NotFound
from gp4u.ledger import entries
from gp4u.ledger import repository as repo
from gp4u.ledger.entries import ESCROW, HOST, WALLET, Leg

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
    legs: list[Leg] | repo.LegsOf,
    now: datetime,
    *,
    check_wallet: bool = False,
    new_hold: repo.NewHold | None = None,
    resolve: repo.Resolve | None = None,
    memo: dict[str, Any] | None = None,
) -> repo.Posted:
    """Post one journal entry for `owner` (creating missing accounts); with `check_wallet`,
    refuse it if the owner's wallet cannot pay its part; with `resolve`, resolve that hold of
    the owner in the same step (the legs are then a function of the amount held)."""
    posted = await repo.post_entry(
        session,
        kind=kind,
        owner=owner,
        legs=legs,
        now=now,
        check=(owner, WALLET) if check_wallet else None,
        report=[(owner, WALLET), (owner, ESCROW)],
        new_hold=new_hold,
        resolve=resolve,
        memo=memo,
    )
    if isinstance(posted, repo.Shortfall):
        raise InsufficientFunds(
            f"insufficient funds: {posted.need / 1e6:.2f} USD needed, "
            f"{posted.available / 1e6:.2f} USD available"
        )
    if isinstance(posted, repo.Unresolved):
        assert resolve is not None
        await _unresolvable(session, owner, resolve)
    assert isinstance(posted, repo.Posted)
    return posted


async def _unresolvable(session: AsyncSession, owner: str, resolve: repo.Resolve) -> NoReturn:
    """Why a hold could not be resolved: NotFound for another owner's hold, Conflict if it is
    already resolved, InvalidInput if the capture does not fit in it."""
    state = await repo.hold_state(session, resolve.hold_id)
    if state is None or state.owner != owner:
        raise NotFound(f"no hold {resolve.hold_id}")
    try:
        entries.resolve(state.status, resolve.status)
    except entries.HoldResolved as exc:
        raise Conflict(str(exc)) from exc
    raise InvalidInput(f"capture {resolve.captured} of a hold of {state.amount}", field="amount")


def _balances(posted: repo.Posted, owner: str) -> dict[str, int]:
    """The owner's balances right after the entry (the same shape as `balance`)."""
    available, pending = posted.after[(owner, WALLET)], posted.after[(owner, ESCROW)]
    return {"posted": available + pending, "pending": pending, "available": available}


async def balance(session: AsyncSession, owner: str) -> dict[str, int]:
    """posted (wallet + held), pending (held) and available (wallet), in micro-USD."""
    found = await repo.balances_of(session, owner)
    available, pending = found.get(WALLET, 0), found.get(ESCROW, 0)
    return {"posted": available + pending, "pending": pending, "available": available}


async def deposit(session: AsyncSession, owner: str, amount: int, now: datetime) -> dict[str, Any]:
    posted = await _move(session, "deposit", owner, entries.deposit(owner, _positive(amount)), now)
    return {"entry_id": posted.entry_id, **_balances(posted, owner)}


async def withdraw(session: AsyncSession, owner: str, amount: int, now: datetime) -> dict[str, Any]:
    legs = entries.withdraw(owner, _positive(amount))
    posted = await _move(session, "withdraw", owner, legs, now, check_wallet=True)
    return {"entry_id": posted.entry_id, **_balances(posted, owner)}


async def authorise(
    session: AsyncSession, owner: str, amount: int, now: datetime, ttl: timedelta
) -> dict[str, Any]:
    """Move `amount` from the wallet to escrow for a booking or session."""
    legs = entries.authorise(owner, _positive(amount))
    posted = await _move(
        session,
        "hold",
        owner,
        legs,
        now,
        check_wallet=True,
        new_hold=repo.NewHold(amount=amount, expires_at=now + ttl),
    )
    assert posted.hold_id is not None
    return {"hold_id": posted.hold_id, **_balances(posted, owner)}


async def capture(
    session: AsyncSession,
    owner: str,
    hold_id: int,
    amount: int,
    now: datetime,
    *,
    host: str | None = None,
    fee_basis_points: int = 0,
    fee: int | None = None,
) -> dict[str, Any]:
    """Take `amount` (≤ the hold) to the host (less the fee: `fee` if given, else
    `fee_basis_points` of the amount) or the platform; the rest of the hold returns to the
    wallet. Once."""
    if not 0 <= fee_basis_points <= 10_000:
        raise InvalidInput("the fee must be 0-10000 basis points", field="fee_basis_points")
    resolve = repo.Resolve(hold_id, entries.CAPTURED, captured=amount)
    if amount < 0:
        await _unresolvable(session, owner, resolve)
    if fee is not None and not 0 <= fee <= amount:
        raise InvalidInput(f"a fee of {fee} on a capture of {amount}", field="fee")

    def legs(held: int) -> list[Leg]:
        return entries.capture(owner, held, amount, host, fee_basis_points, fee)

    posted = await _move(session, "capture", owner, legs, now, resolve=resolve)
    return {"hold_id": hold_id, "captured": amount, **_balances(posted, owner)}


async def collect_earnings(
    session: AsyncSession, host: str, amount: int, now: datetime
) -> dict[str, Any]:
    """Move `amount` of a host's earnings into their wallet (InsufficientFunds beyond them)."""
    posted = await repo.post_entry(
        session,
        kind="earnings",
        owner=host,
        legs=entries.collect_earnings(host, _positive(amount)),
        now=now,
        check=(host, HOST),
        report=[(host, WALLET), (host, ESCROW), (host, HOST)],
    )
    if isinstance(posted, repo.Shortfall):
        raise InsufficientFunds(
            f"insufficient earnings: {posted.need / 1e6:.2f} USD asked, "
            f"{posted.available / 1e6:.2f} USD earned and not yet paid out"
        )
    assert isinstance(posted, repo.Posted)
    return {"entry_id": posted.entry_id, "earnings": posted.after[(host, HOST)]}


async def earnings(session: AsyncSession, host: str) -> int:
    """A host's earnings not yet paid out, in micro-USD."""
    return (await repo.balances_of(session, host)).get(HOST, 0)


async def payout(session: AsyncSession, owner: str, hold_id: int, now: datetime) -> dict[str, Any]:
    """Settle a withdrawal hold: the whole held amount leaves escrow for the outside world (the
    user's bank), and the hold is captured. Once. A withdrawal is `authorise` when it is
    requested, `payout` when the bank transfer is sent, `release` if it cannot be."""
    resolve = repo.Resolve(hold_id, entries.CAPTURED, capture_all=True)
    legs = partial(entries.payout, owner)
    posted = await _move(session, "payout", owner, legs, now, resolve=resolve)
    return {"hold_id": hold_id, "paid_out": posted.held, **_balances(posted, owner)}


async def refund(
    session: AsyncSession, owner: str, amount: int, now: datetime, *, reason: str
) -> dict[str, Any]:
    """Give `amount` back to the owner's wallet out of platform revenue (for example after a
    failed session). Platform revenue may not go negative in aggregate: a refund larger than
    all revenue so far is refused (InsufficientFunds). Refunds take turns on the platform
    account; captures never wait for them."""
    _positive(amount)
    if not reason.strip():
        raise InvalidInput("a refund needs a reason", field="reason")
    revenue = await repo.platform_revenue_for_update(session)
    if revenue < amount:
        raise InsufficientFunds(
            f"platform revenue of {revenue / 1e6:.2f} USD cannot cover a refund of "
            f"{amount / 1e6:.2f} USD"
        )
    legs = entries.refund(owner, amount)
    posted = await _move(session, "refund", owner, legs, now, memo={"reason": reason})
    return {"entry_id": posted.entry_id, **_balances(posted, owner)}


async def release(
    session: AsyncSession, owner: str, hold_id: int, now: datetime, *, expired: bool = False
) -> dict[str, Any]:
    """Void (or expire) a hold: all of it returns to the wallet. Once."""
    status = entries.EXPIRED if expired else entries.VOIDED
    legs = partial(entries.release, owner)
    kind = "expire" if expired else "void"
    posted = await _move(session, kind, owner, legs, now, resolve=repo.Resolve(hold_id, status))
    return {"hold_id": hold_id, "status": status, **_balances(posted, owner)}


async def expire_due(sessions: Sessions, now: datetime) -> int:
    """Expire every open hold past its time (each in its own transaction)."""
    async with sessions() as session:
        due = await repo.due_holds(session, now)
    done = 0
    for hold_id, owner in due:
        try:
            async with repo.money_transaction(sessions) as session:
                await release(session, owner, hold_id, now, expired=True)
        except Conflict:
            continue  # resolved meanwhile
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
                await repo.save_idempotency_record(session, owner, key, print_, response, now)
                return response
        except IntegrityError:
            continue  # a concurrent duplicate committed first: read its response
    raise Conflict("the same Idempotency-Key is being used concurrently; retry")


async def replayed(
    sessions: Sessions, owner: str, key: str | None, operation: str, payload: dict[str, Any]
) -> dict[str, Any] | None:
    """The stored answer of a request already made with this key (None when there is none),
    for callers with slow work to skip before `idempotent` (409 for a different payload)."""
    if key is None or not 1 <= len(key) <= 200:
        return None
    async with sessions() as session:
        found = await repo.idempotency_record(session, owner, key)
    return None if found is None else _replay(found, fingerprint(operation, payload))


def _replay(found: repo.StoredResponse, print_: str) -> dict[str, Any]:
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
    problems += [f"house account {a} is negative in aggregate" for a in rows["house_negative"]]
    problems += [
        f"hold {hold_id} is {status} with {count} resolving entries"
        for hold_id, status, count in rows["holds_resolved_wrongly"]
    ]
    return problems

"""The ledger on both databases: balanced entries, holds resolved once, idempotency, the
append-only rule enforced by the database, and 200 concurrent holds that never overdraw."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.clock import FrozenClock
from gp4u.kit.errors import Conflict
from gp4u.ledger import service
from gp4u.ledger.repository import money_transaction

Sessions = async_sessionmaker[AsyncSession]
USD = 1_000_000


async def _audit(sessions: Sessions) -> list[str]:
    async with sessions() as session:
        return await service.audit(session)


async def test_deposit_hold_partial_capture_void_expire_withdraw(
    sessions: Sessions, clock: FrozenClock
) -> None:
    now = clock.now()
    async with money_transaction(sessions) as s:
        assert (await service.deposit(s, "ann", 100 * USD, now))["available"] == 100 * USD
    async with money_transaction(sessions) as s:
        held = await service.authorise(s, "ann", 30 * USD, now, timedelta(hours=1))
    assert (held["available"], held["pending"], held["posted"]) == (70 * USD, 30 * USD, 100 * USD)
    async with money_transaction(sessions) as s:
        done = await service.capture(
            s, "ann", held["hold_id"], 20 * USD, now, host="hal", fee_basis_points=1000
        )
    assert (done["available"], done["pending"]) == (80 * USD, 0)
    async with money_transaction(sessions) as s:
        assert await service.balance(s, "hal") == {"posted": 0, "pending": 0, "available": 0}
        host = await s.execute(
            text(
                "SELECT b.balance FROM account_balances b JOIN ledger_accounts a ON a.id = b.account_id "
                "WHERE a.owner = 'hal' AND a.kind = 'host_earnings'"
            )
        )
        assert host.scalar_one() == 18 * USD  # 20 less the 10 % fee
    with pytest.raises(Conflict, match="already captured"):
        async with money_transaction(sessions) as s:
            await service.release(s, "ann", held["hold_id"], now)
    async with money_transaction(sessions) as s:
        second = await service.authorise(s, "ann", 50 * USD, now, timedelta(minutes=5))
        third = await service.authorise(s, "ann", 10 * USD, now, timedelta(hours=5))
    async with money_transaction(sessions) as s:
        await service.release(s, "ann", third["hold_id"], now)
    clock.advance(timedelta(minutes=10))
    assert await service.expire_due(sessions, clock.now()) == 1  # the second, not the voided
    assert await service.expire_due(sessions, clock.now()) == 0
    async with money_transaction(sessions) as s:
        out = await service.withdraw(s, "ann", 80 * USD, clock.now())
    assert (out["available"], out["posted"]) == (0, 0)
    with pytest.raises(service.InsufficientFunds, match="insufficient funds"):
        async with money_transaction(sessions) as s:
            await service.withdraw(s, "ann", 1, clock.now())
    assert second["hold_id"] != third["hold_id"]
    assert await _audit(sessions) == []


async def test_postings_and_entries_cannot_be_changed_or_deleted(
    sessions: Sessions, clock: FrozenClock
) -> None:
    async with money_transaction(sessions) as s:
        await service.deposit(s, "ann", 5 * USD, clock.now())
    for statement in (
        "UPDATE postings SET amount = amount + 1",
        "DELETE FROM postings",
        "UPDATE journal_entries SET kind = 'gift'",
        "DELETE FROM journal_entries",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with sessions() as s:
                await s.execute(text(statement))
                await s.commit()
    assert await _audit(sessions) == []


async def test_the_audit_finds_a_tampered_cached_balance(
    sessions: Sessions, clock: FrozenClock
) -> None:
    async with money_transaction(sessions) as s:
        await service.deposit(s, "ann", 5 * USD, clock.now())
    async with sessions() as s:
        await s.execute(text("UPDATE account_balances SET balance = balance + 1 WHERE balance > 0"))
        await s.commit()
    problems = await _audit(sessions)
    assert problems and "cached" in problems[0]


async def test_200_concurrent_holds_of_10_against_1000_exactly_100_succeed(
    sessions: Sessions, clock: FrozenClock
) -> None:
    now = clock.now()
    async with money_transaction(sessions) as s:
        await service.deposit(s, "bob", 1000 * USD, now)

    async def one() -> str:
        try:
            async with money_transaction(sessions) as s:
                await service.authorise(s, "bob", 10 * USD, now, timedelta(hours=1))
            return "ok"
        except service.InsufficientFunds:
            return "insufficient"

    results = await asyncio.gather(*(one() for _ in range(200)))
    assert (results.count("ok"), results.count("insufficient")) == (100, 100)
    async with sessions() as s:
        assert await service.balance(s, "bob") == {
            "posted": 1000 * USD,
            "pending": 1000 * USD,
            "available": 0,
        }
    assert await _audit(sessions) == []


async def test_one_idempotency_key_sent_50_times_concurrently_moves_money_once(
    sessions: Sessions, clock: FrozenClock
) -> None:
    now = clock.now()

    async def one() -> dict[str, object]:
        return await service.idempotent(
            sessions,
            "cy",
            "deposit-1",
            "deposit",
            {"amount": 7 * USD},
            lambda s: service.deposit(s, "cy", 7 * USD, now),
            now,
        )

    responses = await asyncio.gather(*(one() for _ in range(50)), return_exceptions=True)
    ok = [r for r in responses if isinstance(r, dict)]
    assert ok and all(not isinstance(r, Exception) or isinstance(r, Conflict) for r in responses)
    assert {r["entry_id"] for r in ok} == {ok[0]["entry_id"]}  # one journal entry
    async with sessions() as s:
        assert (await service.balance(s, "cy"))["available"] == 7 * USD
    with pytest.raises(Conflict, match="different request"):
        await service.idempotent(
            sessions,
            "cy",
            "deposit-1",
            "deposit",
            {"amount": 8 * USD},
            lambda s: service.deposit(s, "cy", 8 * USD, now),
            now,
        )
    assert await _audit(sessions) == []

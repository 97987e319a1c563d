"""The ledger on both databases: balanced entries, holds resolved once (payout, capture, void,
expiry, also concurrently), refunds bounded by platform revenue, idempotency, the append-only
rule enforced by the database, and concurrent writers that never overdraw or deadlock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.clock import FrozenClock
from gp4u.kit.errors import Conflict, InvalidInput, NotFound
from gp4u.ledger import entries, service
from gp4u.ledger import repository as repo
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


@pytest.mark.tampers_ledger
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


async def _platform_revenue(sessions: Sessions) -> int:
    async with sessions() as s:
        total = await s.scalar(
            text(
                "SELECT coalesce(sum(p.amount), 0) FROM postings p "
                "JOIN ledger_accounts a ON a.id = p.account_id "
                "WHERE a.owner = 'gp4u' AND a.kind = 'platform_revenue'"
            )
        )
    return int(total or 0)


async def test_payout_settles_a_withdrawal_hold_once(
    sessions: Sessions, clock: FrozenClock
) -> None:
    now = clock.now()
    async with money_transaction(sessions) as s:
        await service.deposit(s, "ann", 100 * USD, now)
        held = await service.authorise(s, "ann", 40 * USD, now, timedelta(days=3))
    async with money_transaction(sessions) as s:
        paid = await service.payout(s, "ann", held["hold_id"], now)
    assert paid == {
        "hold_id": held["hold_id"],
        "paid_out": 40 * USD,
        "posted": 60 * USD,
        "pending": 0,
        "available": 60 * USD,
    }
    again: list[Callable[[AsyncSession], Awaitable[object]]] = [
        lambda s: service.payout(s, "ann", held["hold_id"], now),
        lambda s: service.release(s, "ann", held["hold_id"], now),
        lambda s: service.capture(s, "ann", held["hold_id"], 1, now),
    ]
    for resolve_again in again:
        with pytest.raises(Conflict, match="already captured"):
            async with money_transaction(sessions) as s:
                await resolve_again(s)
    async with money_transaction(sessions) as s:
        other = await service.authorise(s, "ann", 10 * USD, now, timedelta(days=3))
    with pytest.raises(NotFound):
        async with money_transaction(sessions) as s:
            await service.payout(s, "bob", other["hold_id"], now)
    async with sessions() as s:
        entry = (
            await s.execute(
                text("SELECT kind, hold_id FROM journal_entries ORDER BY id DESC LIMIT 1 OFFSET 1")
            )
        ).one()
        hold = (
            await s.execute(
                text("SELECT status, captured FROM holds WHERE id = :id"), {"id": held["hold_id"]}
            )
        ).one()
        assert await service.balance(s, "ann") == {
            "posted": 60 * USD,
            "pending": 10 * USD,
            "available": 50 * USD,
        }
    assert (entry.kind, entry.hold_id) == ("payout", held["hold_id"])
    assert (hold.status, hold.captured) == ("captured", 40 * USD)
    assert await _audit(sessions) == []


async def test_a_capture_that_does_not_fit_changes_nothing(
    sessions: Sessions, clock: FrozenClock
) -> None:
    now = clock.now()
    async with money_transaction(sessions) as s:
        await service.deposit(s, "ann", 10 * USD, now)
        held = await service.authorise(s, "ann", 5 * USD, now, timedelta(hours=1))
    for amount in (5 * USD + 1, -1):
        with pytest.raises(InvalidInput, match="capture"):
            async with money_transaction(sessions) as s:
                await service.capture(s, "ann", held["hold_id"], amount, now, host="hal")
    with pytest.raises(NotFound):
        async with money_transaction(sessions) as s:
            await service.capture(s, "bob", held["hold_id"], 1, now)
    with pytest.raises(NotFound):
        async with money_transaction(sessions) as s:
            await service.release(s, "ann", 10_000, now)
    with pytest.raises(InvalidInput, match="basis points"):
        async with money_transaction(sessions) as s:
            await service.capture(s, "ann", held["hold_id"], 1, now, fee_basis_points=10_001)
    async with money_transaction(sessions) as s:
        done = await service.capture(
            s, "ann", held["hold_id"], 5 * USD, now, host="hal", fee_basis_points=1500
        )
    assert (done["available"], done["pending"]) == (5 * USD, 0)
    assert await _platform_revenue(sessions) == 750_000
    assert await _audit(sessions) == []


async def test_refunds_come_out_of_platform_revenue_which_never_goes_negative(
    sessions: Sessions, clock: FrozenClock
) -> None:
    now = clock.now()
    with pytest.raises(service.InsufficientFunds, match="platform revenue"):
        async with money_transaction(sessions) as s:
            await service.refund(s, "ann", 1, now, reason="failed session")
    async with money_transaction(sessions) as s:
        await service.deposit(s, "ann", 10 * USD, now)
        held = await service.authorise(s, "ann", 10 * USD, now, timedelta(hours=1))
        await service.capture(s, "ann", held["hold_id"], 4 * USD, now)  # all to the platform
    with pytest.raises(InvalidInput, match="reason"):
        async with money_transaction(sessions) as s:
            await service.refund(s, "ann", 1 * USD, now, reason=" ")
    async with money_transaction(sessions) as s:
        refunded = await service.refund(s, "ann", 3 * USD, now, reason="failed session")
    assert (refunded["available"], refunded["pending"]) == (9 * USD, 0)
    with pytest.raises(service.InsufficientFunds, match="cannot cover"):
        async with money_transaction(sessions) as s:
            await service.refund(s, "ann", 1 * USD + 1, now, reason="too much")
    assert await _platform_revenue(sessions) == 1 * USD
    async with sessions() as s:
        entry = (
            await s.execute(text("SELECT kind, memo FROM journal_entries ORDER BY id DESC LIMIT 1"))
        ).one()
    memo = entry.memo if isinstance(entry.memo, dict) else json.loads(entry.memo)
    assert (entry.kind, memo) == ("refund", {"reason": "failed session"})
    assert await _audit(sessions) == []


async def test_concurrent_payouts_voids_and_expiries_of_one_hold_resolve_it_once(
    sessions: Sessions, clock: FrozenClock
) -> None:
    now = clock.now()
    async with money_transaction(sessions) as s:
        await service.deposit(s, "ann", 100 * USD, now)
    holds = []
    for _ in range(5):
        async with money_transaction(sessions) as s:
            holds.append(
                (await service.authorise(s, "ann", 10 * USD, now, timedelta(seconds=1)))["hold_id"]
            )
    later = now + timedelta(minutes=1)

    async def attempt(hold_id: int, how: int) -> str:
        try:
            async with money_transaction(sessions) as s:
                if how == 0:
                    await service.payout(s, "ann", hold_id, later)
                elif how == 1:
                    await service.release(s, "ann", hold_id, later)
                else:
                    await service.capture(s, "ann", hold_id, 3 * USD, later, host="hal")
            return "ok"
        except Conflict:
            return "conflict"

    results = await asyncio.gather(
        *(attempt(h, i % 3) for h in holds for i in range(6)),
        *(service.expire_due(sessions, later) for _ in range(3)),
    )
    attempts, expired = results[: len(holds) * 6], results[len(holds) * 6 :]
    assert attempts.count("ok") + sum(expired) == len(holds)  # type: ignore[arg-type]
    async with sessions() as s:
        statuses = (await s.execute(text("SELECT status FROM holds"))).scalars().all()
        resolutions = await s.scalar(
            text(
                "SELECT count(*) FROM journal_entries WHERE hold_id IS NOT NULL AND kind <> 'hold'"
            )
        )
    assert "open" not in statuses and resolutions == len(holds)
    assert await _audit(sessions) == []


async def test_concurrent_refunds_never_overdraw_platform_revenue(
    sessions: Sessions, clock: FrozenClock
) -> None:
    now = clock.now()
    async with money_transaction(sessions) as s:
        await service.deposit(s, "ann", 10 * USD, now)
        held = await service.authorise(s, "ann", 10 * USD, now, timedelta(hours=1))
        await service.capture(s, "ann", held["hold_id"], 10 * USD, now)

    async def one(i: int) -> str:
        try:
            async with money_transaction(sessions) as s:
                await service.refund(s, f"user{i % 4}", 1 * USD, now, reason="outage")
            return "ok"
        except service.InsufficientFunds:
            return "refused"

    results = await asyncio.gather(*(one(i) for i in range(30)))
    assert (results.count("ok"), results.count("refused")) == (10, 20)
    assert await _platform_revenue(sessions) == 0
    assert await _audit(sessions) == []


async def test_many_writers_sharing_accounts_and_creating_them_never_deadlock(
    sessions: Sessions, clock: FrozenClock
) -> None:
    """Deposits, holds and captures from 8 owners to 3 hosts that do not exist yet, at once:
    accounts are created once, row locks are taken in one order, every entry balances."""
    now = clock.now()

    async def owner(i: int) -> None:
        me = f"user{i}"
        async with money_transaction(sessions) as s:
            await service.deposit(s, me, 30 * USD, now)
        for round_ in range(3):
            async with money_transaction(sessions) as s:
                held = await service.authorise(s, me, 5 * USD, now, timedelta(hours=1))
            async with money_transaction(sessions) as s:
                await service.capture(
                    s,
                    me,
                    held["hold_id"],
                    4 * USD,
                    now,
                    host=f"host{(i + round_) % 3}",
                    fee_basis_points=1000,
                )

    await asyncio.gather(*(owner(i) for i in range(8)))
    async with sessions() as s:
        hosts = (
            await s.execute(
                text(
                    "SELECT a.owner, b.balance FROM ledger_accounts a "
                    "JOIN account_balances b ON b.account_id = a.id "
                    "WHERE a.kind = 'host_earnings' ORDER BY a.owner"
                )
            )
        ).all()
        for i in range(8):
            assert (await service.balance(s, f"user{i}"))["available"] == 18 * USD
    assert [h.owner for h in hosts] == ["host0", "host1", "host2"]
    assert sum(h.balance for h in hosts) == 8 * 3 * 3_600_000
    assert await _platform_revenue(sessions) == 8 * 3 * 400_000
    assert await _audit(sessions) == []


@pytest.mark.tampers_ledger
async def test_the_audit_finds_negative_platform_revenue(
    sessions: Sessions, clock: FrozenClock
) -> None:
    """A refund written behind the service's back (no revenue to cover it) is caught."""
    now = clock.now()
    async with money_transaction(sessions) as s:
        await repo.post_entry(s, kind="refund", owner="ann", legs=entries.refund("ann", 5), now=now)
    problems = await _audit(sessions)
    assert len(problems) == 1 and "negative in aggregate" in problems[0]


@pytest.mark.tampers_ledger
async def test_the_audit_finds_a_hold_resolved_twice_or_not_at_all(
    sessions: Sessions, clock: FrozenClock
) -> None:
    now = clock.now()
    async with money_transaction(sessions) as s:
        await service.deposit(s, "ann", 10 * USD, now)
        first = await service.authorise(s, "ann", 1 * USD, now, timedelta(hours=1))
        second = await service.authorise(s, "ann", 1 * USD, now, timedelta(hours=1))
        await service.release(s, "ann", first["hold_id"], now)
    assert await _audit(sessions) == []
    async with sessions() as s:  # behind the service's back: a second void, a silent one
        await s.execute(
            text(
                "INSERT INTO journal_entries (kind, owner, hold_id, memo, created_at) "
                "VALUES ('void', 'ann', :id, '{}', :now)"
            ),
            {"id": first["hold_id"], "now": now},
        )
        await s.execute(
            text("UPDATE holds SET status = 'voided' WHERE id = :id"), {"id": second["hold_id"]}
        )
        await s.commit()
    problems = await _audit(sessions)
    assert f"hold {first['hold_id']} is voided with 2 resolving entries" in problems
    assert f"hold {second['hold_id']} is voided with 0 resolving entries" in problems

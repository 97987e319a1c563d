"""A stateful property test of the ledger: random sequences of deposits, holds, partial
captures (to a host or the platform), voids, expiries, payouts, refunds, withdrawals, second
attempts to resolve a hold and idempotent replays, checked after every step against an
in-memory model and the audit (postings sum to zero, every entry balances, nothing negative,
platform revenue as the model says)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import text

from gp4u.db.engine import create_engine, session_factory
from gp4u.kit.errors import Conflict
from gp4u.ledger import service
from gp4u.ledger.repository import money_transaction
from tests.conftest import LANES, empty_postgres

USERS = ("ann", "bob")
T0 = datetime(2026, 11, 1, tzinfo=UTC)
amounts = st.integers(min_value=1, max_value=50_000_000)


class LedgerMachine(RuleBasedStateMachine):
    """An empty ledger per run: a copy of the migrated SQLite template, or the PostgreSQL test
    database with the ledger's tables emptied."""

    template: Path
    postgres_url: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        if self.postgres_url is not None:
            self.engine = create_engine(self.postgres_url)
            self.run(empty_postgres(self.engine))
        else:
            path = self.template.parent / f"model-{id(self)}.sqlite3"
            path.write_bytes(self.template.read_bytes())
            self.engine = create_engine(f"sqlite+aiosqlite:///{path}")
        self.sessions = session_factory(self.engine)
        self.now = T0
        self.wallet = dict.fromkeys(USERS, 0)
        self.holds: dict[int, tuple[str, int]] = {}  # open holds: id → (owner, amount)
        self.resolved: dict[int, str] = {}  # resolved holds: id → owner
        self.revenue = 0  # the platform's
        self.replies: dict[str, tuple[int, dict[str, Any]]] = {}

    def run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    async def _money(self, op: Any) -> Any:
        async with money_transaction(self.sessions) as session:
            return await op(session)

    @rule(user=st.sampled_from(USERS), amount=amounts)
    def deposit(self, user: str, amount: int) -> None:
        self.run(self._money(lambda s: service.deposit(s, user, amount, self.now)))
        self.wallet[user] += amount

    @rule(user=st.sampled_from(USERS), amount=amounts, key=st.sampled_from(["k1", "k2", "k3"]))
    def idempotent_deposit(self, user: str, amount: int, key: str) -> None:
        async def go() -> Any:
            return await service.idempotent(
                self.sessions,
                user,
                key,
                "deposit",
                {"amount": amount},
                lambda s: service.deposit(s, user, amount, self.now),
                self.now,
            )

        earlier = self.replies.get(f"{user}:{key}")
        try:
            reply = self.run(go())
        except Conflict:
            assert earlier is not None and earlier[0] != amount
            return
        if earlier is None:
            self.replies[f"{user}:{key}"] = (amount, reply)
            self.wallet[user] += amount
        else:
            assert reply["entry_id"] == earlier[1]["entry_id"] and reply.get("replayed")

    @rule(user=st.sampled_from(USERS), amount=amounts)
    def hold(self, user: str, amount: int) -> None:
        try:
            reply = self.run(
                self._money(
                    lambda s: service.authorise(s, user, amount, self.now, timedelta(hours=1))
                )
            )
        except service.InsufficientFunds:
            assert amount > self.wallet[user]
            return
        self.wallet[user] -= amount
        self.holds[reply["hold_id"]] = (user, amount)

    @precondition(lambda self: bool(self.holds))
    @rule(data=st.data(), host=st.sampled_from(["hal", None]))
    def capture(self, data: Any, host: str | None) -> None:
        hold_id = data.draw(st.sampled_from(sorted(self.holds)))
        owner, held = self.holds.pop(hold_id)
        take = data.draw(st.integers(min_value=0, max_value=held))
        self.run(
            self._money(
                lambda s: service.capture(
                    s, owner, hold_id, take, self.now, host=host, fee_basis_points=1500
                )
            )
        )
        self.wallet[owner] += held - take
        self.revenue += take if host is None else take * 1500 // 10_000
        self.resolved[hold_id] = owner

    @precondition(lambda self: bool(self.holds))
    @rule(data=st.data())
    def payout(self, data: Any) -> None:
        hold_id = data.draw(st.sampled_from(sorted(self.holds)))
        owner, held = self.holds.pop(hold_id)
        reply = self.run(self._money(lambda s: service.payout(s, owner, hold_id, self.now)))
        assert reply["paid_out"] == held
        self.resolved[hold_id] = owner

    @precondition(lambda self: bool(self.resolved))
    @rule(data=st.data(), how=st.sampled_from(["payout", "void", "capture"]))
    def resolve_again(self, data: Any, how: str) -> None:
        hold_id = data.draw(st.sampled_from(sorted(self.resolved)))
        owner = self.resolved[hold_id]

        async def again(s: Any) -> Any:
            if how == "payout":
                return await service.payout(s, owner, hold_id, self.now)
            if how == "void":
                return await service.release(s, owner, hold_id, self.now)
            return await service.capture(s, owner, hold_id, 0, self.now)

        try:
            self.run(self._money(again))
        except Conflict:
            return
        raise AssertionError(f"hold {hold_id} resolved twice")

    @rule(user=st.sampled_from(USERS), amount=amounts)
    def refund(self, user: str, amount: int) -> None:
        try:
            self.run(
                self._money(lambda s: service.refund(s, user, amount, self.now, reason="test"))
            )
        except service.InsufficientFunds:
            assert amount > self.revenue
            return
        self.revenue -= amount
        self.wallet[user] += amount

    @precondition(lambda self: bool(self.holds))
    @rule(data=st.data())
    def void(self, data: Any) -> None:
        hold_id = data.draw(st.sampled_from(sorted(self.holds)))
        owner, held = self.holds.pop(hold_id)
        self.run(self._money(lambda s: service.release(s, owner, hold_id, self.now)))
        self.wallet[owner] += held
        self.resolved[hold_id] = owner

    @rule()
    def time_passes_and_holds_expire(self) -> None:
        self.now += timedelta(hours=2)
        expired = self.run(service.expire_due(self.sessions, self.now))
        assert expired == len(self.holds)
        for hold_id, (owner, held) in self.holds.items():
            self.wallet[owner] += held
            self.resolved[hold_id] = owner
        self.holds.clear()

    @rule(user=st.sampled_from(USERS), amount=amounts)
    def withdraw(self, user: str, amount: int) -> None:
        try:
            self.run(self._money(lambda s: service.withdraw(s, user, amount, self.now)))
        except service.InsufficientFunds:
            assert amount > self.wallet[user]
            return
        self.wallet[user] -= amount

    @invariant()
    def database_equals_the_model_and_the_audit_passes(self) -> None:
        async def check() -> None:
            async with self.sessions() as session:
                assert await service.audit(session) == []
                for user in USERS:
                    got = await service.balance(session, user)
                    held = sum(a for o, a in self.holds.values() if o == user)
                    assert got == {
                        "posted": self.wallet[user] + held,
                        "pending": held,
                        "available": self.wallet[user],
                    }
                revenue = await session.scalar(
                    text(
                        "SELECT coalesce(sum(p.amount), 0) FROM postings p JOIN ledger_accounts a "
                        "ON a.id = p.account_id WHERE a.kind = 'platform_revenue'"
                    )
                )
                assert revenue == self.revenue

        self.run(check())

    def teardown(self) -> None:
        self.run(self.engine.dispose())
        self.loop.close()


@pytest.mark.parametrize("lane", LANES)
def test_the_ledger_matches_its_model_under_random_operations(
    lane: str, sqlite_template: Path, request: pytest.FixtureRequest
) -> None:
    LedgerMachine.template = sqlite_template
    LedgerMachine.postgres_url = (
        str(request.getfixturevalue("postgres_ready")) if lane == "postgresql" else None
    )
    runner = LedgerMachine.TestCase
    runner.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
    runner().runTest()

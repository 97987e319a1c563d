"""The wallet over HTTP and its spending service, on both databases: deposits and withdrawals
through both test rails, idempotency, transactions, analytics, budgets and their alerts."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.clock import FrozenClock
from gp4u.ledger import service as ledger
from gp4u.ledger.repository import money_transaction
from gp4u.wallet import service
from gp4u.wallet.rails import build_rails
from tests.factories import sign_up

USD = 1_000_000


async def deposit(client: httpx.AsyncClient, amount: str, **extra: str) -> httpx.Response:
    body = {"amount": amount, "rail": "test-instant", "source": "tok_ok"} | extra
    return await client.post("/api/v1/wallet/deposits", json=body)


async def balance(client: httpx.AsyncClient) -> dict[str, float]:
    response = await client.get("/api/v1/wallet")
    assert response.status_code == 200, response.text
    return response.json()


async def audit_is_clean(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        assert await ledger.audit(session) == []


async def test_instant_deposits_settle_or_fail_and_replays_return_the_first_answer(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first = await client.post(
        "/api/v1/wallet/deposits",
        json={"amount": "25.50", "source": "tok_ok"},
        headers={"Idempotency-Key": "dep-1"},
    )
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "settled" and first.json()["amount"] == 25.5
    replay = await client.post(
        "/api/v1/wallet/deposits",
        json={"amount": "25.50", "source": "tok_ok"},
        headers={"Idempotency-Key": "dep-1"},
    )
    assert replay.json()["id"] == first.json()["id"] and replay.json()["replayed"] is True
    other = await client.post(
        "/api/v1/wallet/deposits",
        json={"amount": "99.00", "source": "tok_ok"},
        headers={"Idempotency-Key": "dep-1"},
    )
    assert other.status_code == 409
    declined = await deposit(client, "10", source="tok_decline")
    assert declined.json()["status"] == "failed" and "declined" in declined.json()["failure_reason"]
    assert (await balance(client))["available"] == 25.5
    payments = (await client.get("/api/v1/wallet/payments")).json()["items"]
    assert [p["status"] for p in payments] == ["failed", "settled"]
    await audit_is_clean(sessions)


async def test_bad_amounts_and_rails_are_refused_by_name(client: httpx.AsyncClient) -> None:
    for amount in ("0", "-5", "0.001", "1000000"):
        response = await deposit(client, amount)
        assert response.status_code == 422 and "amount" in response.text, amount
    unknown = await deposit(client, "5", rail="paypal")
    assert unknown.status_code == 400 and unknown.json()["field"] == "rail"
    sneaky = await client.post(
        "/api/v1/wallet/deposits", json={"amount": "5", "source": "tok_ok", "status": "settled"}
    )
    assert sneaky.status_code == 422


async def test_async_rail_settles_later_through_the_settle_job(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
) -> None:
    rails = build_rails(["test-instant", "test-async"], settle_seconds=60)
    ok = await deposit(client, "40", rail="test-async")
    bad = await deposit(client, "15", rail="test-async", source="tok_decline")
    assert ok.json()["status"] == bad.json()["status"] == "pending"
    assert (await balance(client))["available"] == 0
    assert await service.settle_pending(sessions, rails, clock.now()) == {"pending": 2}
    clock.advance(timedelta(seconds=61))
    assert await service.settle_pending(sessions, rails, clock.now()) == {
        "settled": 1,
        "failed": 1,
    }
    assert await service.settle_pending(sessions, rails, clock.now()) == {}
    assert (await balance(client))["available"] == 40
    settled = await client.get(f"/api/v1/wallet/payments/{ok.json()['id']}")
    assert settled.json()["status"] == "settled" and settled.json()["settled_at"]
    await audit_is_clean(sessions)


async def test_withdrawals_hold_at_once_then_pay_out_or_come_back(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
) -> None:
    await deposit(client, "100")
    too_much = await client.post(
        "/api/v1/wallet/withdrawals", json={"amount": "150", "destination": "tok_ok"}
    )
    assert too_much.status_code == 402 and "insufficient funds" in too_much.json()["detail"]
    instant = await client.post(
        "/api/v1/wallet/withdrawals", json={"amount": "30", "destination": "tok_ok"}
    )
    assert instant.json()["status"] == "settled"
    pending = await client.post(
        "/api/v1/wallet/withdrawals",
        json={"amount": "20", "destination": "tok_ok", "rail": "test-async"},
    )
    failing = await client.post(
        "/api/v1/wallet/withdrawals",
        json={"amount": "10", "destination": "tok_decline", "rail": "test-async"},
    )
    assert pending.json()["status"] == failing.json()["status"] == "pending"
    now = await balance(client)
    assert (now["available"], now["held"]) == (40, 30)
    clock.advance(timedelta(seconds=61))
    await service.settle_pending(sessions, build_rails(["test-async"], 60), clock.now())
    now = await balance(client)
    assert (now["available"], now["held"], now["posted"]) == (50, 0, 50)
    kinds = [t["kind"] for t in (await client.get("/api/v1/wallet/transactions")).json()["items"]]
    assert kinds.count("payout") == 2 and kinds.count("void") == 1
    await audit_is_clean(sessions)


async def test_transactions_filter_and_page(client: httpx.AsyncClient) -> None:
    for amount in ("1", "2", "3", "4", "5"):
        await deposit(client, amount)
    await client.post("/api/v1/wallet/withdrawals", json={"amount": "1", "destination": "tok_ok"})
    first = (await client.get("/api/v1/wallet/transactions?kind=deposit&limit=2")).json()
    assert [t["available_change"] for t in first["items"]] == [5, 4]
    second = (
        await client.get(
            f"/api/v1/wallet/transactions?kind=deposit&limit=2&before={first['next_before']}"
        )
    ).json()
    assert [t["available_change"] for t in second["items"]] == [3, 2]
    hold = (await client.get("/api/v1/wallet/transactions?kind=hold")).json()["items"][0]
    assert (hold["available_change"], hold["held_change"]) == (-1, 1)
    capped = await client.get("/api/v1/wallet/transactions?limit=100000")
    assert capped.status_code == 400 and capped.json()["field"] == "limit"


async def test_transactions_download_as_csv_with_the_same_filters(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await deposit(client, "1.25")
    clock.advance(timedelta(days=2))
    middle = clock.now()
    for amount in ("2", "3"):
        await deposit(client, amount)
    await client.post("/api/v1/wallet/withdrawals", json={"amount": "1", "destination": "tok_ok"})
    response = await client.get("/api/v1/wallet/transactions", params={"format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="gp4u-transactions.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    as_json = (await client.get("/api/v1/wallet/transactions")).json()["items"]
    assert [int(r["id"]) for r in rows] == [t["id"] for t in as_json]  # every entry, newest first
    assert [float(r["available_change"]) for r in rows if r["kind"] == "deposit"] == [3, 2, 1.25]
    hold = next(r for r in rows if r["kind"] == "hold")
    assert (float(hold["held_change"]), hold["hold_id"] != "") == (1, True)

    since = middle.isoformat()
    deposits = await client.get(
        "/api/v1/wallet/transactions", params={"format": "csv", "kind": "deposit", "since": since}
    )
    recent = list(csv.DictReader(io.StringIO(deposits.text)))
    assert [(r["kind"], float(r["available_change"])) for r in recent] == [
        ("deposit", 3),
        ("deposit", 2),
    ]
    old = await client.get("/api/v1/wallet/transactions", params={"format": "csv", "until": since})
    assert [float(r["available_change"]) for r in csv.DictReader(io.StringIO(old.text))] == [1.25]
    bad = await client.get("/api/v1/wallet/transactions", params={"format": "xml"})
    assert bad.status_code == 400 and bad.json()["field"] == "format"


async def test_budgets_alert_at_50_80_100_percent_and_refuse_new_spending(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
) -> None:
    await deposit(client, "1000")
    put = await client.put("/api/v1/wallet/budget", json={"monthly_limit": "100.00"})
    assert put.status_code == 200 and put.json()["budget"]["monthly_limit"] == 100
    now, hour = clock.now(), timedelta(hours=1)

    async def spend(amount: int) -> dict[str, object]:
        async with money_transaction(sessions) as session:
            return await service.authorise_spend(
                session, "local", None, amount * USD, "session", "test", hour, now
            )

    first = await spend(55)
    async with money_transaction(sessions) as session:
        await service.capture_spend(
            session, "local", int(first["id"]), 50 * USD, now, host="h1", fee_basis_points=1000
        )
    await spend(31)  # 50 captured + 31 held = 81 %
    refused = None
    try:
        await spend(20)
    except service.BudgetExceeded as exc:
        refused = exc
    assert refused is not None and refused.status_code == 402
    assert "monthly budget of $100.00 would be exceeded" in refused.detail
    await spend(19)  # exactly 100 %
    notes = (await client.get("/api/v1/alerts/notifications")).json()["items"]
    budget_notes = [n for n in notes if n["kind"] == "budget"]
    assert sorted(n["payload"]["threshold"] for n in budget_notes) == [50, 80, 100]
    state = (await client.get("/api/v1/wallet/budget")).json()
    assert state["budget"]["spent"] == 100 and state["budget"]["remaining"] == 0
    analytics = (await client.get("/api/v1/wallet/analytics?days=30")).json()
    assert analytics["total"] == 50 and analytics["by_category"] == {"session": 50}
    assert len(analytics["days"]) == 30 and analytics["days"][-1]["spent"] == 50
    await audit_is_clean(sessions)


async def test_an_api_key_budget_caps_that_key_only(
    accounts_client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
) -> None:
    headers = await sign_up(accounts_client, "lee@example.com")
    key = (
        await accounts_client.post(
            "/api/v1/me/api-keys", json={"name": "ci", "scopes": ["read", "trade"]}, headers=headers
        )
    ).json()
    capped = await accounts_client.put(
        "/api/v1/wallet/budget", json={"monthly_limit": "10", "key_id": key["id"]}, headers=headers
    )
    assert capped.status_code == 200 and capped.json()["keys"][0]["key_id"] == key["id"]
    by_key = await accounts_client.put(
        "/api/v1/wallet/budget",
        json={"monthly_limit": "1000"},
        headers={"Authorization": f"Bearer {key['key']}"},
    )
    assert by_key.status_code == 403  # a key cannot lift caps
    owner = (await accounts_client.get("/api/v1/me", headers=headers)).json()["id"]
    await accounts_client.post(
        "/api/v1/wallet/deposits", json={"amount": "100", "source": "tok_ok"}, headers=headers
    )
    now = clock.now()
    async with money_transaction(sessions) as session:
        await service.authorise_spend(
            session, owner, key["id"], 8 * USD, "session", "x", timedelta(hours=1), now
        )
    async with money_transaction(sessions) as session:
        try:
            await service.authorise_spend(
                session, owner, key["id"], 5 * USD, "session", "y", timedelta(hours=1), now
            )
            raise AssertionError("the key's budget should refuse this")
        except service.BudgetExceeded as exc:
            assert f"API key {key['id']}" in exc.detail
    async with money_transaction(sessions) as session:  # the account itself has no cap
        await service.authorise_spend(
            session, owner, None, 50 * USD, "session", "z", timedelta(hours=1), now
        )

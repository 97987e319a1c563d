"""`GET /api/v1/costs` and `GET /api/v1/costs/users` on both databases: exact to the micro-dollar
across midnight and month ends as the clock moves, the projection and the budget flag, per API
key, only one's own sessions, the admins' view, and a real launch through the fake Vast.ai."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.costs.schemas import CostsOut, UserCostsOut
from gp4u.fakes.kit import FakeState
from gp4u.kit.clock import FrozenClock
from tests.costs.support import USD, add_session, cost_of, micros
from tests.factories import make_admin, sign_up
from tests.provisioning.support import ctx_of, drain, live_tagged

PRICE = 1_234_567  # $1.234567/h: minutes cost fractions of a micro-dollar
LOCAL = "local"


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def move_to(clock: FrozenClock, moment: datetime) -> None:
    clock.advance(moment - clock.now())


async def costs(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/costs", params=params)
    assert response.status_code == 200, response.text
    CostsOut.model_validate(response.json())
    body: dict[str, Any] = response.json()
    return body


def daily(body: dict[str, Any]) -> dict[str, int]:
    return {d["date"]: micros(d["cost"]) for d in body["daily"] if d["cost"]}


def monthly(body: dict[str, Any]) -> dict[str, int]:
    return {m["month"]: micros(m["cost"]) for m in body["monthly"] if m["cost"]}


async def test_a_running_session_is_split_at_midnight_exactly_as_the_clock_moves(
    costs_client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
) -> None:
    sid = await add_session(sessions, LOCAL, at(1, 23, 40, 30), PRICE)
    move_to(clock, at(1, 23, 50))
    body = await costs(costs_client, days=2)
    assert daily(body) == {"2026-11-01": cost_of(PRICE, 10)}  # 9.5 min: 10 started
    [row] = body["sessions"]
    assert (row["id"], row["state"], row["minutes"]) == (sid, "running", 10)

    move_to(clock, at(2, 0, 20, 10))
    body = await costs(costs_client, days=2)
    # 19.5 min before midnight (the 20th minute started at 23:59:30), 20.17 after: 40 started.
    assert daily(body) == {
        "2026-11-01": cost_of(PRICE, 20),
        "2026-11-02": cost_of(PRICE, 40) - cost_of(PRICE, 20),
    }
    [row] = body["sessions"]
    assert row["minutes"] == 40 and micros(row["cost"]) == cost_of(PRICE, 40)
    assert micros(body["total"]) == sum(daily(body).values()) == micros(row["window_cost"])
    view = (await costs_client.get(f"/api/v1/sessions/{sid}")).json()
    assert view["cost_so_far"] == row["cost"]  # the same money as the session's own view
    assert body["burn_rate_per_hour"] == PRICE / USD

    today_only = await costs(costs_client, days=1)
    assert daily(today_only) == {"2026-11-02": cost_of(PRICE, 40) - cost_of(PRICE, 20)}
    assert micros(today_only["sessions"][0]["window_cost"]) == daily(today_only)["2026-11-02"]
    assert micros(today_only["sessions"][0]["cost"]) == cost_of(PRICE, 40)
    assert today_only["since"].startswith("2026-11-02T00:00:00")


async def test_a_session_over_a_month_end_counts_in_both_months(
    costs_client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
) -> None:
    await add_session(sessions, LOCAL, at(30, 23, 58, 15), PRICE, billing_end=at(1, 0, 3, 0, 12))
    await add_session(sessions, LOCAL, at(2, 10), 3 * USD, billing_end=at(2, 11), gpu="A100")
    move_to(clock, at(1, 0, 30, month=12))
    body = await costs(costs_client)
    # 1 min 45 s before the month ends (2 started), 4 min 45 s in all (5 started).
    november = cost_of(PRICE, 2) + 3 * USD
    december = cost_of(PRICE, 5) - cost_of(PRICE, 2)
    assert monthly(body) == {"2026-11": november, "2026-12": december}
    assert len(body["monthly"]) == 12 and body["monthly"][-1]["month"] == "2026-12"
    assert micros(body["month_to_date"]) == micros(body["projected_month_end"]) == december
    assert body["burn_rate_per_hour"] == 0  # nothing runs now
    assert daily(body) == {
        "2026-11-02": 3 * USD,
        "2026-11-30": cost_of(PRICE, 2),
        "2026-12-01": december,
    }
    assert micros(body["total"]) == november + december

    past = await costs(costs_client, month="2026-11")
    assert past["month"] == "2026-11" and micros(past["month_to_date"]) == november
    assert past["monthly"][-1] == {"month": "2026-11", "cost": november / USD}
    assert micros(past["total"]) == november + december  # the days do not move with the month


async def test_the_projection_runs_to_the_paid_time_or_the_month_end_and_meets_the_budget(
    costs_client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
) -> None:
    move_to(clock, at(30, 22, 0))
    # Paid until 23:30 today: projected to then.
    await add_session(sessions, LOCAL, at(30, 21, 30), 2 * USD, paid_minutes=120)
    # Paid until 01:00 tomorrow, in December: projected to midnight only.
    await add_session(sessions, LOCAL, at(30, 21, 0), 3 * USD, paid_minutes=240, key_prefix="k1")
    # Not running yet: adds nothing.
    await add_session(sessions, LOCAL, at(30, 21, 0), 5 * USD, state="starting")
    body = await costs(costs_client)
    to_date = 1 * USD + 3 * USD  # 30 min at $2, 60 min at $3
    assert micros(body["month_to_date"]) == to_date
    assert micros(body["projected_month_end"]) == 4 * USD + 9 * USD  # 2 h at $2, 3 h at $3
    assert body["burn_rate_per_hour"] == 5.0
    assert body["budget"] == {"monthly_limit": None, "projected_over_budget": False}
    assert {k["key_id"]: micros(k["cost"]) for k in body["by_key"]} == {None: USD, "k1": 3 * USD}
    assert [k["key_id"] for k in body["by_key"]] == ["k1", None]  # the most expensive first

    for limit, over in (("12.99", True), ("13.00", False)):
        put = await costs_client.put("/api/v1/wallet/budget", json={"monthly_limit": limit})
        assert put.status_code == 200, put.text
        budget = (await costs(costs_client))["budget"]
        assert budget == {"monthly_limit": float(limit), "projected_over_budget": over}

    # The $2 session is past its paid time (in its grace): it costs no more than was held.
    move_to(clock, at(30, 23, 45))
    body = await costs(costs_client)
    assert micros(body["month_to_date"]) == cost_of(2 * USD, 120) + cost_of(3 * USD, 165)
    assert micros(body["projected_month_end"]) == cost_of(2 * USD, 120) + 9 * USD


async def test_each_table_of_the_report_downloads_as_csv(
    costs_client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
) -> None:
    sid = await add_session(sessions, LOCAL, at(1, 23, 0), 3 * USD, billing_end=at(2, 1, 0))
    await add_session(sessions, LOCAL, at(2, 9), PRICE, key_prefix="k1")
    move_to(clock, at(2, 10))
    body = await costs(costs_client, days=2)

    async def download(name: str) -> tuple[httpx.Response, list[dict[str, str]]]:
        response = await costs_client.get(
            "/api/v1/costs", params={"days": 2, "format": "csv", "table": name}
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        return response, list(csv.DictReader(io.StringIO(response.text)))

    response, rows = await download("sessions")
    assert 'filename="gp4u-costs-sessions-2d.csv"' in response.headers["content-disposition"]
    assert [int(r["id"]) for r in rows] == [s["id"] for s in body["sessions"]]
    first = next(r for r in rows if int(r["id"]) == sid)
    assert (first["gpu"], first["billing_end"][:19], micros(float(first["cost"]))) == (
        "H100",
        "2026-11-02T01:00:00",
        6 * USD,
    )
    _, days = await download("daily")
    assert [(d["date"], micros(float(d["cost"]))) for d in days] == [
        (d["date"], micros(d["cost"])) for d in body["daily"]
    ]
    response, months = await download("monthly")
    assert 'filename="gp4u-costs-monthly-to-2026-11.csv"' in response.headers["content-disposition"]
    assert len(months) == 12 and months[-1]["month"] == "2026-11"
    _, keys = await download("keys")
    assert {r["key_id"] for r in keys} == {"", "k1"}  # "" is a login's sessions
    bad = await costs_client.get("/api/v1/costs", params={"format": "csv", "table": "users"})
    assert bad.status_code == 400 and bad.json()["field"] == "table"


async def test_bad_days_and_months_are_refused_by_name(costs_client: httpx.AsyncClient) -> None:
    for params in ({"days": 0}, {"days": 367}, {"month": "2026-13"}, {"month": "26-11"}):
        response = await costs_client.get("/api/v1/costs", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["field"] == next(iter(params))
    future = await costs_client.get("/api/v1/costs", params={"month": "2026-12"})
    assert future.status_code == 400 and "has not begun" in future.json()["detail"]
    assert future.json()["field"] == "month"


async def test_only_ones_own_sessions_count_and_admins_see_every_user(
    team_client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
) -> None:
    alice = await sign_up(team_client, "alice@example.com")
    bob = await sign_up(team_client, "bob@example.com")
    admin = await make_admin(sessions, team_client, "lead@example.com")
    ids = {}
    for name, headers in (("alice", alice), ("bob", bob)):
        ids[name] = (await team_client.get("/api/v1/me", headers=headers)).json()["id"]
    made = await team_client.post(
        "/api/v1/me/api-keys", json={"name": "ci", "scopes": ["read"]}, headers=alice
    )
    key = made.json()
    await add_session(sessions, ids["alice"], at(1, 8), 2 * USD, billing_end=at(1, 9))
    await add_session(
        sessions, ids["alice"], at(1, 9), PRICE, billing_end=at(1, 9, 30), key_prefix=key["id"]
    )
    await add_session(sessions, ids["bob"], at(1, 10), 40 * USD)  # running, far dearer

    mine = (await team_client.get("/api/v1/costs", headers=alice)).json()
    alice_total = 2 * USD + cost_of(PRICE, 30)
    assert micros(mine["total"]) == micros(mine["month_to_date"]) == alice_total
    assert {k["key_id"]: (k["sessions"], micros(k["cost"])) for k in mine["by_key"]} == {
        None: (1, 2 * USD),
        key["id"]: (1, cost_of(PRICE, 30)),
    }
    assert mine["burn_rate_per_hour"] == 0 and len(mine["sessions"]) == 2
    with_key = await team_client.get(
        "/api/v1/costs", headers={"Authorization": f"Bearer {key['key']}"}
    )
    assert with_key.json()["total"] == mine["total"]
    theirs = (await team_client.get("/api/v1/costs", headers=bob)).json()
    assert micros(theirs["month_to_date"]) == 80 * USD  # 12:00 - 10:00 at $40
    assert [s["gpu"] for s in theirs["sessions"]] == ["H100"] and theirs["by_key"][0][
        "key_id"
    ] is None

    assert (await team_client.get("/api/v1/costs/users", headers=alice)).status_code == 403
    assert (await team_client.get("/api/v1/costs")).status_code == 401
    users = await team_client.get("/api/v1/costs/users", headers=admin)
    assert users.status_code == 200, users.text
    UserCostsOut.model_validate(users.json())
    rows = {u["email"]: u for u in users.json()["users"]}
    assert list(rows) == ["bob@example.com", "alice@example.com"]
    assert micros(rows["alice@example.com"]["month_to_date"]) == alice_total
    assert rows["alice@example.com"]["sessions"] == 2 and rows["alice@example.com"]["running"] == 0
    assert rows["bob@example.com"]["burn_rate_per_hour"] == 40
    assert micros(rows["bob@example.com"]["projected_month_end"]) == 40 * 24 * USD  # paid a day
    assert micros(users.json()["month_to_date"]) == alice_total + 80 * USD
    earlier = await team_client.get(
        "/api/v1/costs/users", params={"month": "2026-10"}, headers=admin
    )
    assert earlier.json()["month_to_date"] == 0


async def test_a_real_launch_costs_what_it_captured_split_over_two_days(
    launch_client: httpx.AsyncClient,
    broker_app: FastAPI,
    vast: FakeState,
    clock: FrozenClock,
) -> None:
    move_to(clock, at(1, 20))
    paid = await launch_client.post(
        "/api/v1/wallet/deposits", json={"amount": "500", "source": "tok_ok"}
    )
    assert paid.status_code == 201, paid.text
    synced = await launch_client.post("/api/v1/providers/vastai/sync")
    assert synced.json()["status"] == "ok", synced.text
    offers = await launch_client.get(
        "/api/v1/offers", params={"q": "provider=vastai spot=false", "sort": "price_per_hour"}
    )
    offer = offers.json()["items"][0]
    created = await launch_client.post(
        "/api/v1/sessions", json={"offer_id": offer["id"], "hours": 6}
    )
    assert created.status_code == 202, created.text
    sid = created.json()["id"]
    await drain(ctx_of(broker_app))
    [instance] = live_tagged(vast)
    token = instance.attrs["env"]["GP4U_AGENT_TOKEN"]
    registered = await launch_client.post("/api/v1/agent/register", json={"token": token})
    assert registered.status_code == 200, registered.text

    move_to(clock, at(2, 0, 30, 10))
    stopped = await launch_client.post(f"/api/v1/sessions/{sid}/stop")
    assert stopped.json()["state"] == "ending"
    await drain(ctx_of(broker_app))
    body = await costs(launch_client)
    price = micros(offer["price_per_hour"])
    assert daily(body) == {
        "2026-11-01": cost_of(price, 240),
        "2026-11-02": cost_of(price, 271) - cost_of(price, 240),
    }
    [row] = body["sessions"]
    assert (row["id"], row["minutes"], row["key_id"]) == (sid, 271, None)
    assert row["state"] == "terminated" and micros(row["cost"]) == cost_of(price, 271)
    wallet = (await launch_client.get("/api/v1/wallet")).json()
    assert micros(wallet["available"]) == 500 * USD - cost_of(price, 271)  # what was captured

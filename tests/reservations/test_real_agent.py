"""A reservation run by the real node agent, then paid out. The app is served on a real port, in
this test's event loop and on the test clock, so the agent process that the `local` provider
starts at activation checks in and heartbeats over HTTP. The session turns running by the
agent's own registration; the host is paid price × time − fee at the end, sees it on the
dashboard and pays it out through the payment rail; the ledger audit stays clean."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gp4u.accounts.keyring import keyring
from gp4u.app import create_app
from gp4u.kit.clock import FrozenClock
from gp4u.ledger import service as ledger
from gp4u.reservations import lifecycle
from gp4u.settings import Settings
from gp4u.worker.inprocess import run_due_jobs
from tests.agent.broker import until_async
from tests.costs.support import free_port
from tests.factories import PASSWORD, sign_up
from tests.provisioning.support import alive_instances
from tests.reservations.support import beat, book, online_machine, renter, wallet

H = timedelta(hours=1)
# The agent judges its session's hard deadline by its own clock, so the broker's test clock
# stands a day ahead of real time here rather than at the fixed T0 of the other tests.
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
START = NOW + 2 * H


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def served(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app in accounts mode on a real port (its broker URL), sessions on `local`."""
    port = free_port()
    app = create_app(
        settings.model_copy(
            update={
                "providers": "local",
                "host_sessions_provider": "local",
                "auth": "accounts",
                "port": port,
                "agent_heartbeat_seconds": 0.2,
            }
        ),
        clock=clock,
        background_jobs=False,
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    await until_async(lambda: server.started, seconds=30)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield app, client
    finally:
        server.should_exit = True
        await serving
        await alive_instances(settings.data_dir, terminate=True)


async def until(check: Callable[[], Awaitable[Any]], what: str, seconds: float = 90) -> Any:
    """Poll `check` until it returns something truthy (bounded: this is not a timing claim)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if found := await check():
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting until {what}")


async def login(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    """Fresh headers: access tokens last 15 minutes of the (moving) test clock."""
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_the_real_agent_runs_a_reservation_and_the_host_pays_out_the_earnings(
    served: tuple[FastAPI, httpx.AsyncClient],
    clock: FrozenClock,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    app, client = served
    ctx = app.state.jobs
    await sign_up(client, "host@example.com", ("host",))
    host = await login(client, "host@example.com")
    machine_id, host_secret = await online_machine(client, host, min_hours=1)
    await renter(client, "alice@example.com", "100")
    alice = await login(client, "alice@example.com")
    booked = await book(client, alice, machine_id, START, START + 3 * H)  # $2/h: $6
    assert booked.status_code == 201, booked.text
    rid = booked.json()["id"]

    async def session_of_alice() -> dict[str, Any]:
        found = await client.get(f"/api/v1/reservations/{rid}", headers=alice)
        session_id = found.json()["session_id"]
        got = await client.get(f"/api/v1/sessions/{session_id}", headers=alice)
        return dict(got.json())

    async def move_to(when: datetime) -> None:
        """The clock moves; the host agent and the real session agent are heard at the new
        time; then the reservation manager and the jobs run."""
        nonlocal alice, host
        clock.advance(when - clock.now())
        alice, host = (
            await login(client, "alice@example.com"),
            await login(client, "host@example.com"),
        )
        await beat(client, host_secret)
        if (await client.get(f"/api/v1/reservations/{rid}", headers=alice)).json()["session_id"]:

            async def beat_seen() -> bool:
                last = (await session_of_alice())["agent"]["last_heartbeat_at"]
                return last is not None and datetime.fromisoformat(last) >= when

            await until(beat_seen, "the real agent heartbeats at the new time")
        await lifecycle.manage(ctx, keyring(ctx.settings).box_key)
        await run_due_jobs(ctx, 5)

    await move_to(START)
    reservation = (await client.get(f"/api/v1/reservations/{rid}", headers=alice)).json()
    assert reservation["state"] == "active" and reservation["session_id"]

    async def running() -> dict[str, Any] | None:
        found = await session_of_alice()
        return found if found["state"] == "running" else None

    live = await until(running, "the agent started by the local provider checks in")
    assert live["agent"]["registered_at"] and live["agent"]["facts"]["cpu_count"] >= 1
    assert live["instance_id"] in await alive_instances(settings.data_dir)

    await move_to(START + H)
    assert (await client.get(f"/api/v1/reservations/{rid}", headers=alice)).json()["paid"] == 2.0
    await move_to(START + 3 * H)
    done = (await client.get(f"/api/v1/reservations/{rid}", headers=alice)).json()
    assert done["state"] == "completed" and done["paid"] == 6.0

    async def destroyed() -> bool:
        await run_due_jobs(ctx, 5)
        found = await session_of_alice()
        return found["state"] == "terminated" and bool(found["destroyed_at"])

    await until(destroyed, "the session's machine is destroyed")
    assert await alive_instances(settings.data_dir) == []
    money = await wallet(client, alice)
    assert money["available"] == 94.0 and money["held"] == 0.0

    earnings = (await client.get("/api/v1/host/dashboard", headers=host)).json()["earnings"]
    assert (earnings["gross"], earnings["platform_fee"], earnings["net"]) == (6.0, 0.6, 5.4)
    assert earnings["available"] == 5.4 and earnings["paid_out"] == 0.0
    payout = {"amount": "5.40", "rail": "test-instant", "destination": "tok_ok"}
    too_much = await client.post(
        "/api/v1/host/payouts", json=payout | {"amount": "5.41"}, headers=host
    )
    assert too_much.status_code == 402, too_much.text
    paid = await client.post("/api/v1/host/payouts", json=payout, headers=host)
    assert paid.status_code == 201 and paid.json()["status"] == "settled", paid.text
    after = (await client.get("/api/v1/host/dashboard", headers=host)).json()
    assert after["earnings"]["available"] == 0.0 and after["earnings"]["paid_out"] == 5.4
    assert [p["amount"] for p in after["payouts"]] == [5.4]
    async with sessions() as session:
        assert await ledger.audit(session) == []

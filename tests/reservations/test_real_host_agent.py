"""A reservation's session on a host's own machine, with every piece real: the app on a real port
(on the test clock), `gp4u agent host` as a process of its own, and the session's node agent
that the host agent starts from the run its heartbeat answer hands it. Nothing connects to the
host machine; the session turns running when that node agent checks in, and when the booking
ends the host agent stops the workload and the broker confirms the machine destroyed."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gp4u.accounts.keyring import keyring
from gp4u.agent.workloads import WorkloadStore
from gp4u.app import create_app
from gp4u.hosts import repository as hosts_repo
from gp4u.kit.clock import FrozenClock
from gp4u.provisioning import lifecycle as session_lifecycle
from gp4u.reservations import lifecycle
from gp4u.settings import Settings
from gp4u.worker.inprocess import run_due_jobs
from tests.agent.broker import until_async
from tests.costs.support import free_port
from tests.factories import sign_up
from tests.reservations.support import book, list_machine, renter
from tests.reservations.test_real_agent import NOW, START, clock, login, until

__all__ = ["clock"]  # the test clock a day ahead of real time (the agents judge deadlines)
H = timedelta(hours=1)


@pytest.fixture
async def served(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, int]]:
    port = free_port()
    configured = {
        "providers": "",
        "auth": "accounts",
        "port": port,
        "agent_heartbeat_seconds": 0.2,
        "host_heartbeat_seconds": 0.2,
        "host_gpu_check": False,  # this machine has no GPU for nvidia-smi to see
    }
    app = create_app(settings.model_copy(update=configured), clock=clock, background_jobs=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    await until_async(lambda: server.started, seconds=30)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield app, client, port
    finally:
        server.should_exit = True
        await serving


@pytest.fixture
def host_state(tmp_path: Path) -> Any:
    """The host agent's state dir; afterwards no run of it may be left alive."""
    state = tmp_path / "host-agent"
    yield state
    store = WorkloadStore(state / "runs")
    for record in store.records():
        if store.alive(record):
            asyncio.run(store.terminate(record["id"]))


async def test_the_host_agent_runs_the_reserved_session_on_its_own_machine(
    served: tuple[FastAPI, httpx.AsyncClient, int],
    clock: FrozenClock,
    sessions: async_sessionmaker[AsyncSession],
    host_state: Path,
    env_without_gp4u: dict[str, str],
) -> None:
    app, client, port = served
    await sign_up(client, "host@example.com", ("host",))
    made = await list_machine(client, await login(client, "host@example.com"), min_hours=1)
    machine_id = int(made["id"])
    command = [sys.executable, "-m", "gp4u.agent", "host", "--broker", f"http://127.0.0.1:{port}"]
    command += ["--token", made["agent_token"], "--state-dir", str(host_state)]
    command += ["--log-format", "console"]
    log = host_state.parent / "host-agent.log"
    with log.open("wb") as out:
        agent = await asyncio.create_subprocess_exec(
            *command, env=env_without_gp4u, stdout=out, stderr=out
        )
    try:
        await run_the_booking(app, client, clock, sessions, machine_id, host_state)
    finally:
        agent.terminate()
        await asyncio.wait_for(agent.wait(), 10)
    assert "GP4U_AGENT_TOKEN" not in log.read_text(), "the run's environment is never logged"


async def run_the_booking(
    app: FastAPI,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    sessions: async_sessionmaker[AsyncSession],
    machine_id: int,
    host_state: Path,
) -> None:
    ctx = app.state.jobs

    async def host_heard_since(when: datetime) -> bool:
        async with sessions() as session:
            machine = await hosts_repo.get(session, machine_id)
            beat = machine.last_heartbeat_at if machine else None
            return beat is not None and beat >= when

    await until(lambda: host_heard_since(NOW), "the real host agent registers and heartbeats")
    await renter(client, "alice@example.com", "100")
    alice = await login(client, "alice@example.com")
    booked = await book(client, alice, machine_id, START, START + 2 * H)
    assert booked.status_code == 201, booked.text
    rid = booked.json()["id"]

    async def session_view() -> dict[str, Any]:
        headers = await login(client, "alice@example.com")
        found = await client.get(f"/api/v1/reservations/{rid}", headers=headers)
        got = await client.get(f"/api/v1/sessions/{found.json()['session_id']}", headers=headers)
        return dict(got.json())

    async def move_to(when: datetime) -> None:
        clock.advance(when - clock.now())
        await until(lambda: host_heard_since(when), "the host agent is heard at the new time")
        await lifecycle.manage(ctx, keyring(ctx.settings).box_key)
        await run_due_jobs(ctx, 5)

    await move_to(START)

    async def running() -> dict[str, Any] | None:
        await run_due_jobs(ctx, 5)
        found = await session_view()
        return found if found["state"] == "running" else None

    live = await until(running, "the node agent the host agent started checks in")
    assert live["provider"] == "gp4u" and live["agent"]["facts"]["cpu_count"] >= 1
    store = WorkloadStore(host_state / "runs")
    [record] = store.records()
    assert record["id"] == live["instance_id"] and store.alive(record)

    await move_to(START + 2 * H)
    headers = await login(client, "alice@example.com")
    done = (await client.get(f"/api/v1/reservations/{rid}", headers=headers)).json()
    assert done["state"] == "completed" and done["paid"] == 4.0

    async def destroyed() -> bool:
        clock.advance(timedelta(minutes=1))  # the destroyer's next pass comes a while later
        await until(lambda: host_heard_since(clock.now()), "the host agent reports again")
        await run_due_jobs(ctx, 5)
        await session_lifecycle.tick(ctx)
        found = await session_view()
        return found["state"] == "terminated" and bool(found["destroyed_at"])

    await until(destroyed, "the host agent stops the run and the broker confirms it gone")
    await until_async(lambda: not store.records(), seconds=30)

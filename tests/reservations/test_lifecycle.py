"""A reservation's life with time moved by the test clock, on both databases: activation opens a
session on the booked machine through the `gp4u` provider (a run that the machine's host agent
picks up from its heartbeat answer; here the test speaks the host agent's side of the protocol),
or through the `local` provider (a real process), the host is paid for elapsed time as it runs
and exactly price × time − fee at the end; cancellation after the start, extension while
running and a machine that dies all charge and refund exactly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gp4u.accounts.keyring import keyring
from gp4u.app import create_app
from gp4u.db.engine import unit_of_work
from gp4u.hosts import service as hosts
from gp4u.jobs.context import JobContext
from gp4u.kit.clock import FrozenClock
from gp4u.ledger import service as ledger
from gp4u.provisioning import lifecycle as session_lifecycle
from gp4u.provisioning import repository as sessions_repo
from gp4u.provisioning.launcher import _open_env
from gp4u.reservations import lifecycle
from gp4u.settings import Settings
from gp4u.worker.inprocess import run_due_jobs
from tests.conftest import T0
from tests.factories import asgi_client
from tests.reservations.support import beat, check_in, wallet
from tests.reservations.test_no_double_booking import fund, host_principal, machines_online

H = timedelta(hours=1)
START = T0 + 2 * H  # 14:00 on 2026-11-01
HOST = host_principal().owner


@pytest.fixture
def sessions_provider() -> str:
    return "gp4u"  # the default: the machine's own host agent starts the session


@pytest.fixture
def local_app(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock, sessions_provider: str
) -> FastAPI:
    configured = {"providers": "local", "host_sessions_provider": sessions_provider}
    return create_app(settings.model_copy(update=configured), clock=clock, background_jobs=False)


@pytest.fixture
async def api(local_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(local_app) as client:
        yield client


class Rig:
    """The broker, the host agent's heartbeats and the session agent, driven by the clock. The
    host agent's side of the runs protocol is played here: it has the runs it was handed, reports
    them running, reports a stopped one exited (code 0) and drops one the answer no longer lists."""

    def __init__(self, app: FastAPI, api: httpx.AsyncClient, clock: FrozenClock) -> None:
        self.ctx: JobContext = app.state.jobs
        self.api, self.clock = api, clock
        self.host_secret = ""
        self.host_online = True
        self.session_secret: str | None = None
        self.runs: dict[str, dict[str, Any]] = {}  # id → the report the host agent sends
        self.run_env: dict[str, dict[str, str]] = {}  # what each run was started with

    async def host_beat(self) -> list[dict[str, Any]]:
        answer = await beat(self.api, self.host_secret, list(self.runs.values()))
        wanted = {order["id"]: order for order in answer["runs"]}
        for run_id in set(self.runs) - set(wanted):
            del self.runs[run_id]
        for run_id, order in wanted.items():
            if order["action"] == "stop":
                self.runs[run_id] = {"id": run_id, "state": "exited", "exit_code": 0}
            elif run_id not in self.runs and order["env"]:
                self.runs[run_id] = {"id": run_id, "state": "running", "exit_code": None}
                self.run_env[run_id] = order["env"]
        return list(answer["runs"])

    async def at(self, when: timedelta) -> None:
        """Move to START + when; both agents beat; the reservation manager and jobs run, and
        the host agent beats again (it picks up a run handed out meanwhile)."""
        self.clock.advance(START + when - self.clock.now())
        if self.host_online:
            await self.host_beat()
        if self.session_secret:
            await self.api.post(
                "/api/v1/agent/heartbeat",
                json={"facts": None},
                headers={"Authorization": f"Bearer {self.session_secret}"},
            )
        await lifecycle.manage(self.ctx, keyring(self.ctx.settings).box_key)
        await run_due_jobs(self.ctx, 5)
        if self.host_online:
            await self.host_beat()
            await run_due_jobs(self.ctx, 5)

    async def agent_checks_in(self, session_id: int) -> None:
        """The session's node agent registers with the token its machine was started with."""
        async with self.ctx.sessions() as session:
            gs = await sessions_repo.get(session, session_id)
            assert gs is not None and gs.instance_id, "the machine was launched"
            if gs.provider == "gp4u":
                token = self.run_env[gs.instance_id]["GP4U_AGENT_TOKEN"]
            else:
                _, token = _open_env(gs, keyring(self.ctx.settings).box_key)
        response = await self.api.post("/api/v1/agent/register", json={"token": token})
        assert response.status_code == 200, response.text
        self.session_secret = response.json()["agent_secret"]

    async def destroy_confirmed(self, after: timedelta) -> None:
        """On `gp4u`, the run stops at the host agent's next heartbeat, and the destroyer's next
        pass (a while later) sees it gone."""
        await self.at(after + timedelta(minutes=5))
        await session_lifecycle.tick(self.ctx)

    async def reservation(self, rid: int) -> dict[str, Any]:
        return dict((await self.api.get(f"/api/v1/reservations/{rid}")).json())

    async def book(self, machine_id: int, hours: float) -> int:
        body = {
            "machine_id": machine_id,
            "start": START.isoformat(),
            "end": (START + hours * H).isoformat(),
        }
        response = await self.api.post("/api/v1/reservations", json=body)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def earned(self) -> int:
        async with self.ctx.sessions() as session:
            return await ledger.earnings(session, HOST)

    async def started(self, machine_id: int, hours: float) -> tuple[int, int]:
        """A reservation booked from START, activated and with its agent checked in."""
        rid = await self.book(machine_id, hours)
        await self.at(timedelta(0))
        found = await self.reservation(rid)
        assert found["state"] == "active", found
        await self.agent_checks_in(int(found["session_id"]))
        return rid, int(found["session_id"])


@pytest.fixture
async def rig(
    local_app: FastAPI,
    api: httpx.AsyncClient,
    clock: FrozenClock,
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[tuple[Rig, int]]:
    made = Rig(local_app, api, clock)
    [machine_id] = await machines_online(sessions, api, clock, 1, min_hours=0.5)
    async with unit_of_work(sessions) as session:
        token = (await hosts.new_agent_token(session, host_principal(), machine_id, T0))[
            "agent_token"
        ]
    made.host_secret = (await check_in(api, token))["agent_secret"]
    await fund(api, "100")
    yield made, machine_id
    await made.at(timedelta(days=3))  # everything ends and every machine is destroyed


async def test_a_completed_reservation_pays_the_host_exactly(rig: tuple[Rig, int]) -> None:
    r, machine_id = rig
    rid, _ = await r.started(machine_id, 3)  # $2/h for 3 h: $6, fee 10 %
    await r.at(timedelta(minutes=61))
    assert (await r.reservation(rid))["paid"] == 2.033334  # 61 started minutes, rounded up
    assert await r.earned() == 2_033_334 - 203_333
    await r.at(3 * H)
    done = await r.reservation(rid)
    assert done["state"] == "completed" and done["paid"] == 6.0
    assert await r.earned() == 5_400_000  # price × time − fee, exactly
    money = await wallet(r.api, {})
    assert money["available"] == 94.0 and money["held"] == 0.0
    await r.destroy_confirmed(3 * H)
    session = (await r.api.get(f"/api/v1/sessions/{done['session_id']}")).json()
    assert session["state"] == "terminated" and session["destroyed_at"]


async def test_cancel_after_the_start_pays_the_minutes_started(rig: tuple[Rig, int]) -> None:
    r, machine_id = rig
    rid, _ = await r.started(machine_id, 4)
    await r.at(timedelta(minutes=90, seconds=20))
    cancelled = await r.api.post(f"/api/v1/reservations/{rid}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["paid"] == 3.033334  # 91 started minutes at $2/h, rounded up
    money = await wallet(r.api, {})
    assert money["held"] == 0.0 and money["available"] == 96.966666


async def test_extension_while_running_charges_exactly_the_added_time(
    rig: tuple[Rig, int],
) -> None:
    r, machine_id = rig
    rid, session_id = await r.started(machine_id, 1)
    new_end = START + 2.5 * H
    grown = await r.api.post(
        f"/api/v1/reservations/{rid}/extend", json={"end": new_end.isoformat()}
    )
    assert grown.status_code == 200, grown.text
    session = (await r.api.get(f"/api/v1/sessions/{session_id}")).json()
    assert session["expires_at"].startswith(new_end.isoformat()[:16])
    await r.at(2.5 * H)
    assert (await r.reservation(rid))["paid"] == 5.0
    assert (await wallet(r.api, {}))["available"] == 95.0


async def test_a_machine_that_dies_is_paid_only_until_its_last_sign_of_life(
    rig: tuple[Rig, int],
) -> None:
    r, machine_id = rig
    rid, _ = await r.started(machine_id, 4)
    await r.at(timedelta(minutes=30))
    r.session_secret = None  # the machine goes silent
    await r.at(timedelta(minutes=45))
    await session_lifecycle.tick(r.ctx)
    await r.at(timedelta(minutes=46))
    failed = await r.reservation(rid)
    assert failed["state"] == "failed" and "heartbeat_lost" in failed["end_detail"]
    assert failed["paid"] == 1.0  # 30 minutes, up to the last heartbeat
    assert (await wallet(r.api, {}))["available"] == 99.0


async def test_an_offline_machine_at_the_start_refunds_everything(rig: tuple[Rig, int]) -> None:
    r, machine_id = rig
    rid = await r.book(machine_id, 2)
    r.clock.advance(START + 10 * timedelta(minutes=1) - r.clock.now())  # agent silent since T0
    await lifecycle.manage(r.ctx, keyring(r.ctx.settings).box_key)
    failed = await r.reservation(rid)
    assert failed["state"] == "failed" and "offline" in failed["end_detail"]
    assert (await wallet(r.api, {}))["available"] == 100.0


@pytest.mark.parametrize("sessions_provider", ["local"])
async def test_on_the_local_provider_the_session_is_a_process_of_the_server(
    rig: tuple[Rig, int],
) -> None:
    r, machine_id = rig
    rid, session_id = await r.started(machine_id, 1)
    assert not r.runs, "no run is handed to the host agent"
    await r.at(H)
    assert (await r.reservation(rid))["state"] == "completed"
    session = (await r.api.get(f"/api/v1/sessions/{session_id}")).json()
    assert session["state"] == "terminated" and session["provider"] == "local"


async def test_the_host_agent_gets_the_run_and_its_token_until_it_started(
    rig: tuple[Rig, int],
) -> None:
    r, machine_id = rig
    rid = await r.book(machine_id, 2)
    await r.at(timedelta(0))
    session_id = int((await r.reservation(rid))["session_id"])
    session = (await r.api.get(f"/api/v1/sessions/{session_id}")).json()
    assert session["provider"] == "gp4u" and session["instance_id"] in r.runs
    env = r.run_env[session["instance_id"]]
    assert env["GP4U_AGENT_BROKER"] == r.ctx.settings.broker_url
    assert env["GP4U_AGENT_TOKEN"] and env["GP4U_AGENT_ON_SHUTDOWN"] == "exit"
    # Reported running: the token is spent and no longer travels.
    [order] = await r.host_beat()
    assert order == {"id": session["instance_id"], "action": "run", "command": None, "env": None}
    await r.agent_checks_in(session_id)
    await r.at(timedelta(minutes=1))
    assert (await r.api.get(f"/api/v1/sessions/{session_id}")).json()["state"] == "running"
    cancelled = await r.api.post(f"/api/v1/reservations/{rid}/cancel")
    assert cancelled.status_code == 200
    await run_due_jobs(r.ctx, 5)
    [order] = await r.host_beat()
    assert order["action"] == "stop"
    await r.destroy_confirmed(timedelta(minutes=2))
    session = (await r.api.get(f"/api/v1/sessions/{session_id}")).json()
    assert session["state"] == "terminated"
    assert await r.host_beat() == [], "the ended run is no longer listed"
    assert not r.runs


async def test_a_run_on_a_machine_that_went_offline_ends_and_is_dropped_on_its_return(
    rig: tuple[Rig, int],
) -> None:
    r, machine_id = rig
    rid, session_id = await r.started(machine_id, 4)
    [run_id] = r.runs
    await r.at(timedelta(minutes=30))
    r.host_online, r.session_secret = False, None  # the whole machine goes dark
    await r.at(timedelta(minutes=45))
    await session_lifecycle.tick(r.ctx)
    await r.at(timedelta(minutes=46))
    failed = await r.reservation(rid)
    assert failed["state"] == "failed" and failed["paid"] == 1.0
    session = (await r.api.get(f"/api/v1/sessions/{session_id}")).json()
    assert session["state"] == "terminated", "an offline machine's run ends at once"
    r.host_online = True  # back, still holding the run: told to drop it
    assert r.runs[run_id]["state"] == "running"
    assert await r.host_beat() == [] and not r.runs


async def test_a_host_offer_is_booked_not_launched_on_demand(rig: tuple[Rig, int]) -> None:
    r, _ = rig
    async with unit_of_work(r.ctx.sessions) as session:
        await hosts.publish(session, r.ctx.settings, r.ctx.clock.now())
    offers = (await r.api.get("/api/v1/offers", params={"source": "host"})).json()["items"]
    assert offers, "the machine is on the market"
    response = await r.api.post("/api/v1/sessions", json={"offer_id": offers[0]["id"], "hours": 1})
    assert response.status_code == 409
    assert "POST /api/v1/reservations" in response.json()["detail"]

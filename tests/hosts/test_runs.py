"""The runs protocol between the broker and host agents, on both databases: the `gp4u` adapter
(from the app's own job context) launches, lists, stops and reads runs; the host agent's side is
spoken over HTTP by the test, including its awkward cases: an answer that got lost, a run that
vanished, an agent that does not report runs at all, a malformed report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.hosts.models import MachineRun
from gp4u.kit.clock import FrozenClock
from gp4u.providers.base import ProviderRejected
from gp4u.providers.interface import InstanceState, LaunchRequest, ProviderAdapter, Tags
from tests.reservations.support import beat, online_machine

TOKEN = "s3cret-session-agent-token"


def adapter_of(app: FastAPI) -> ProviderAdapter:
    return app.state.jobs.providers.get("gp4u")


def request(machine_id: int, session: str = "7", token: str = "launch-7-1") -> LaunchRequest:
    return LaunchRequest(
        offer_ref=f"host-{machine_id}",
        client_token=token,
        tags=Tags("local", session, "u_alice"),
        startup_command="python train.py",
        env={"GP4U_AGENT_TOKEN": TOKEN, "GP4U_AGENT_BROKER": "http://broker.test"},
    )


@pytest.fixture
async def machine(client: httpx.AsyncClient) -> tuple[int, str]:
    return await online_machine(client, {})


def reports(*items: tuple[str, str, int | None]) -> list[dict[str, Any]]:
    return [{"id": i, "state": s, "exit_code": c} for i, s, c in items]


async def test_a_run_is_handed_out_until_reported_then_stopped_and_confirmed_gone(
    app: FastAPI,
    client: httpx.AsyncClient,
    machine: tuple[int, str],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    machine_id, secret = machine
    adapter = adapter_of(app)
    launched = await adapter.launch(request(machine_id))
    again = await adapter.launch(request(machine_id))
    assert again.instance_id == launched.instance_id, "a retried launch gets the same run"
    assert launched.state is InstanceState.BOOTING
    assert launched.tags == Tags("local", "7", "u_alice")
    run_id = launched.instance_id
    async with sessions() as session:
        stored = (await session.scalars(select(MachineRun))).one()
        assert stored.env_sealed and TOKEN not in stored.env_sealed, "the token is sealed"

    first = (await beat(client, secret, []))["runs"]
    lost = (await beat(client, secret, []))["runs"]  # the first answer never arrived
    for answer in (first, lost):
        assert answer == [
            {
                "id": run_id,
                "action": "run",
                "command": "python train.py",
                "env": {"GP4U_AGENT_TOKEN": TOKEN, "GP4U_AGENT_BROKER": "http://broker.test"},
            }
        ]
    [started] = (await beat(client, secret, reports((run_id, "running", None))))["runs"]
    assert started["env"] is None, "the token is spent once the run started"
    assert (await adapter.status([run_id]))[0].state is InstanceState.RUNNING
    assert [i.instance_id for i in await adapter.list_tagged("local")] == [run_id]
    assert await adapter.list_tagged("other") == []

    await adapter.terminate(run_id)
    await adapter.terminate(run_id)  # idempotent
    [stop] = (await beat(client, secret, reports((run_id, "running", None))))["runs"]
    assert stop == {"id": run_id, "action": "stop", "command": None, "env": None}
    assert (await adapter.status([run_id]))[0].state is InstanceState.RUNNING
    assert (await beat(client, secret, reports((run_id, "exited", 137))))["runs"] == []
    gone, unknown = await adapter.status([run_id, "0123456789ab"])
    assert gone.state is InstanceState.TERMINATED and "137" in gone.provider_status
    assert unknown.state is InstanceState.TERMINATED
    assert await adapter.list_tagged("local") == []


async def test_a_running_run_missing_from_the_reports_has_exited(
    app: FastAPI, client: httpx.AsyncClient, machine: tuple[int, str]
) -> None:
    machine_id, secret = machine
    adapter = adapter_of(app)
    run_id = (await adapter.launch(request(machine_id))).instance_id
    await beat(client, secret, [])
    await beat(client, secret, reports((run_id, "running", None)))
    assert (await beat(client, secret, []))["runs"] == []
    assert (await adapter.status([run_id]))[0].state is InstanceState.TERMINATED


async def test_an_agent_without_runs_gets_them_listed_and_a_stop_ends_them(
    app: FastAPI, client: httpx.AsyncClient, machine: tuple[int, str]
) -> None:
    machine_id, secret = machine
    adapter = adapter_of(app)
    run_id = (await adapter.launch(request(machine_id))).instance_id
    assert [r["id"] for r in (await beat(client, secret))["runs"]] == [run_id]
    await adapter.terminate(run_id)
    assert (await beat(client, secret))["runs"] == [], "it never reported starting it"
    assert (await adapter.status([run_id]))[0].state is InstanceState.TERMINATED


async def test_a_run_never_handed_out_ends_at_once_and_one_offline_is_abandoned(
    app: FastAPI, client: httpx.AsyncClient, machine: tuple[int, str], clock: FrozenClock
) -> None:
    machine_id, secret = machine
    adapter = adapter_of(app)
    never = (await adapter.launch(request(machine_id, "8", "launch-8-1"))).instance_id
    await adapter.terminate(never)
    assert (await adapter.status([never]))[0].provider_status == "exited"
    handed = (await adapter.launch(request(machine_id, "9", "launch-9-1"))).instance_id
    await beat(client, secret, [])
    clock.advance(timedelta(seconds=app.state.settings.host_offline_after_seconds + 1))
    assert (await adapter.status([handed]))[0].state is InstanceState.UNKNOWN
    await adapter.terminate(handed)
    [gone] = await adapter.status([handed])
    assert gone.state is InstanceState.TERMINATED and "offline" in gone.provider_status
    assert (await beat(client, secret, reports((handed, "running", None))))["runs"] == []


async def test_no_run_on_a_missing_machine_and_malformed_reports_are_refused(
    app: FastAPI, client: httpx.AsyncClient, machine: tuple[int, str]
) -> None:
    _, secret = machine
    with pytest.raises(ProviderRejected, match="no machine 999"):
        await adapter_of(app).launch(request(999))
    with pytest.raises(ProviderRejected, match="unknown offer"):
        await adapter_of(app).launch(
            LaunchRequest(offer_ref="local-machine", client_token="x", tags=Tags("local", "1"))
        )
    response = await client.post(
        "/api/v1/hosts/agent/heartbeat",
        json={"runs": [{"id": "../../etc", "state": "running"}]},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 422 and response.json()["error"] == "ValidationError"

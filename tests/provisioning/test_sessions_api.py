"""Sessions end to end over HTTP against the fake Vast.ai: quote, hold, launch intent-first,
agent check-in, heartbeats, stop, verified destruction, and exact money."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gp4u.fakes.kit import FakeState
from gp4u.jobs.execute import run_job
from gp4u.kit.clock import FrozenClock
from tests.provisioning.support import FastVastai, ctx_of, drain, live_tagged


async def _fund(client: httpx.AsyncClient, amount: str = "100.00") -> None:
    paid = await client.post("/api/v1/wallet/deposits", json={"amount": amount, "source": "tok_ok"})
    assert paid.status_code in (200, 201), paid.text


async def _sync(client: httpx.AsyncClient) -> None:
    synced = await client.post("/api/v1/providers/vastai/sync")
    assert synced.json()["status"] == "ok", synced.text


async def _cheapest(
    client: httpx.AsyncClient, query: str = "provider=vastai spot=false"
) -> dict[str, Any]:
    page = await client.get("/api/v1/offers", params={"q": query, "sort": "price_per_hour"})
    items = page.json()["items"]
    assert items, page.text
    return items[0]


def _agent_token(vast: FakeState, session_id: int) -> str:
    [instance] = [i for i in live_tagged(vast) if i.attrs["label"].endswith(f"-{session_id}")]
    return str(instance.attrs["env"]["GP4U_AGENT_TOKEN"])


async def test_launch_run_stop_destroy_and_pay_per_minute(
    broker: httpx.AsyncClient, broker_app: FastAPI, vast: FakeState, clock: FrozenClock
) -> None:
    await _fund(broker)
    await _sync(broker)
    offer = await _cheapest(broker)
    created = await broker.post(
        "/api/v1/sessions",
        json={
            "offer_id": offer["id"],
            "hours": 2,
            "ssh_public_key": "generate",
            "env": {"HF": "hf_s3cr3tvalue"},
        },
    )
    assert created.status_code == 202, created.text
    body = created.json()
    assert body["state"] == "provisioning"
    assert body["ssh_private_key"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert body["env_keys"] == ["HF"] and "hf_s3cr3tvalue" not in created.text
    wallet = (await broker.get("/api/v1/wallet")).json()
    assert wallet["held"] == round(offer["price_per_hour"] * 2, 6)

    ctx = ctx_of(broker_app)
    assert "sessions.launch" in await drain(ctx)
    session = (await broker.get(f"/api/v1/sessions/{body['id']}")).json()
    assert session["state"] == "starting" and session["instance_id"]
    assert "ssh_private_key" not in session
    token = _agent_token(vast, body["id"])

    registered = await broker.post(
        "/api/v1/agent/register", json={"token": token, "facts": {"gpus": 1}}
    )
    assert registered.status_code == 200, registered.text
    secret = registered.json()["agent_secret"]
    again = await broker.post("/api/v1/agent/register", json={"token": token})
    assert again.status_code == 401  # one-time
    await run_job(ctx, "sessions.lifecycle")  # fills in the address once the machine is up
    session = (await broker.get(f"/api/v1/sessions/{body['id']}")).json()
    assert session["state"] == "running" and session["connection"]["command"].startswith("ssh ")

    clock.advance(timedelta(minutes=30, seconds=10))
    beat = await broker.post(
        "/api/v1/agent/heartbeat", json={}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert beat.json()["action"] == "continue"
    stopped = await broker.post(f"/api/v1/sessions/{body['id']}/stop")
    assert stopped.json()["state"] == "ending"
    await drain(ctx)
    session = (await broker.get(f"/api/v1/sessions/{body['id']}")).json()
    assert session["state"] == "terminated" and session["destroyed_at"]
    assert live_tagged(vast) == []
    # 31 started minutes at the quoted price; the rest of the hold is back.
    expected = round(-(-round(offer["price_per_hour"] * 1e6) * 31 // 60) / 1e6, 6)
    assert session["cost_so_far"] == expected
    wallet = (await broker.get("/api/v1/wallet")).json()
    assert wallet["held"] == 0
    assert wallet["available"] == round(100 - expected, 6)
    beat = await broker.post(
        "/api/v1/agent/heartbeat", json={}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert beat.json()["action"] == "shutdown"


async def test_where_no_agent_can_run_the_provider_saying_running_starts_billing(
    broker: httpx.AsyncClient,
    broker_app: FastAPI,
    vast: FakeState,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(FastVastai, "runs_agent", False)
    await _fund(broker)
    await _sync(broker)
    offer = await _cheapest(broker)
    created = await broker.post("/api/v1/sessions", json={"offer_id": offer["id"], "hours": 1})
    session_id = created.json()["id"]
    ctx = ctx_of(broker_app)
    await drain(ctx)
    assert (await broker.get(f"/api/v1/sessions/{session_id}")).json()["state"] == "starting"
    clock.advance(timedelta(seconds=30))
    await run_job(ctx, "sessions.lifecycle")
    session = (await broker.get(f"/api/v1/sessions/{session_id}")).json()
    assert session["state"] == "running" and session["connection"] is not None
    assert datetime.fromisoformat(session["running_at"]) == clock.now()

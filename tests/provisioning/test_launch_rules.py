"""What a launch refuses, with a clear error and nothing held or launched: offers that cannot be
launched (catalog, unknown), a duration past the user's or the platform's maximum, prices that
cannot be confirmed, insufficient funds, reserved env names, bad SSH keys; and how extending
works against the hard maximum."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gp4u.fakes.kit import FakeState
from gp4u.kit.clock import FrozenClock
from gp4u.offers.models import Offer
from gp4u.providers.base import BreakerOpen
from gp4u.providers.interface import Instance, LaunchRequest
from tests.provisioning.support import FastVastai, ctx_of, drain, live_tagged


async def _ready(client: httpx.AsyncClient, deposit: str = "100.00") -> dict[str, Any]:
    paid = await client.post(
        "/api/v1/wallet/deposits", json={"amount": deposit, "source": "tok_ok"}
    )
    assert paid.status_code == 201, paid.text
    assert (await client.post("/api/v1/providers/vastai/sync")).json()["status"] == "ok"
    page = await client.get(
        "/api/v1/offers", params={"q": "provider=vastai spot=false", "sort": "price_per_hour"}
    )
    return dict(page.json()["items"][0])


async def _nothing_held_or_launched(client: httpx.AsyncClient, vast: FakeState) -> None:
    assert (await client.get("/api/v1/wallet")).json()["held"] == 0
    assert (await client.get("/api/v1/sessions")).json()["items"] == []
    assert live_tagged(vast) == []


async def test_refusals_name_the_problem_and_change_nothing(
    broker: httpx.AsyncClient, vast: FakeState
) -> None:
    offer = await _ready(broker, deposit="0.10")
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"offer_id": 999_999, "hours": 1}, 404, "no offer 999999"),
        ({"offer_id": offer["id"], "hours": 13}, 400, "at most 12 h"),
        ({"offer_id": offer["id"], "hours": 1000}, 402, "insufficient"),
        ({"offer_id": offer["id"], "hours": 1, "env": {"GP4U_AGENT_TOKEN": "x"}}, 400, "reserved"),
        ({"offer_id": offer["id"], "hours": 1, "ssh_public_key": "ssh-rsa !!"}, 400, "OpenSSH"),
    ]
    for body, status, words in cases:
        if status == 402:
            body["hours"] = 12  # within the lifetime, beyond the 10-cent balance
        refused = await broker.post("/api/v1/sessions", json=body)
        assert refused.status_code == status, (body, refused.text)
        assert words.lower() in refused.json()["detail"].lower(), refused.text
    await _nothing_held_or_launched(broker, vast)


async def test_a_users_own_cap_lowers_the_maximum_but_never_raises_it(
    broker: httpx.AsyncClient, vast: FakeState
) -> None:
    offer = await _ready(broker)
    too_high = await broker.patch("/api/v1/me", json={"max_session_hours": 48})
    assert too_high.status_code == 400 and too_high.json()["field"] == "max_session_hours"
    lowered = await broker.patch("/api/v1/me", json={"max_session_hours": 2})
    assert lowered.json()["max_session_hours"] == 2
    refused = await broker.post("/api/v1/sessions", json={"offer_id": offer["id"], "hours": 3})
    assert refused.status_code == 400 and "at most 2 h" in refused.json()["detail"]
    created = await broker.post("/api/v1/sessions", json={"offer_id": offer["id"], "hours": 1.5})
    assert created.status_code == 202, created.text
    session = created.json()
    lifetime = datetime.fromisoformat(session["hard_deadline"]) - datetime.fromisoformat(
        session["created_at"]
    )
    assert lifetime == timedelta(hours=2)  # the user's cap, not the platform's 12 h
    cleared = await broker.patch("/api/v1/me", json={"clear_max_session_hours": True})
    assert cleared.json()["max_session_hours"] is None


async def test_catalog_offers_cannot_be_launched(
    broker: httpx.AsyncClient, broker_app: FastAPI, vast: FakeState
) -> None:
    await _ready(broker)
    async with ctx_of(broker_app).sessions() as session:
        offer = await session.get(Offer, 1)
        assert offer is not None
        offer.source = "catalog"
        await session.commit()
    refused = await broker.post("/api/v1/sessions", json={"offer_id": 1, "hours": 1})
    assert refused.status_code == 409
    assert "for comparing prices; it cannot be launched" in refused.json()["detail"]


async def test_a_price_that_cannot_be_confirmed_is_not_quoted(
    broker: httpx.AsyncClient, broker_app: FastAPI, vast: FakeState, clock: FrozenClock
) -> None:
    offer = await _ready(broker)
    vast.faults.fail_all = True
    clock.advance(timedelta(hours=1))  # past the offer cache's hard limit: it must ask again
    refused = await broker.post("/api/v1/sessions", json={"offer_id": offer["id"], "hours": 1})
    assert refused.status_code == 503, refused.text
    assert "cannot be reached to confirm the price" in refused.json()["detail"]
    vast.faults.fail_all = False
    await _nothing_held_or_launched(broker, vast)


async def test_extending_holds_more_and_stops_at_the_hard_maximum(
    broker: httpx.AsyncClient, broker_app: FastAPI, vast: FakeState
) -> None:
    offer = await _ready(broker)
    created = await broker.post("/api/v1/sessions", json={"offer_id": offer["id"], "hours": 10})
    session_id = created.json()["id"]
    held = (await broker.get("/api/v1/wallet")).json()["held"]
    extended = await broker.post(f"/api/v1/sessions/{session_id}/extend", json={"hours": 1.5})
    assert extended.status_code == 200, extended.text
    assert extended.json()["paid_hours"] == 11.5
    wallet = (await broker.get("/api/v1/wallet")).json()
    assert wallet["held"] == round(held + offer["price_per_hour"] * 1.5, 6)
    too_long = await broker.post(f"/api/v1/sessions/{session_id}/extend", json={"hours": 1})
    assert too_long.status_code == 400
    assert "at most 0.50 h" in too_long.json()["detail"]
    stopped = await broker.post(f"/api/v1/sessions/{session_id}/stop")
    assert stopped.json()["state"] == "ending"
    await drain(ctx_of(broker_app))
    assert (await broker.get("/api/v1/wallet")).json()["held"] == 0
    late = await broker.post(f"/api/v1/sessions/{session_id}/extend", json={"hours": 1})
    assert late.status_code == 409


async def test_no_launch_before_the_startup_reconciliation(
    broker: httpx.AsyncClient, broker_app: FastAPI, vast: FakeState
) -> None:
    offer = await _ready(broker)
    broker_app.state.sessions_ready = False  # as while the startup pass still runs
    refused = await broker.post("/api/v1/sessions", json={"offer_id": offer["id"], "hours": 1})
    assert refused.status_code == 503 and "reconciling" in refused.json()["detail"]
    await _nothing_held_or_launched(broker, vast)


async def test_a_provider_failing_fast_is_not_tried_again_in_the_same_launch(
    broker: httpx.AsyncClient,
    broker_app: FastAPI,
    vast: FakeState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    offer = await _ready(broker)
    calls: list[str] = []

    async def breaker_open(self: FastVastai, request: LaunchRequest) -> Instance:
        calls.append(request.offer_ref)
        raise BreakerOpen(self.name, "circuit breaker open")

    monkeypatch.setattr(FastVastai, "launch", breaker_open)
    created = await broker.post("/api/v1/sessions", json={"offer_id": offer["id"], "hours": 1})
    await drain(ctx_of(broker_app))
    session = (await broker.get(f"/api/v1/sessions/{created.json()['id']}")).json()
    assert len(calls) == 1  # not every matching Vast offer in turn
    assert session["state"] == "failed"
    assert "provider failing right now (not asked)" in session["launch_summary"]
    assert (await broker.get("/api/v1/wallet")).json()["held"] == 0

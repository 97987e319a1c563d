"""The authorisation baseline, walked over every route of the app (OWASP API1, API2, API3,
API5): in multi-user mode every non-public route needs credentials; every route that takes an
object id answers another user's object with 404 and leaves it untouched; request bodies refuse
unknown fields; responses never carry secrets. A new route fails these tests until it is
classified here."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.alerts.service import notify
from gp4u.app import create_app
from gp4u.db.engine import unit_of_work
from gp4u.kit.clock import FrozenClock
from gp4u.settings import Settings
from tests.factories import make_admin, sign_up

# Public market data and the ways in: no credentials needed.
PUBLIC = re.compile(
    r"^(/api/openapi\.json|/api/docs|/docs/oauth2-redirect|/healthz|/readyz|/metrics|/"
    r"|/api/v1/(offers|offers/summary|offers/compare|offers/\{offer_id(:int)?\}|offers/stream|gpus|gpus/\{name\}"
    r"|arbitrage/\w+|recommendations|prices/\w+|providers|providers/\{name\}/(health|offers)"
    r"|auth/(signup|token|login|refresh)"
    r"|machines/\{machine_id\}/(availability|calendar)"
    # The public cost simulator and the wizard in front of it (issue 8).
    r"|clusters/plan|wizard/estimate"
    # Node agents authenticate with a one-time token, then their agent secret.
    r"|agent/(register|heartbeat|done)|hosts/agent/(register|heartbeat)))$"
)
# Routes with an id that are not per-user objects, and why.
NOT_OWNED = {
    ("POST", "/api/v1/providers/{name}/sync"): "admin operation (403 for others)",
    ("POST", "/api/v1/providers/{name}/breaker/reset"): "admin operation (403 for others)",
    ("POST", "/api/v1/providers/{name}/cache/invalidate"): "admin operation (403 for others)",
    ("PATCH", "/api/v1/admin/users/{user_id}"): "admin operation (403 for others)",
    ("PUT", "/api/v1/me/provider-keys/{provider}"): "names a slot in the caller's own account",
    ("DELETE", "/api/v1/machines/{machine_id}/blocks/{block_id}"): "two ids: checked through "
    "its machine (tests/reservations/test_booking_api.py)",
}


@dataclass
class Owned:
    """How user A makes the object; returns the path with its id filled in and a check that
    the object is still there (after B's attempt)."""

    make: Callable[[httpx.AsyncClient, dict[str, str], Any], Awaitable[tuple[str, str | None]]]
    body: dict[str, Any] | None = None  # what the route needs to get past validation


async def _watch(
    client: httpx.AsyncClient, headers: dict[str, str], _: Any
) -> tuple[str, str | None]:
    created = await client.post(
        "/api/v1/alerts",
        json={"query": "gpu=H100", "max_price_per_gpu_hour": 2.0},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    watch = created.json()["id"]
    return str(watch), f"/api/v1/alerts/{watch}"


async def _notification(
    client: httpx.AsyncClient, headers: dict[str, str], ctx: Any
) -> tuple[str, str | None]:
    me = (await client.get("/api/v1/me", headers=headers)).json()["id"]
    async with unit_of_work(ctx["sessions"]) as session:
        await notify(session, me, kind="test", message="hello", payload={}, now=ctx["now"])
    notes = (await client.get("/api/v1/alerts/notifications", headers=headers)).json()["items"]
    return str(notes[0]["id"]), None


async def _api_key(
    client: httpx.AsyncClient, headers: dict[str, str], _: Any
) -> tuple[str, str | None]:
    created = await client.post(
        "/api/v1/me/api-keys", json={"name": "k", "scopes": ["read"]}, headers=headers
    )
    return created.json()["id"], None


async def _provider_key(
    client: httpx.AsyncClient, headers: dict[str, str], _: Any
) -> tuple[str, str | None]:
    await client.put(
        "/api/v1/me/provider-keys/vastai", json={"api_key": "secret-value-123456"}, headers=headers
    )
    return "vastai", None


async def _payment(
    client: httpx.AsyncClient, headers: dict[str, str], _: Any
) -> tuple[str, str | None]:
    created = await client.post(
        "/api/v1/wallet/deposits", json={"amount": "5", "source": "tok_ok"}, headers=headers
    )
    payment = created.json()["id"]
    return str(payment), f"/api/v1/wallet/payments/{payment}"


async def _session(
    client: httpx.AsyncClient, headers: dict[str, str], ctx: Any
) -> tuple[str, str | None]:
    """A session on the local provider (free), launched by A; the launch job is not run."""
    synced = await client.post("/api/v1/providers/local/sync", headers=ctx["admin"])
    assert synced.status_code == 200, synced.text
    offers = (await client.get("/api/v1/offers", params={"q": "provider=local"})).json()["items"]
    created = await client.post(
        "/api/v1/sessions", json={"offer_id": offers[0]["id"], "hours": 1}, headers=headers
    )
    assert created.status_code == 202, created.text
    session = created.json()["id"]
    return str(session), f"/api/v1/sessions/{session}"


async def _machine(
    client: httpx.AsyncClient, headers: dict[str, str], _: Any
) -> tuple[str, str | None]:
    body = {"name": "rig", "gpu_name": "RTX 4090", "gpu_count": 1, "price_per_hour": "2"}
    created = await client.post("/api/v1/machines", json=body, headers=headers)
    assert created.status_code == 201, created.text
    machine = created.json()["id"]
    return str(machine), f"/api/v1/machines/{machine}"


async def _reservation(
    client: httpx.AsyncClient, headers: dict[str, str], ctx: Any
) -> tuple[str, str | None]:
    """A reservation by A on a third user's online machine, tomorrow."""
    host = await sign_up(client, "host@example.com", ("host",))
    machine_id = (await _machine(client, host, ctx))[0]
    token = (await client.post(f"/api/v1/machines/{machine_id}/agent-token", headers=host)).json()[
        "agent_token"
    ]
    gpus = {"gpus": [{"name": "NVIDIA GeForce RTX 4090", "memory_gb": 23.99}]}
    registered = await client.post(
        "/api/v1/hosts/agent/register", json={"token": token, "facts": gpus}
    )
    assert registered.status_code == 200, registered.text
    await client.post(
        "/api/v1/wallet/deposits", json={"amount": "50", "source": "tok_ok"}, headers=headers
    )
    start = ctx["now"].replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    body = {
        "machine_id": int(machine_id),
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
    }
    created = await client.post("/api/v1/reservations", json=body, headers=headers)
    assert created.status_code == 201, created.text
    reservation = created.json()["id"]
    return str(reservation), f"/api/v1/reservations/{reservation}"


async def _cluster(
    client: httpx.AsyncClient, headers: dict[str, str], ctx: Any
) -> tuple[str, str | None]:
    """A planned cluster by A on a priced local slot (not started)."""
    slots = [{"ref": "slot-a", "gpu": "H100", "gpu_memory_gb": 80, "price_per_hour": 2.0}]
    ctx["data_dir"].mkdir(parents=True, exist_ok=True)
    (ctx["data_dir"] / "local-offers.json").write_text(json.dumps(slots))
    synced = await client.post("/api/v1/providers/local/sync", headers=ctx["admin"])
    assert synced.status_code == 200, synced.text
    await client.post(
        "/api/v1/wallet/deposits", json={"amount": "50", "source": "tok_ok"}, headers=headers
    )
    body = {"compute": {"gpu_hours": 1}, "deadline_hours": 2}
    created = await client.post("/api/v1/clusters", json=body, headers=headers)
    assert created.status_code == 201, created.text
    cluster = created.json()["id"]
    return str(cluster), f"/api/v1/clusters/{cluster}"


OWNED: dict[tuple[str, str], Owned] = {
    ("GET", "/api/v1/alerts/{watch_id}"): Owned(_watch),
    ("DELETE", "/api/v1/alerts/{watch_id}"): Owned(_watch),
    ("GET", "/api/v1/alerts/{watch_id}/deliveries"): Owned(_watch),
    ("POST", "/api/v1/alerts/notifications/{note_id}/read"): Owned(_notification),
    ("DELETE", "/api/v1/me/api-keys/{key_id}"): Owned(_api_key),
    ("DELETE", "/api/v1/me/provider-keys/{provider}"): Owned(_provider_key),
    ("GET", "/api/v1/wallet/payments/{payment_id}"): Owned(_payment),
    ("GET", "/api/v1/sessions/{session_id}"): Owned(_session),
    ("POST", "/api/v1/sessions/{session_id}/extend"): Owned(_session, {"hours": 1}),
    ("POST", "/api/v1/sessions/{session_id}/stop"): Owned(_session),
    ("GET", "/api/v1/machines/{machine_id}"): Owned(_machine),
    ("PATCH", "/api/v1/machines/{machine_id}"): Owned(_machine, {"min_hours": 2}),
    ("POST", "/api/v1/machines/{machine_id}/agent-token"): Owned(_machine),
    ("GET", "/api/v1/machines/{machine_id}/blocks"): Owned(_machine),
    ("POST", "/api/v1/machines/{machine_id}/blocks"): Owned(
        _machine, {"start": "2027-01-01T00:00:00Z", "end": "2027-01-02T00:00:00Z"}
    ),
    ("GET", "/api/v1/reservations/{reservation_id}"): Owned(_reservation),
    ("POST", "/api/v1/reservations/{reservation_id}/extend"): Owned(
        _reservation, {"end": "2026-11-02T16:00:00Z"}
    ),
    ("POST", "/api/v1/reservations/{reservation_id}/cancel"): Owned(_reservation),
    ("GET", "/api/v1/clusters/{cluster_id}"): Owned(_cluster),
    ("POST", "/api/v1/clusters/{cluster_id}/start"): Owned(_cluster),
    ("POST", "/api/v1/clusters/{cluster_id}/stop"): Owned(_cluster),
}


def routes(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for context in iter_route_contexts(app.routes):
        path = context.path
        for method in sorted(getattr(context.route, "methods", None) or ()):
            if path and method != "HEAD":
                found.append((method, path))
    return found


@pytest.fixture
def accounts_app(settings: Settings, clock: FrozenClock) -> FastAPI:
    return create_app(
        settings.model_copy(update={"auth": "accounts"}), clock=clock, background_jobs=False
    )


def test_every_route_with_an_id_is_classified(accounts_app: FastAPI) -> None:
    unclassified = [
        route
        for route in routes(accounts_app)
        if "{" in route[1]
        and route not in OWNED
        and route not in NOT_OWNED
        and not PUBLIC.match(route[1])
    ]
    assert unclassified == [], "add each to OWNED (with a maker) or NOT_OWNED (with a reason)"


async def test_every_non_public_route_needs_credentials(
    accounts_client: httpx.AsyncClient, accounts_app: FastAPI
) -> None:
    checked = 0
    for method, path in routes(accounts_app):
        if PUBLIC.match(path):
            continue
        url = re.sub(r"\{[^}]+\}", "1", path)
        response = await accounts_client.request(method, url)
        assert response.status_code == 401, (method, path, response.status_code)
        checked += 1
    assert checked >= 30


@pytest.mark.parametrize("route", sorted(OWNED), ids=lambda r: f"{r[0]} {r[1]}")
async def test_another_users_object_is_404_and_untouched(
    accounts_client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    settings: Settings,
    route: tuple[str, str],
) -> None:
    method, template = route
    alice = await sign_up(accounts_client, "alice@example.com", ("renter", "host"))
    bob = await sign_up(accounts_client, "bob@example.com", ("renter", "host"))
    admin = await make_admin(sessions, accounts_client, "admin@example.com")
    owned = OWNED[route]
    object_id, still_there = await owned.make(
        accounts_client,
        alice,
        {"sessions": sessions, "now": clock.now(), "admin": admin, "data_dir": settings.data_dir},
    )
    url = re.sub(r"\{[^}]+\}", object_id, template)
    response = await accounts_client.request(method, url, headers=bob, json=owned.body)
    assert response.status_code == 404, (method, url, response.text)
    assert object_id not in response.text or response.json()["error"] == "NotFound"
    if still_there is not None:
        assert (await accounts_client.get(still_there, headers=alice)).status_code == 200
    mine = await accounts_client.request(method, url, headers=alice, json=owned.body)
    assert mine.status_code < 400, (method, url, mine.text)


def test_request_bodies_refuse_unknown_fields(accounts_app: FastAPI) -> None:
    schemas = accounts_app.openapi()["components"]["schemas"]
    bodies = set()
    for operations in accounts_app.openapi()["paths"].values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                ref = media["schema"].get("$ref", "")
                bodies.add(ref.rsplit("/", 1)[-1])
    bodies.discard("")
    assert bodies, "no request bodies found"
    open_ = [
        name
        for name in sorted(bodies)
        if schemas[name].get("additionalProperties") is not False
        and not name.startswith("Body_")  # form bodies (OAuth2 password form) have fixed fields
    ]
    assert open_ == [], "request models must refuse unknown fields (web.schemas.RequestModel)"


SECRET_FIELDS = re.compile(
    r"password|hash|digest|secret|ciphertext|private_key|api_key$|^key$", re.I
)
# Secrets returned once, by the request that creates them, and never again.
SHOWN_ONCE = {
    "WatchCreated.webhook_secret",
    "ApiKeyCreated.key",
    "SessionCreatedOut.ssh_private_key",
    "ClusterCreatedOut.ssh_private_key",
    "AgentRegisteredOut.agent_secret",
    "HostAgentRegisteredOut.agent_secret",
}


def test_response_models_carry_no_secrets(accounts_app: FastAPI) -> None:
    schemas = accounts_app.openapi()["components"]["schemas"]
    leaks = [
        f"{name}.{field}"
        for name, schema in schemas.items()
        if not name.endswith("In") and not name.startswith("Body_")
        for field in schema.get("properties", {})
        if SECRET_FIELDS.search(field)
    ]
    assert sorted(leaks) == sorted(SHOWN_ONCE)

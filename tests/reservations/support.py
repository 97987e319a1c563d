"""Helpers of the reservation tests: hosts with machines whose agents checked in (seeing the
listed GPUs), and funded renters, all through the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from tests.factories import sign_up

RTX4090 = {"name": "NVIDIA GeForce RTX 4090", "memory_gb": 23.99, "driver_version": "550.54"}


def facts(count: int = 1, gpu: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"gpus": [gpu or RTX4090] * count, "cpu_count": 32, "hostname": "rig"}


async def list_machine(
    client: httpx.AsyncClient, headers: dict[str, str], **terms: Any
) -> dict[str, Any]:
    body = {"name": "rig", "gpu_name": "RTX 4090", "gpu_count": 1, "price_per_hour": "2.00"}
    response = await client.post("/api/v1/machines", json=body | terms, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def check_in(client: httpx.AsyncClient, token: str, count: int = 1) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/hosts/agent/register", json={"token": token, "facts": facts(count)}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def beat(
    client: httpx.AsyncClient, secret: str, runs: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A host agent's heartbeat; `runs` are its run reports (None: an agent without runs)."""
    response = await client.post(
        "/api/v1/hosts/agent/heartbeat",
        json={"facts": None, "runs": runs},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def online_machine(
    client: httpx.AsyncClient, headers: dict[str, str], **terms: Any
) -> tuple[int, str]:
    """A listed machine whose agent checked in: (machine id, agent secret)."""
    machine = await list_machine(client, headers, **terms)
    secret = (await check_in(client, machine["agent_token"], terms.get("gpu_count", 1)))[
        "agent_secret"
    ]
    return int(machine["id"]), str(secret)


async def renter(client: httpx.AsyncClient, email: str, dollars: str = "1000") -> dict[str, str]:
    headers = await sign_up(client, email)
    response = await client.post(
        "/api/v1/wallet/deposits", json={"amount": dollars, "source": "tok_ok"}, headers=headers
    )
    assert response.status_code == 201, response.text
    return headers


async def book(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    machine_id: int,
    start: datetime,
    end: datetime,
    **extra: Any,
) -> httpx.Response:
    body = {"machine_id": machine_id, "start": start.isoformat(), "end": end.isoformat()}
    return await client.post("/api/v1/reservations", json=body | extra, headers=headers)


async def wallet(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/api/v1/wallet", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())

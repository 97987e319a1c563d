"""Helpers of the cluster-run tests: a job that needs several machines of the fake Vast.ai's
market, and the cluster API as the renter uses it."""

from __future__ import annotations

import math
from typing import Any

from gp4u.clusters.throughput import instance_pflops
from tests.provisioning.rig import BrokerRig


async def fastest_pflops(rig: BrokerRig) -> float:
    """The useful PFLOPS of the fastest on-demand offer on the fake's market."""
    offers = await rig.offers()
    speeds = instance_pflops(
        [o["gpu"] for o in offers],
        [o.get("gpu_variant") for o in offers],
        [float(o["gpu_memory_gb"]) for o in offers],
        [int(o["gpu_count"]) for o in offers],
        "bf16",
    )
    return float(max(s for s in speeds if math.isfinite(s)))


async def job(
    rig: BrokerRig, machines: float = 1.5, hours: float = 1.0, **extra: Any
) -> dict[str, Any]:
    """A request no single machine can do in `hours` (about `machines` of the fastest)."""
    return {
        "compute": {"pflop_hours": round(await fastest_pflops(rig) * hours * machines, 6)},
        "deadline_hours": hours,
        "max_machines": 16,
        **extra,
    }


async def create(rig: BrokerRig, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Create a cluster (`key`: an Idempotency-Key; other keywords join the body)."""
    key = extra.pop("key", None)
    headers = {"Idempotency-Key": key} if key else {}
    created = await rig.client.post("/api/v1/clusters", json=body | extra, headers=headers)
    assert created.status_code == 201, created.text
    view: dict[str, Any] = created.json()
    return view


async def view(rig: BrokerRig, cluster_id: int) -> dict[str, Any]:
    got = await rig.client.get(f"/api/v1/clusters/{cluster_id}")
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


async def start(rig: BrokerRig, cluster_id: int) -> dict[str, Any]:
    started = await rig.client.post(f"/api/v1/clusters/{cluster_id}/start")
    assert started.status_code == 202, started.text
    body: dict[str, Any] = started.json()
    return body


async def offer_ref(rig: BrokerRig, offer_id: int) -> str:
    got = await rig.client.get(f"/api/v1/offers/{offer_id}")
    assert got.status_code == 200, got.text
    return str(got.json()["offer_ref"])

"""Each instance-capable fake driven through its own HTTP API, the same way for every one: create,
destroy, list, read the provider's status word and the hourly price it reports. Used by the
fakes' time, billing and fault tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from gp4u.fakes import lambda_cloud, runpod, tensordock, vastai
from gp4u.fakes.kit import FakeState

LABEL = "gp4u-dep1-s1"
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGp4dXRlc3RrZXk test@gp4u"


@dataclass(frozen=True)
class Driver:
    name: str
    create_app: Callable[[FakeState], FastAPI]
    offers: Callable[[], list[dict[str, Any]]]
    price: int  # micro-USD per hour the created instance is billed at
    words: tuple[str, str]  # the provider's words for booting, running
    create: Callable[[httpx.Client], httpx.Response]
    created_id: Callable[[httpx.Response], str]
    destroy: Callable[[httpx.Client, str], httpx.Response]
    listing: Callable[[httpx.Client], httpx.Response]
    status: Callable[[httpx.Client, str], str]
    reported_price: Callable[[httpx.Client, str], int]  # what the API says it costs, micro-USD

    def __str__(self) -> str:
        return self.name


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


# -- Vast.ai


def _vast_offers() -> list[dict[str, Any]]:
    offer = vastai.generate_offers(1, 0)[0]
    return [offer | {"id": 7, "dph_total": 0.351234, "min_bid": 0.2}]


def _vast_show(client: httpx.Client, instance_id: str) -> dict[str, Any]:
    record: dict[str, Any] = _ok(client.get(f"/api/v0/instances/{instance_id}/"))["instances"]
    return record


VAST = Driver(
    name="vastai",
    create_app=vastai.create_app,
    offers=_vast_offers,
    price=351_234,
    words=("loading", "running"),
    create=lambda c: c.put("/api/v0/asks/7/", json={"image": "pytorch", "label": LABEL}),
    created_id=lambda r: str(r.json()["new_contract"]),
    destroy=lambda c, i: c.delete(f"/api/v0/instances/{i}/"),
    listing=lambda c: c.get("/api/v1/instances/"),
    status=lambda c, i: str(_vast_show(c, i)["actual_status"]),
    reported_price=lambda c, i: round(_vast_show(c, i)["dph_total"] * 1_000_000),
)

# -- RunPod

L40S = {
    "id": "NVIDIA L40S",
    "displayName": "L40S",
    "manufacturer": "Nvidia",
    "memoryInGb": 48,
    "maxGpuCount": 4,
    "securePrice": 0.86,
    "communityPrice": 0.79,
    "secureSpotPrice": 0.52,
    "communitySpotPrice": 0.4,
    "_stock": {
        "secure": {"stockStatus": "Low", "maxUnreservedGpuCount": 2, "minVcpu": 12},
        "community": None,
    },
}
_DEPLOY = (
    'mutation { podFindAndDeployOnDemand(input: {gpuTypeId: "NVIDIA L40S", imageName: "x", '
    f'gpuCount: 2, cloudType: SECURE, name: "{LABEL}"}}) {{ id costPerHr }} }}'
)


def _graphql(client: httpx.Client, query: str) -> httpx.Response:
    return client.post("/graphql", json={"query": query})


def _pod(client: httpx.Client, pod_id: str) -> dict[str, Any]:
    query = (
        f'{{ pod(input: {{podId: "{pod_id}"}}) {{ id costPerHr runtime {{ uptimeInSeconds }} }} }}'
    )
    pod: dict[str, Any] = _ok(_graphql(client, query))["data"]["pod"]
    return pod


RUNPOD = Driver(
    name="runpod",
    create_app=runpod.create_app,
    offers=lambda: [dict(L40S)],
    price=1_720_000,  # 2 x 0.86
    words=("booting", "running"),
    create=lambda c: _graphql(c, _DEPLOY),
    created_id=lambda r: str(r.json()["data"]["podFindAndDeployOnDemand"]["id"]),
    destroy=lambda c, i: _graphql(c, f'mutation {{ podTerminate(input: {{podId: "{i}"}}) }}'),
    listing=lambda c: _graphql(c, "{ myself { pods { id } } }"),
    status=lambda c, i: "booting" if _pod(c, i)["runtime"] is None else "running",
    reported_price=lambda c, i: round(_pod(c, i)["costPerHr"] * 1_000_000),
)

# -- Lambda Cloud


def _lambda_offers() -> list[dict[str, Any]]:
    spec = {"vcpus": 26, "memory_gib": 200, "storage_gib": 1024, "gpus": 1}
    kind = {"name": "gpu_1x_h100_pcie", "price_cents_per_hour": 249, "specs": spec}
    regions = [{"name": "us-east-1", "description": "Virginia, USA"}]
    return [{"instance_type": kind, "regions_with_capacity_available": regions}]


def _lambda_launch(client: httpx.Client) -> httpx.Response:
    client.post("/ssh-keys", json={"name": "gp4u", "public_key": SSH_KEY})  # 400 when known
    body = {
        "region_name": "us-east-1",
        "instance_type_name": "gpu_1x_h100_pcie",
        "ssh_key_names": ["gp4u"],
        "name": LABEL,
    }
    return client.post("/instance-operations/launch", json=body)


def _lambda_show(client: httpx.Client, instance_id: str) -> dict[str, Any]:
    record: dict[str, Any] = _ok(client.get(f"/instances/{instance_id}"))["data"]
    return record


LAMBDA = Driver(
    name="lambda",
    create_app=lambda_cloud.create_app,
    offers=_lambda_offers,
    price=2_490_000,
    words=("booting", "active"),
    create=_lambda_launch,
    created_id=lambda r: str(r.json()["data"]["instance_ids"][0]),
    destroy=lambda c, i: c.post("/instance-operations/terminate", json={"instance_ids": [i]}),
    listing=lambda c: c.get("/instances"),
    status=lambda c, i: str(_lambda_show(c, i)["status"]),
    reported_price=lambda c, i: (
        _lambda_show(c, i)["instance_type"]["price_cents_per_hour"] * 10_000
    ),
)

# -- TensorDock

_RTX4090 = "geforcertx4090-pcie-24gb"


def _tensordock_offers() -> list[dict[str, Any]]:
    gpu = {
        "v0Name": _RTX4090,
        "displayName": "NVIDIA GeForce RTX 4090 PCIe 24GB",
        "max_count": 4,
        "price_per_hr": 0.35,
        "resources": {"max_vcpus": 32, "max_ram_gb": 128, "max_storage_gb": 2000},
        "pricing": {"per_vcpu_hr": 0.003, "per_gb_ram_hr": 0.002, "per_gb_storage_hr": 0.0001},
    }
    return [{"id": "loc-1", "city": "Austin", "country": "United States", "gpus": [gpu]}]


def _tensordock_create(client: httpx.Client) -> httpx.Response:
    resources = {"vcpu_count": 4, "ram_gb": 16, "storage_gb": 100, "gpus": {_RTX4090: {"count": 1}}}
    attributes = {
        "name": LABEL,
        "image": "ubuntu2404",
        "location_id": "loc-1",
        "ssh_key": SSH_KEY,
        "resources": resources,
    }
    body = {"data": {"type": "virtualmachine", "attributes": attributes}}
    return client.post("/api/v2/instances", json=body)


def _tensordock_show(client: httpx.Client, instance_id: str) -> dict[str, Any]:
    record: dict[str, Any] = _ok(client.get(f"/api/v2/instances/{instance_id}"))
    return record


TENSORDOCK = Driver(
    name="tensordock",
    create_app=tensordock.create_app,
    offers=_tensordock_offers,
    price=404_000,  # 0.35 + 4 x 0.003 + 16 x 0.002 + 100 x 0.0001
    words=("starting", "running"),
    create=_tensordock_create,
    created_id=lambda r: str(r.json()["data"]["id"]),
    destroy=lambda c, i: c.delete(f"/api/v2/instances/{i}"),
    listing=lambda c: c.get("/api/v2/instances"),
    status=lambda c, i: str(_tensordock_show(c, i)["status"]),
    reported_price=lambda c, i: round(_tensordock_show(c, i)["rateHourly"] * 1_000_000),
)

DRIVERS = (VAST, RUNPOD, LAMBDA, TENSORDOCK)

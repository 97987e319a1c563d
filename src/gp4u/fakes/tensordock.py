"""A fake TensorDock v2 API: `/api/v2/locations`, `/api/v2/instances` (list, create, get,
delete, start, stop), bearer auth and JSON:API-style errors.

Inventory is a list of v2 location records (`state.offers`); every live VM takes its GPUs out of
its location's `max_count`, so a full location refuses creates. Lists nest instance fields
under `attributes`; `GET /instances/{id}` answers flat, as TensorDock's docs show. Deleted VMs
vanish (404). Kit states map to words: booting → "starting", running → "running" (or "stopped"
after a stop). A VM is billed at its `rateHourly` (GPUs, vCPUs, RAM and storage as its location
prices them) until deleted, stopped or not.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response

from gp4u.fakes import kit
from gp4u.fakes.kit import FakeInstance, FakeState, json_response

API = "/api/v2"
MIN_STORAGE_GB = 100
OPERATIONS = kit.routes(
    ("GET", f"{API}/locations", "offers"),
    ("GET", f"{API}/instances", "list"),
    ("POST", f"{API}/instances", "create"),
    ("GET", f"{API}/instances/[^/]+", "show"),
    ("DELETE", f"{API}/instances/[^/]+", "destroy"),
    ("POST", f"{API}/instances/[^/]+/(?:start|stop)", "power"),
)

# (v0Name, displayName, typical $/GPU/h, largest count per location)
_GPUS = (
    ("h100-sxm5-80gb", "H100 SXM5 80GB", 2.25, 8),
    ("a100-sxm4-80gb", "A100 SXM4 80GB", 0.87, 8),
    ("a100-pcie-80gb", "A100 PCIe 80GB", 0.75, 4),
    ("l40-pcie-48gb", "L40 PCIe 48GB", 1.05, 8),
    ("rtxa6000-pcie-48gb", "RTX A6000 PCIe 48GB", 0.45, 4),
    ("geforcertx4090-pcie-24gb", "NVIDIA GeForce RTX 4090 PCIe 24GB", 0.35, 8),
    ("geforcertx3090-pcie-24gb", "NVIDIA GeForce RTX 3090 PCIe 24GB", 0.2, 4),
    ("rtxa4000-pcie-16gb", "RTX A4000 PCIe 16GB", 0.13, 4),
    ("v100-sxm2-16gb", "Tesla V100 SXM2 16GB", 0.19, 8),
)
_PLACES = (
    ("Austin", "Texas", "United States"),
    ("Chicago", "Illinois", "United States"),
    ("Ashburn", "Virginia", "United States"),
    ("Las Vegas", "Nevada", "United States"),
    ("Winnipeg", "Manitoba", "Canada"),
    ("Joensuu", "North Karelia", "Finland"),
    ("Amsterdam", "North Holland", "Netherlands"),
    ("Frankfurt", "Hesse", "Germany"),
    ("London", "England", "United Kingdom"),
    ("Tokyo", "Tokyo", "Japan"),
)


def _gpu_record(rng: random.Random, gpu: tuple[str, str, float, int]) -> dict[str, Any]:
    model, display, price, largest = gpu
    count = rng.choice([c for c in (0, 1, 2, 4, 8) if c <= largest])
    return {
        "v0Name": model,
        "displayName": display,
        "max_count": count,
        "price_per_hr": round(price * rng.uniform(0.85, 1.25), 2),
        "resources": {
            "max_vcpus": max(count, 1) * rng.choice((8, 16, 32)),
            "max_ram_gb": max(count, 1) * rng.choice((32, 64, 128)),
            "max_storage_gb": rng.choice((1000, 2000, 4000)),
        },
        "pricing": {
            "per_vcpu_hr": rng.choice((0.002, 0.003, 0.004)),
            "per_gb_ram_hr": rng.choice((0.001, 0.002, 0.0025)),
            "per_gb_storage_hr": rng.choice((0.00005, 0.0001)),
        },
        "network_features": {
            "dedicated_ip_available": rng.random() < 0.9,
            "port_forwarding_available": True,
            "network_storage_available": False,
        },
    }


def generate_offers(count: int, seed: int) -> list[dict[str, Any]]:
    """`count` deterministic v2 location records, each with one to three GPU models."""
    rng = random.Random(seed)
    records = []
    for _ in range(count):
        city, state, country = rng.choice(_PLACES)
        gpus = rng.sample(_GPUS, rng.randint(1, 3))
        records.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "city": city,
                "stateprovince": state,
                "country": country,
                "tier": rng.randint(1, 4),
                "gpus": [_gpu_record(rng, gpu) for gpu in gpus],
            }
        )
    return records


def _error(state: FakeState, status: int, title: str, detail: str) -> Response:
    return json_response(
        state, {"errors": [{"status": str(status), "title": title, "detail": detail}]}, status
    )


def _auth_error(request: Request, state: FakeState) -> Response | None:
    """403 without a token (as observed live), 401 with a wrong one."""
    if "authorization" not in request.headers:
        return _error(state, 403, "Forbidden", "Missing API token")
    if not kit.bearer_ok(request, state):
        return _error(state, 401, "Unauthorized", "Invalid API token")
    return None


class _Fake:
    """The handlers' shared logic, over one FakeState."""

    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.default_inventory = generate_offers(40, 0)

    def inventory(self) -> list[dict[str, Any]]:
        return self.state.offers or self.default_inventory

    def used(self) -> Counter[tuple[str, str]]:
        """GPUs held by live VMs, per (location id, GPU model)."""
        used: Counter[tuple[str, str]] = Counter()
        for vm in self.state.live_instances():
            location, model = vm.attrs.get("location_id"), vm.attrs.get("gpu_model")
            if isinstance(location, str) and isinstance(model, str):
                used[location, model] += int(vm.attrs.get("gpu_count", 0))
        return used

    def locations(self) -> list[dict[str, Any]]:
        used = self.used()
        out = []
        for location in self.inventory():
            gpus = []
            for gpu in location.get("gpus", []):
                left = gpu.get("max_count", 0) - used[location.get("id", ""), gpu.get("v0Name", "")]
                gpus.append(self.state.strip({**gpu, "max_count": max(0, left)}))
            out.append(self.state.strip({**location, "gpus": gpus}))
        return out

    def find_gpu(self, location_id: str, model: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """(location, GPU entry) with availability applied; KeyError names what is missing."""
        for location in self.inventory():
            if location.get("id") == location_id:
                for gpu in location.get("gpus", []):
                    if gpu.get("v0Name") == model:
                        left = gpu.get("max_count", 0) - self.used()[location_id, model]
                        return location, {**gpu, "max_count": max(0, left)}
                raise KeyError("gpu")
        raise KeyError("location")

    @staticmethod
    def word(vm: FakeInstance) -> str:
        if vm.state() == "booting":
            return "starting"
        return "stopped" if vm.attrs.get("stopped") else "running"

    def fields(self, vm: FakeInstance) -> dict[str, Any]:
        a = vm.attrs
        running = vm.state() == "running" and not a.get("stopped")
        model = a.get("gpu_model")
        gpus = [{"gpuV0Name": model, "count": a.get("gpu_count", 1)}] if model else []
        return {
            "name": a.get("name", f"vm-{vm.id}"),
            "status": self.word(vm),
            "ipAddress": f"203.0.113.{int(vm.id) % 250 + 1}" if running else None,
            "portForwards": a.get("port_forwards", []),
            "rateHourly": a.get("rate_hourly", 0.5),
            "location_id": a.get("location_id"),
            "image": a.get("image", "ubuntu2404"),
            "resources": {
                "vcpu_count": a.get("vcpu_count", 2),
                "ram_gb": a.get("ram_gb", 8),
                "storage_gb": a.get("storage_gb", MIN_STORAGE_GB),
                "gpus": gpus,
            },
        }

    def listed(self, vm: FakeInstance) -> dict[str, Any]:
        attributes = self.state.strip(self.fields(vm))
        return self.state.strip({"type": "virtualmachine", "id": vm.id, "attributes": attributes})

    def flat(self, vm: FakeInstance) -> dict[str, Any]:
        return self.state.strip({"type": "virtualmachine", "id": vm.id, **self.fields(vm)})

    def live(self, instance_id: str) -> FakeInstance | None:
        vm = self.state.instances.get(instance_id)
        return vm if vm is not None and vm.state() != "terminated" else None


def _invalid(body: Any) -> str | None:
    """What is wrong with a create body, in TensorDock's words; None when it is valid."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or data.get("type") != "virtualmachine":
        return "data.type must be 'virtualmachine'"
    a = data.get("attributes")
    if not isinstance(a, dict):
        return "data.attributes is required"
    for name in ("name", "image"):
        if not isinstance(a.get(name), str) or not a[name].strip():
            return f"{name} is required"
    resources = a.get("resources")
    if not isinstance(resources, dict):
        return "resources is required"
    for name in ("vcpu_count", "ram_gb"):
        value = resources.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            return f"resources.{name} must be a positive integer"
    storage = resources.get("storage_gb")
    if not isinstance(storage, int | float) or storage < MIN_STORAGE_GB:
        return f"Minimum storage is {MIN_STORAGE_GB}GB"
    gpus = resources.get("gpus")
    if not isinstance(gpus, dict) or len(gpus) != 1:
        return "resources.gpus must name exactly one GPU model"
    count = next(iter(gpus.values()))
    if not isinstance(count, dict) or not isinstance(count.get("count"), int) or count["count"] < 1:
        return "resources.gpus.<model>.count must be a positive integer"
    if ("location_id" in a) == ("hostnode_id" in a):
        return "Exactly one of location_id or hostnode_id is required"
    if ("ssh_key" in a) == ("ssh_key_id" in a) or not (a.get("ssh_key") or a.get("ssh_key_id")):
        return "Provide either ssh_key or ssh_key_id"
    return None


def _rate(gpu: dict[str, Any], r: dict[str, Any], n: int) -> Decimal:
    """The hourly price of a VM in dollars, as the location prices its resources."""
    prices = gpu.get("pricing", {})
    total: Decimal = (
        Decimal(str(gpu["price_per_hr"])) * n
        + Decimal(str(prices.get("per_vcpu_hr", 0))) * r["vcpu_count"]
        + Decimal(str(prices.get("per_gb_ram_hr", 0))) * r["ram_gb"]
        + Decimal(str(prices.get("per_gb_storage_hr", 0))) * Decimal(str(r["storage_gb"]))
    )
    return total


def _too_big(gpu: dict[str, Any], r: dict[str, Any]) -> str | None:
    limits = gpu.get("resources", {})
    for want, limit in (("vcpu_count", "max_vcpus"), ("ram_gb", "max_ram_gb")):
        if limit in limits and r[want] > limits[limit]:
            return f"Requested {want} {r[want]} exceeds the maximum of {limits[limit]}"
    if "max_storage_gb" in limits and r["storage_gb"] > limits["max_storage_gb"]:
        return f"Requested storage_gb exceeds the maximum of {limits['max_storage_gb']}"
    return None


def create_app(state: FakeState | None = None) -> FastAPI:
    """The fake TensorDock v2 API over `state` (a fresh one when None)."""
    state = state or FakeState()
    fake = _Fake(state)
    app = FastAPI(title="fake TensorDock v2")
    kit.install(app, state, generate_offers, OPERATIONS)

    @app.get(f"{API}/locations")
    async def locations() -> Response:
        return json_response(state, {"data": {"locations": fake.locations()}})

    @app.get(f"{API}/instances")
    async def list_instances(request: Request) -> Response:
        if denied := _auth_error(request, state):
            return denied
        records = [fake.listed(vm) for vm in state.live_instances()]
        return json_response(state, {"data": {"instances": records}})

    @app.post(f"{API}/instances")
    async def create(request: Request) -> Response:
        if denied := _auth_error(request, state):
            return denied
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error(state, 400, "Bad Request", "Request body is not valid JSON")
        if problem := _invalid(body):
            return _error(state, 400, "Bad Request", problem)
        return _create(body["data"]["attributes"])

    def _create(a: dict[str, Any]) -> Response:
        if "hostnode_id" in a:
            return _error(state, 404, "Not Found", "Hostnode not found")
        resources = a["resources"]
        model, spec = next(iter(resources["gpus"].items()))
        try:
            location, gpu = fake.find_gpu(str(a["location_id"]), model)
        except KeyError as missing:
            if missing.args[0] == "location":
                return _error(state, 404, "Not Found", "Location not found")
            return _error(state, 400, "Bad Request", f"GPU {model} not available at location")
        if spec["count"] > gpu["max_count"]:
            detail = f"Insufficient GPU availability: requested {spec['count']}, "
            return _error(state, 400, "Bad Request", detail + f"available {gpu['max_count']}")
        if problem := _too_big(gpu, resources):
            return _error(state, 400, "Bad Request", problem)
        rate = _rate(gpu, resources, spec["count"])
        vm = state.create_instance(
            {
                "name": a["name"],
                "image": a["image"],
                "location_id": location["id"],
                "gpu_model": model,
                "gpu_count": spec["count"],
                "vcpu_count": resources["vcpu_count"],
                "ram_gb": resources["ram_gb"],
                "storage_gb": resources["storage_gb"],
                "rate_hourly": float(rate),
                "use_dedicated_ip": a.get("useDedicatedIp", False),
                "port_forwards": a.get("port_forwards", []),
                "ssh_key": a.get("ssh_key"),
                "cloud_init": a.get("cloud_init"),
            },
            price_per_hour=kit.micros(rate),
        )
        if state.faults.lying_create:
            return _error(state, 500, "Internal Server Error", "An unexpected error occurred")
        summary = {"type": "virtualmachine", "id": vm.id, "name": a["name"]}
        answer = state.strip({**summary, "status": fake.word(vm)})  # `missing_fields` applies
        return json_response(state, {"data": answer}, 201)

    @app.get(f"{API}/instances/{{instance_id}}")
    async def get_instance(instance_id: str, request: Request) -> Response:
        if denied := _auth_error(request, state):
            return denied
        vm = fake.live(instance_id)
        if vm is None:
            return _error(state, 404, "Not Found", "Instance not found")
        return json_response(state, fake.flat(vm))

    @app.delete(f"{API}/instances/{{instance_id}}")
    async def delete_instance(instance_id: str, request: Request) -> Response:
        if denied := _auth_error(request, state):
            return denied
        if not state.terminate(instance_id):
            return _error(state, 404, "Not Found", "Instance not found")
        message = {"message": "Instance deleted successfully"}
        return json_response(state, {"data": {"type": "success", "attributes": message}})

    @app.post(f"{API}/instances/{{instance_id}}/{{action}}")
    async def start_stop(instance_id: str, action: str, request: Request) -> Response:
        if denied := _auth_error(request, state):
            return denied
        vm = fake.live(instance_id)
        if action not in ("start", "stop"):
            return _error(state, 404, "Not Found", "Unknown action")
        if vm is None:
            return _error(state, 404, "Not Found", "Instance not found")
        vm.attrs["stopped"] = action == "stop"
        word = "starting" if action == "start" else "stopping"
        record = {"type": "virtualmachine", "id": vm.id, "attributes": {"status": word}}
        return json_response(state, {"data": record})

    return app

"""A fake Lambda Cloud API (v1), faithful enough that the adapter cannot tell the difference.

Served at the root and under `/api/v1` (the real prefix), so a base URL of either works:
- auth: `Authorization: Bearer <key>`, or Basic with the key as user name (base64 `key:` or the bare
  key); anything else answers 401 `global/invalid-api-key` in Lambda's error envelope;
- `GET /instance-types`: `{"data": {<name>: {instance_type, regions_with_capacity_available}}}`
  from `state.offers` (provider-native items, see `generate_offers`);
- `POST /instance-operations/launch`: validated like Lambda (required fields, exactly one
  registered SSH key, `quantity` 1, name up to 64 characters, tag keys `^[a-z][a-z0-9-:]+$`);
  an unknown type, region or key is 404 `global/object-does-not-exist`, a region without capacity
  for the type 400 `instance-operations/launch/insufficient-capacity`;
- `GET /instances`, `GET /instances/{id}`: status `booting` → `active`; after a terminate
  `terminating` for `TERMINATING_SECONDS`, then the instance is gone (unlisted, 404 by id);
- `POST /instance-operations/terminate`: an unknown or gone id is 404
  `global/object-does-not-exist`;
- `GET/POST /ssh-keys`, `DELETE /ssh-keys/{id}` (a duplicate name is 400 invalid-parameters).
Registered SSH keys live in `app.state.ssh_keys`. Instance attrs (also for
`POST /_fake/instances`): `name`, `instance_type`, `region`, `ssh_key_names`, `tags`
(`[{key, value}]`). An instance is billed at its type's `price_cents_per_hour` at launch.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import random
import re
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request, Response

from gp4u.fakes import kit
from gp4u.fakes.kit import FakeInstance, FakeState, json_response

TERMINATING_SECONDS = 0.2

# (name, GPU description, GPUs, cents per hour, vCPUs, memory GiB, storage GiB): list prices
# and shapes of Lambda's public instance types (lambda.ai/instances), rounded.
_TYPES: tuple[tuple[str, str, int, int, int, int, int], ...] = (
    ("gpu_1x_a10", "A10 (24 GB PCIe)", 1, 75, 30, 200, 1400),
    ("gpu_1x_a100", "A100 (40 GB PCIe)", 1, 129, 30, 200, 512),
    ("gpu_1x_a100_sxm4", "A100 (40 GB SXM4)", 1, 129, 30, 200, 512),
    ("gpu_8x_a100", "A100 (40 GB SXM4)", 8, 1032, 124, 1800, 6144),
    ("gpu_8x_a100_80gb_sxm4", "A100 (80 GB SXM4)", 8, 1432, 240, 1800, 19500),
    ("gpu_1x_h100_pcie", "H100 (80 GB PCIe)", 1, 249, 26, 200, 1024),
    ("gpu_1x_h100_sxm5", "H100 (80 GB SXM5)", 1, 329, 26, 225, 2816),
    ("gpu_2x_h100_sxm5", "H100 (80 GB SXM5)", 2, 638, 52, 450, 5632),
    ("gpu_4x_h100_sxm5", "H100 (80 GB SXM5)", 4, 1236, 104, 900, 11264),
    ("gpu_8x_h100_sxm5", "H100 (80 GB SXM5)", 8, 2392, 208, 1800, 22528),
    ("gpu_1x_gh200", "GH200 (96 GB)", 1, 149, 64, 432, 4096),
    ("gpu_8x_b200_sxm6", "B200 (180 GB SXM6)", 8, 3992, 208, 2900, 22528),
    ("gpu_1x_a6000", "RTX A6000 (48 GB)", 1, 80, 14, 100, 512),
    ("gpu_2x_a6000", "RTX A6000 (48 GB)", 2, 160, 28, 200, 1024),
    ("gpu_4x_a6000", "RTX A6000 (48 GB)", 4, 320, 56, 400, 1024),
    ("gpu_1x_rtx6000", "RTX 6000 (24 GB)", 1, 50, 14, 46, 512),
    ("gpu_8x_v100", "Tesla V100 (16 GB)", 8, 440, 88, 448, 5888),
)
_REGIONS: tuple[tuple[str, str], ...] = (
    ("us-east-1", "Virginia, USA"),
    ("us-east-3", "Washington DC, USA"),
    ("us-west-1", "California, USA"),
    ("us-west-2", "Arizona, USA"),
    ("us-west-3", "Utah, USA"),
    ("us-south-1", "Texas, USA"),
    ("us-south-2", "North Texas, USA"),
    ("us-south-3", "Central Texas, USA"),
    ("us-midwest-1", "Illinois, USA"),
    ("europe-central-1", "Germany"),
    ("asia-northeast-1", "Tokyo, Japan"),
    ("asia-northeast-2", "Osaka, Japan"),
    ("asia-south-1", "India"),
    ("me-west-1", "Israel"),
    ("australia-east-1", "Australia"),
)
_REGION_NAMES = dict(_REGIONS)
_TAG_KEY = re.compile(r"^[a-z][a-z0-9-:]+$")
_P = "(?:/api/v1)?"  # served at the root and under the real prefix
OPERATIONS = kit.routes(
    ("GET", f"{_P}/instance-types", "offers"),
    ("POST", f"{_P}/instance-operations/launch", "create"),
    ("GET", f"{_P}/instances", "list"),
    ("GET", f"{_P}/instances/[^/]+", "show"),
    ("POST", f"{_P}/instance-operations/terminate", "destroy"),
    ("GET", f"{_P}/ssh-keys", "ssh_key"),
    ("POST", f"{_P}/ssh-keys", "ssh_key"),
    ("DELETE", f"{_P}/ssh-keys/[^/]+", "ssh_key"),
)


def generate_offers(count: int, seed: int) -> list[dict[str, Any]]:
    """`count` instance-type items as `GET /instance-types` holds them (unique names; after the
    real catalog, priced variants `<name>_v<n>`), deterministic for a seed. Like the live API,
    about a third of the types have no capacity anywhere."""
    rng = random.Random(seed)
    items = []
    for i in range(count):
        name, gpu, gpus, cents, vcpus, memory, storage = _TYPES[i % len(_TYPES)]
        generation = i // len(_TYPES)
        if generation:
            name = f"{name}_v{generation}"
            cents = max(1, round(cents * rng.uniform(0.85, 1.15)))
        regions = rng.sample(_REGIONS, rng.choice((0, 0, 1, 1, 2, 3)))
        items.append(
            {
                "instance_type": {
                    "name": name,
                    "description": f"{gpus}x {gpu}",
                    "gpu_description": gpu,
                    "price_cents_per_hour": cents,
                    "specs": {
                        "vcpus": vcpus,
                        "memory_gib": memory,
                        "storage_gib": storage,
                        "gpus": gpus,
                    },
                },
                "regions_with_capacity_available": [
                    {"name": r, "description": d} for r, d in regions
                ],
            }
        )
    return items


def _error(
    state: FakeState, status: int, code: str, message: str, suggestion: str = ""
) -> Response:
    error = {"code": code, "message": message}
    if suggestion:
        error["suggestion"] = suggestion
    return json_response(state, {"error": error}, status)


def _invalid(state: FakeState, message: str) -> Response:
    return _error(state, 400, "global/invalid-parameters", message)


def _missing(state: FakeState, what: str) -> Response:
    return _error(state, 404, "global/object-does-not-exist", f"Specified {what} does not exist.")


def _authorized(request: Request, state: FakeState) -> bool:
    header = request.headers.get("authorization", "")
    if header == f"Bearer {state.api_key}":
        return True
    if not header.startswith("Basic "):
        return False
    token = header.removeprefix("Basic ").strip()
    if token == state.api_key:
        return True
    try:
        user = base64.b64decode(token, validate=True).decode().split(":", 1)[0]
    except (binascii.Error, UnicodeDecodeError):
        return False
    return user == state.api_key


def _unauthorized(state: FakeState) -> Response:
    return _error(
        state,
        401,
        "global/invalid-api-key",
        "API key was invalid, expired, or deleted.",
        "Check your API key or create a new one, then try again.",
    )


async def _json_body(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None


def _status_word(instance: FakeInstance, now: float) -> str | None:
    """Lambda's status of an instance, or None once it is gone."""
    state = instance.state(now)
    if state == "terminated":
        ended = instance.terminated or now
        return "terminating" if now - ended < TERMINATING_SECONDS else None
    return "active" if state == "running" else "booting"


def _launch_problem(
    body: Any, state: FakeState, keys: dict[str, dict[str, str]]
) -> Response | None:
    """Lambda's answer to an invalid launch request, or None when it is valid."""
    if not isinstance(body, dict):
        return _invalid(state, "Request body must be a JSON object.")
    for field in ("region_name", "instance_type_name"):
        if not isinstance(body.get(field), str) or not body[field]:
            return _invalid(state, f"Missing or invalid field: {field}.")
    ssh = body.get("ssh_key_names")
    if not isinstance(ssh, list) or len(ssh) != 1 or not isinstance(ssh[0], str):
        return _invalid(state, "Exactly one SSH key must be specified.")
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 64):
        return _invalid(state, "Instance name must be a string of 64 characters or fewer.")
    if body.get("quantity", 1) != 1:
        return _invalid(state, "quantity: only one instance can be launched per request.")
    if body.get("file_system_names"):
        return _missing(state, "file system")
    tags = body.get("tags", [])
    if not isinstance(tags, list) or not all(_valid_tag(t) for t in tags):
        return _invalid(state, "Invalid tags.")
    if ssh[0] not in keys:
        return _missing(state, "SSH key")
    return None


def _valid_tag(tag: Any) -> bool:
    return (
        isinstance(tag, dict)
        and isinstance(tag.get("key"), str)
        and isinstance(tag.get("value"), str)
        and len(tag["key"]) <= 55
        and bool(_TAG_KEY.match(tag["key"]))
        and len(tag["value"]) <= 128
    )


def create_app(state: FakeState | None = None) -> FastAPI:
    """The fake Lambda Cloud API app; `state` holds offers, instances and faults."""
    state = state or FakeState()
    app = FastAPI(title="Fake Lambda Cloud API")
    default_offers = generate_offers(40, 0)
    keys: dict[str, dict[str, str]] = {}  # SSH key name → record
    app.state.ssh_keys = keys  # not cleared by the kit's reset; clear it between tests
    router = APIRouter()

    def inventory() -> dict[str, dict[str, Any]]:
        items = state.offers or default_offers
        return {
            item["instance_type"]["name"]: item
            for item in items
            if isinstance(item.get("instance_type"), dict) and "name" in item["instance_type"]
        }

    def record(instance: FakeInstance, status: str) -> dict[str, Any]:
        attrs = instance.attrs
        type_name = str(attrs.get("instance_type") or "gpu_1x_a10")
        spec = inventory().get(type_name, {}).get("instance_type") or {"name": type_name}
        region = str(attrs.get("region") or "us-east-1")
        host = f"10-0-{int(instance.id) % 250}-{int(instance.id) // 250 % 250}"
        token = hashlib.md5(instance.id.encode(), usedforsecurity=False).hexdigest()
        data: dict[str, Any] = {
            "id": instance.id,
            "status": status,
            "ssh_key_names": list(attrs.get("ssh_key_names") or []),
            "file_system_names": [],
            "region": {"name": region, "description": _REGION_NAMES.get(region, region)},
            "instance_type": dict(spec),
            "hostname": f"{host}.cloud.lambdalabs.com",
            "jupyter_token": token,
            "jupyter_url": f"https://jupyter-{token}.lambdaspaces.com/?token={token}",
            "is_reserved": False,
            "actions": {
                a: {"available": status == "active"}
                for a in ("migrate", "rebuild", "restart", "cold_reboot", "terminate")
            },
            "tags": list(attrs.get("tags") or []),
        }
        if attrs.get("name") is not None:
            data["name"] = attrs["name"]
        if status == "active":  # the address appears late in boot
            data["ip"] = f"192.0.2.{int(instance.id) % 250 + 1}"
            data["private_ip"] = f"10.0.2.{int(instance.id) % 250 + 1}"
        return state.strip(data)

    def visible(now: float) -> list[tuple[FakeInstance, str]]:
        found = []
        for instance in state.instances.values():
            word = _status_word(instance, now)
            if word is not None:
                found.append((instance, word))
        return found

    @router.get("/instance-types")
    async def instance_types(request: Request) -> Response:
        if not _authorized(request, state):
            return _unauthorized(state)
        data = {}
        for name, item in inventory().items():
            stripped = state.strip(dict(item))
            if isinstance(stripped.get("instance_type"), dict):
                stripped["instance_type"] = state.strip(dict(stripped["instance_type"]))
            data[name] = stripped
        return json_response(state, {"data": data})

    @router.get("/instances")
    async def list_instances(request: Request) -> Response:
        if not _authorized(request, state):
            return _unauthorized(state)
        return json_response(state, {"data": [record(i, w) for i, w in visible(state.now())]})

    @router.get("/instances/{instance_id}")
    async def get_instance(instance_id: str, request: Request) -> Response:
        if not _authorized(request, state):
            return _unauthorized(state)
        instance = state.instances.get(instance_id)
        word = _status_word(instance, state.now()) if instance else None
        if instance is None or word is None:
            return _missing(state, "instance")
        return json_response(state, {"data": record(instance, word)})

    @router.post("/instance-operations/launch")
    async def launch(request: Request) -> Response:
        if not _authorized(request, state):
            return _unauthorized(state)
        body = await _json_body(request)
        problem = _launch_problem(body, state, keys)
        if problem is not None:
            return problem
        item = inventory().get(body["instance_type_name"])
        if item is None:
            return _missing(state, "instance type")
        if body["region_name"] not in _REGION_NAMES:
            return _missing(state, "region")
        capacity = {r.get("name") for r in item.get("regions_with_capacity_available", [])}
        if body["region_name"] not in capacity:
            return _error(
                state,
                400,
                "instance-operations/launch/insufficient-capacity",
                "Not enough capacity to fulfill launch request.",
                "Choose an instance type with more availability, or try again later.",
            )
        cents = (item.get("instance_type") or {}).get("price_cents_per_hour")
        instance = state.create_instance(
            {
                "name": body.get("name"),
                "instance_type": body["instance_type_name"],
                "region": body["region_name"],
                "ssh_key_names": body["ssh_key_names"],
                "tags": body.get("tags", []),
            },
            price_per_hour=kit.micros(cents) // 100,
        )
        if state.faults.lying_create:
            return _error(state, 500, "global/unknown", "An unknown error occurred.")
        answer = state.strip({"instance_ids": [instance.id]})  # `missing_fields` applies
        return json_response(state, {"data": answer})

    @router.post("/instance-operations/terminate")
    async def terminate(request: Request) -> Response:
        if not _authorized(request, state):
            return _unauthorized(state)
        body = await _json_body(request)
        ids = body.get("instance_ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            return _invalid(state, "instance_ids must be a non-empty list of instance IDs.")
        now = state.now()
        if any(
            i not in state.instances or _status_word(state.instances[i], now) is None for i in ids
        ):
            return _missing(state, "instance")
        done = []
        for instance_id in ids:
            state.terminate(instance_id)
            done.append(record(state.instances[instance_id], "terminating"))
        return json_response(state, {"data": {"terminated_instances": done}})

    @router.get("/ssh-keys")
    async def list_keys(request: Request) -> Response:
        if not _authorized(request, state):
            return _unauthorized(state)
        return json_response(state, {"data": list(keys.values())})

    @router.post("/ssh-keys")
    async def add_key(request: Request) -> Response:
        if not _authorized(request, state):
            return _unauthorized(state)
        body = await _json_body(request)
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not 1 <= len(name) <= 64:
            return _invalid(state, "name must be 1 to 64 characters.")
        if name in keys:
            return _invalid(state, "An SSH key with this name already exists.")
        public_key = body.get("public_key")
        key: dict[str, str] = {"id": hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()}
        if public_key is None:  # Lambda generates a pair and returns the private half once
            key |= {"name": name, "public_key": f"ssh-ed25519 AAAAfake{key['id']} {name}"}
            keys[name] = key
            return json_response(state, {"data": {**key, "private_key": "-----BEGIN FAKE-----"}})
        if not isinstance(public_key, str) or len(public_key.split()) < 2:
            return _invalid(state, "public_key is not a valid SSH public key.")
        keys[name] = key | {"name": name, "public_key": public_key}
        return json_response(state, {"data": keys[name]})

    @router.delete("/ssh-keys/{key_id}")
    async def delete_key(key_id: str, request: Request) -> Response:
        if not _authorized(request, state):
            return _unauthorized(state)
        for name, key in list(keys.items()):
            if key["id"] == key_id:
                del keys[name]
                return json_response(state, {"data": {}})
        return _error(state, 404, "global/not-found", "The requested resource was not found.")

    kit.install(app, state, generate_offers, OPERATIONS)
    app.include_router(router)
    app.include_router(router, prefix="/api/v1")
    return app

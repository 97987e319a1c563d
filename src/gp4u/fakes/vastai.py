"""A fake Vast.ai API: offer search, rent an ask, show / list (paginated) / destroy instances,
attach an SSH key, the current user. Paths, methods, bodies and error shapes follow Vast's
documented API and the samples in ../shared/data/provider-api/vastai.

Auth is `Authorization: Bearer <key>` (or `?api_key=`); the offer search is anonymous. An ask is
rented while a live instance holds it, so it leaves the rentable search and a second rent gets
410 `no_such_ask`. A destroyed instance shows as `{"instances": null}`; an id never issued is a
404. The v1 list pages by at most 25 with an opaque `next_token` sent back as `after_token`.
An instance is billed at its `dph_total`: the offer's, or the bid `price` of an interruptible one.
"""

from __future__ import annotations

import base64
import binascii
import random
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response

from gp4u.fakes import kit
from gp4u.fakes.kit import FakeInstance, FakeState, json_response

DEFAULT_IMAGE = "vastai/base-image:@vastai-automatic-tag"
SEARCH_DEFAULT_LIMIT = 64
LIST_DEFAULT_LIMIT = 5
LIST_MAX_LIMIT = 25
_SEARCH_TYPES = frozenset({"on-demand", "bid", "reserved"})
_RUNTYPES = frozenset(
    {"ssh", "jupyter", "args", "ssh_proxy", "ssh_direct", "jupyter_proxy", "jupyter_direct"}
)
_LIST_FILTERABLE = frozenset(
    {"id", "label", "actual_status", "intended_status", "cur_state", "gpu_name", "machine_id"}
)
_STORAGE_GB = 5.0  # the storage Vast prices into a search's dph_total by default
_HOURS_PER_MONTH = 720.0
_ANY_HOST = "0.0.0.0"  # noqa: S104 - the address Docker reports for a published port  # nosec B104

_OPS: Mapping[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and a > b,
    "gte": lambda a, b: a is not None and a >= b,
    "lt": lambda a, b: a is not None and a < b,
    "lte": lambda a, b: a is not None and a <= b,
    "in": lambda a, b: a in b,
    "notin": lambda a, b: a not in b,
}

# name, gpu_ram MB, typical $/h per GPU, DLPerf per GPU, TFLOPS per GPU, compute_cap
_GPUS: tuple[tuple[str, int, float, float, float, int], ...] = (
    ("RTX 3060", 12288, 0.06, 11.5, 13.2, 860),
    ("RTX 3090", 24576, 0.19, 27.9, 35.6, 860),
    ("RTX 4090", 24564, 0.34, 61.3, 82.6, 890),
    ("RTX 5090", 32607, 0.55, 141.8, 107.6, 1200),
    ("RTX A6000", 49140, 0.45, 38.2, 38.7, 860),
    ("L40S", 46068, 0.72, 74.9, 91.6, 890),
    ("A100 PCIE", 40960, 0.68, 69.8, 19.5, 800),
    ("A100 SXM4", 81920, 1.05, 91.2, 19.5, 800),
    ("H100 PCIE", 81559, 1.85, 123.0, 51.2, 900),
    ("H100 SXM", 81559, 2.25, 163.5, 66.9, 900),
    ("Tesla V100", 16384, 0.14, 19.8, 15.7, 700),
)
_PLACES = (
    "Texas, US",
    "California, US",
    "Washington, US",
    "Quebec, CA",
    "Ontario, CA",
    "Bavaria, DE",
    "North Holland, NL",
    "Stockholm, SE",
    "Guangxi, CN",
    "Tokyo, JP",
    "New South Wales, AU",
    "Moravia, CZ",
)
_CPUS = (
    ("AMD EPYC 7642 48-Core Processor", 96, 257_000),
    ("AMD EPYC 9354 32-Core Processor", 64, 515_000),
    ("Xeon® Gold 6342", 48, 386_000),
    ("Core™ Ultra 9 285K", 24, 63_745),
    ("Ryzen 9 7950X 16-Core Processor", 32, 128_000),
)


def generate_offers(count: int, seed: int) -> list[dict[str, Any]]:
    """`count` Vast bundle records (one per machine), deterministic for a seed."""
    rng = random.Random(seed)
    return [_offer(rng, index, seed) for index in range(count)]


def _offer(rng: random.Random, index: int, seed: int) -> dict[str, Any]:
    name, gpu_ram, per_gpu, dlperf, flops, cap = rng.choice(_GPUS)
    gpus = rng.choice((1, 1, 1, 2, 2, 4, 8))
    machine_gpus = max(gpus, rng.choice((1, 2, 4, 8)))
    frac = gpus / machine_gpus
    cpu_name, host_cores, host_ram = rng.choice(_CPUS)
    dph_base = round(per_gpu * gpus * rng.uniform(0.8, 1.3), 6)
    storage_cost = round(rng.uniform(0.05, 0.3), 6)  # $/GB/month
    disk_hour = storage_cost * _STORAGE_GB / _HOURS_PER_MONTH
    dph_total = dph_base + disk_hour
    reliability = round(rng.uniform(0.9, 0.9999), 7)
    ask = 20_000_000 + seed * 1_000_000 + index
    return {
        "id": ask,
        "ask_contract_id": ask,
        "bundle_id": 1_500_000_000 + seed * 1_000_000 + index,
        "bundled_results": None,
        "machine_id": 40_000 + seed * 100_000 + index,
        "host_id": 100_000 + index // 3,
        "hostname": None,
        "num_gpus": gpus,
        "gpu_name": name,
        "gpu_arch": "nvidia",
        "gpu_ram": gpu_ram,
        "gpu_total_ram": gpu_ram * gpus,
        "gpu_frac": frac,
        "gpu_lanes": 16,
        "gpu_mem_bw": round(rng.uniform(400, 3300), 1),
        "gpu_display_active": False,
        "bw_nvlink": 0.0,
        "compute_cap": cap,
        "cuda_max_good": rng.choice((12.2, 12.4, 12.6, 12.8)),
        "driver_version": rng.choice(("535.183.01", "550.127.05", "570.124.04")),
        "cpu_arch": "amd64",
        "cpu_name": cpu_name,
        "cpu_cores": host_cores,
        "cpu_cores_effective": round(host_cores * frac, 1),
        "cpu_ghz": round(rng.uniform(2.0, 5.7), 1),
        "cpu_ram": host_ram,
        "disk_name": "Samsung SSD 990 PRO 4TB",
        "disk_space": round(rng.uniform(100, 3000), 1),
        "disk_bw": round(rng.uniform(500, 7000), 1),
        "inet_up": round(rng.uniform(50, 5000), 1),
        "inet_down": round(rng.uniform(50, 5000), 1),
        "inet_up_cost": 0.001953125,
        "inet_down_cost": 0.001953125,
        "direct_port_count": rng.randint(0, 500),
        "static_ip": rng.random() < 0.5,
        "public_ipaddr": f"203.0.113.{index % 250 + 1}",
        "geolocation": rng.choice(_PLACES),
        "hosting_type": rng.choice((0, 0, 1)),
        "verification": rng.choice(("verified", "verified", "unverified")),
        "vericode": 1,
        "reliability": reliability,
        "reliability2": reliability,
        "dlperf": round(dlperf * gpus * rng.uniform(0.9, 1.05), 4),
        "total_flops": round(flops * gpus, 4),
        "score": round(dlperf * gpus * reliability / max(dph_total, 0.01), 4),
        "dph_base": dph_base,
        "dph_total": dph_total,
        "min_bid": round(dph_base * rng.uniform(0.4, 0.9), 6),
        "is_bid": False,
        "storage_cost": storage_cost,
        "storage_total_cost": disk_hour,
        "search": {
            "gpuCostPerHour": dph_base,
            "diskHour": disk_hour,
            "totalHour": dph_total,
            "discountTotalHour": 0,
            "discountedTotalPerHour": dph_total,
        },
        "duration": round(rng.uniform(86_400, 90 * 86_400), 1),
        "rentable": True,
        "rented": False,
        "external": None,
        "resource_type": "gpu",
    }


OPERATIONS = kit.routes(
    ("POST", r"/api/v0/bundles/?", "offers"),
    ("PUT", r"/api/v0/asks/[^/]+/?", "create"),
    ("GET", r"/api/v0/instances/[^/]+/?", "show"),
    ("DELETE", r"/api/v0/instances/[^/]+/?", "destroy"),
    ("POST", r"/api/v0/instances/[^/]+/ssh/?", "ssh_key"),
    ("GET", r"/api/v1/instances/?", "list"),
    ("GET", r"/api/v0/users/current/?", "account"),
)


def create_app(state: FakeState | None = None) -> FastAPI:
    state = state or FakeState()
    app = FastAPI(title="fake Vast.ai")
    app.state.searches = []  # every offer-search query, for tests
    kit.install(app, state, generate_offers, OPERATIONS)
    _search_routes(app, state)
    _instance_routes(app, state)
    _account_routes(app, state)
    return app


def _search_routes(app: FastAPI, state: FakeState) -> None:
    @app.post("/api/v0/bundles/")
    async def search(request: Request) -> Response:
        query = _json(await request.body())
        if not isinstance(query, dict):
            return _invalid(state, "search query must be a JSON object")
        app.state.searches.append(query)
        kind = query.get("type", "on-demand")
        limit = query.get("limit", SEARCH_DEFAULT_LIMIT)
        if kind not in _SEARCH_TYPES:
            return _invalid(state, f"type must be one of {sorted(_SEARCH_TYPES)}")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            return _invalid(state, "limit must be a positive integer")
        filters = {k: v for k, v in query.items() if k not in ("type", "limit", "order")}
        problem = _filter_problem(filters)
        if problem:
            return _invalid(state, problem)
        records = [r for r in _market(state) if _matches(r, filters)]
        if kind == "bid":
            records = [r for r in records if r.get("min_bid") is not None]
        records = _ordered(records, query.get("order"))[:limit]
        return json_response(state, {"offers": [state.strip(r) for r in records]})


def _instance_routes(app: FastAPI, state: FakeState) -> None:
    @app.put("/api/v0/asks/{ask}/")
    async def rent(ask: str, request: Request) -> Response:
        if not _authorized(request, state):
            return _unauthorized(state)
        ask_id = _id(ask)
        if ask_id is None:
            message = "error 400/3467: Invalid args: 'id' is required and must be a valid offer ID"
            return json_response(state, {"success": False, "msg": message, "ask_id": ask}, 400)
        body = _json(await request.body())
        problem = _rent_problem(body)
        if problem:
            return _invalid(state, problem, ask_id=ask_id)
        assert isinstance(body, dict)
        return _rent(state, ask_id, body)

    @app.get("/api/v0/instances/{instance_id}/")
    async def show(instance_id: str, request: Request) -> Response:
        if not _authorized(request, state):
            return _unauthorized(state)
        instance = state.instances.get(instance_id)
        if instance is None:
            return _not_found(state)
        if instance.state() == "terminated":
            return json_response(state, {"instances": None})
        return json_response(state, {"instances": _instance_record(state, instance)})

    @app.delete("/api/v0/instances/{instance_id}/")
    async def destroy(instance_id: str, request: Request) -> Response:
        if not _authorized(request, state):
            return _unauthorized(state)
        if not state.terminate(instance_id):
            return _not_found(state)
        return json_response(state, {"success": True, "msg": "Instance destroyed successfully"})

    @app.post("/api/v0/instances/{instance_id}/ssh/")
    async def attach_ssh(instance_id: str, request: Request) -> Response:
        if not _authorized(request, state):
            return _unauthorized(state)
        body = _json(await request.body())
        key = body.get("ssh_key") if isinstance(body, dict) else None
        if not isinstance(key, str) or not key:
            return _invalid(state, "ssh_key is required")
        instance = state.instances.get(instance_id)
        if instance is None or instance.state() == "terminated":
            return _not_found(state)
        instance.attrs.setdefault("ssh_keys", []).append(key)
        return json_response(state, {"success": True, "msg": "SSH key attached successfully"})

    @app.get("/api/v1/instances/")
    async def instances(request: Request) -> Response:
        if not _authorized(request, state):
            return _unauthorized(state)
        return _instance_list(state, request.query_params)


def _account_routes(app: FastAPI, state: FakeState) -> None:
    @app.get("/api/v0/users/current/")
    async def current_user(request: Request) -> Response:
        if not _authorized(request, state):
            return _unauthorized(state)
        user = {
            "id": 31337,
            "username": "gp4u-fake",
            "email": "fake@example.invalid",
            "credit": 100.0,
            "balance": 0.0,
            "has_billing": True,
        }
        return json_response(state, user)


def _rent(state: FakeState, ask_id: int, body: dict[str, Any]) -> Response:
    offer = next((r for r in _market(state) if r.get("id") == ask_id), None)
    if offer is None:
        message = f"error 404/3603: no_such_ask Instance type by id {ask_id} is not available."
        return _refuse(state, 404, "invalid_args", message, ask_id)
    if not offer.get("rentable", False):
        message = f"error 410/3907: no_such_ask Instance type {ask_id} is no longer available."
        return _refuse(state, 410, "no_such_ask", message, ask_id)
    bid = body.get("price")
    if bid is not None and bid < (offer.get("min_bid") or 0):
        message = f"bid {bid} is below the minimum bid {offer.get('min_bid')}"
        return _refuse(state, 400, "invalid_price", message, ask_id)
    attrs = _rented_attrs(offer, body)
    instance = state.create_instance(attrs, price_per_hour=kit.micros(attrs["dph_total"]))
    if state.faults.lying_create:
        return Response(b'{"error": "internal_error"}', 500, media_type="application/json")
    answer = state.strip({"success": True, "new_contract": int(instance.id)})  # `missing_fields`
    return json_response(state, answer)


def _rented_attrs(offer: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    keep = (
        "machine_id",
        "host_id",
        "gpu_name",
        "num_gpus",
        "gpu_ram",
        "cpu_cores",
        "cpu_cores_effective",
        "cpu_ram",
        "geolocation",
        "public_ipaddr",
        "min_bid",
        "dph_base",
        "reliability2",
        "verification",
    )
    attrs: dict[str, Any] = {key: offer.get(key) for key in keep}
    attrs["ask_id"] = offer.get("id")
    bid = body.get("price")
    attrs["is_bid"] = bid is not None
    attrs["dph_total"] = bid if bid is not None else offer.get("dph_total")
    for key in ("label", "image", "disk", "onstart", "env", "args", "runtype"):
        if key in body:
            attrs[key] = body[key]
    if bid is not None:
        attrs["price"] = bid
    return attrs


def _rent_problem(body: Any) -> str | None:
    """What is wrong with a rent request, in Vast's words where known."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    image = body.get("image")
    image_ok = isinstance(image, str) and 0 < len(image) <= 1024
    if not image_ok and "template_hash_id" not in body:
        return "image is required (at most 1024 characters)"
    disk = body.get("disk")
    if disk is not None and (isinstance(disk, bool) or not isinstance(disk, int | float)):
        return "disk must be a number"
    if disk is not None and disk < 8:
        return "disk must be at least 8 GB"
    label = body.get("label")
    if label is not None and (not isinstance(label, str) or len(label) > 256):
        return "label must be a string of at most 256 characters"
    price = body.get("price")
    if price is not None and (not isinstance(price, int | float) or not 0.001 <= price <= 128):
        return "Please set a bid price between 0.001 and 128."
    if "runtype" in body and body["runtype"] not in _RUNTYPES:
        return f"runtype must be one of {sorted(_RUNTYPES)}"
    return _launch_problem(body)


def _launch_problem(body: Mapping[str, Any]) -> str | None:
    env = body.get("env")
    if env is not None and not isinstance(env, str | dict):
        return "env must be a string of docker flags or an object"
    if isinstance(env, dict) and not all(isinstance(v, str) for v in env.values()):
        return "env values must be strings"
    args = body.get("args")
    if args is not None and not (isinstance(args, list) and all(isinstance(a, str) for a in args)):
        return "args must be an array of strings"
    onstart = body.get("onstart")
    if onstart is not None and not isinstance(onstart, str):
        return "onstart must be a string"
    return None


def _instance_list(state: FakeState, query: Mapping[str, str]) -> Response:
    try:
        limit = int(query.get("limit", "0"))
    except ValueError:
        return _bad_query(state, "limit must be an integer")
    limit = LIST_DEFAULT_LIMIT if limit <= 0 else min(limit, LIST_MAX_LIMIT)
    filters = _json(query.get("select_filters", "{}").encode())
    if not isinstance(filters, dict):
        return _bad_query(state, "select_filters must be a JSON object")
    for column in filters:
        if column not in _LIST_FILTERABLE:
            return _bad_query(state, f"{column} is not a valid search key")
    problem = _filter_problem(filters)
    if problem:
        return _bad_query(state, problem)
    after = 0
    if "after_token" in query:
        decoded = _token_id(query["after_token"])
        if decoded is None:
            return _bad_query(state, "invalid after_token")
        after = decoded
    live = sorted(state.live_instances(), key=lambda i: int(i.id))
    records = [_instance_record(state, i, strip=False) for i in live]
    matching = [r for r in records if _matches(r, filters)]
    page = [r for r in matching if r["id"] > after][:limit]
    more = bool(page) and page[-1]["id"] < matching[-1]["id"]
    labels: dict[str, int] = {}
    for record in matching:
        labels[record.get("label") or ""] = labels.get(record.get("label") or "", 0) + 1
    body = {
        "success": True,
        "instances_found": len(page),
        "total_instances": len(matching),
        "label_counts": labels,
        "next_token": _token(page[-1]["id"]) if more else None,
        "instances": [state.strip(r) for r in page],
    }
    return json_response(state, body)


def _instance_record(
    state: FakeState, instance: FakeInstance, *, strip: bool = True
) -> dict[str, Any]:
    a = instance.attrs
    running = instance.state() == "running"
    index = int(instance.id) % 9000
    ssh_port = 10_000 + index
    env: dict[str, Any] = a["env"] if isinstance(a.get("env"), dict) else {}
    record = {
        "id": int(instance.id),
        "actual_status": "running" if running else "loading",
        "intended_status": "running",
        "cur_state": "running",
        "next_state": "running",
        "label": a.get("label"),
        "image_uuid": a.get("image", DEFAULT_IMAGE),
        "image_args": a.get("args", []),
        "image_runtype": a.get("runtype", "ssh"),
        "extra_env": [[k, v] for k, v in env.items()],
        "onstart": a.get("onstart"),
        "status_msg": "success, running" if running else "Pulling image",
        "ssh_host": f"ssh{index % 9 + 1}.vast.ai",
        "ssh_idx": str(index % 9 + 1),
        "ssh_port": ssh_port,
        "public_ipaddr": a.get("public_ipaddr", "203.0.113.200"),
        "ports": {"22/tcp": [{"HostIp": _ANY_HOST, "HostPort": str(ssh_port)}]}
        if running
        else None,
        "machine_id": a.get("machine_id", 40_999),
        "host_id": a.get("host_id", 100_999),
        "start_date": instance.created,
        "gpu_name": a.get("gpu_name", "RTX 4090"),
        "num_gpus": a.get("num_gpus", 1),
        "gpu_ram": a.get("gpu_ram", 24564),
        "gpu_totalram": a.get("gpu_ram", 24564),
        "cpu_cores": a.get("cpu_cores", 32),
        "cpu_cores_effective": a.get("cpu_cores_effective", 8.0),
        "cpu_ram": a.get("cpu_ram", 128_000),
        "disk_space": float(a.get("disk", 10.0)),
        "geolocation": a.get("geolocation", "Texas, US"),
        "verification": a.get("verification", "verified"),
        "reliability2": a.get("reliability2", 0.99),
        "is_bid": a.get("is_bid", False),
        "min_bid": a.get("min_bid", 0.2),
        "dph_base": a.get("dph_base", 0.35),
        "dph_total": a.get("dph_total", 0.351),
    }
    return state.strip(record) if strip else record


def _market(state: FakeState) -> list[dict[str, Any]]:
    """The offers with an ask held by a live instance marked rented."""
    if not state.offers:
        state.offers = generate_offers(40, 0)
    held = {i.attrs.get("ask_id") for i in state.live_instances()}
    taken = {"rentable": False, "rented": True}
    return [{**r, **taken} if r.get("id") in held else r for r in state.offers]


def _filter_problem(filters: Mapping[str, Any]) -> str | None:
    for column, condition in filters.items():
        if not isinstance(condition, dict):
            continue  # a bare value means equality
        for op in condition:
            if op not in _OPS:
                return f"unknown operator {op!r} for {column}"
    return None


def _matches(record: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
    for column, condition in filters.items():
        value = record.get(column)
        tests = condition.items() if isinstance(condition, dict) else [("eq", condition)]
        try:
            if not all(_OPS[op](value, wanted) for op, wanted in tests):
                return False
        except TypeError:
            return False
    return True


def _ordered(records: list[dict[str, Any]], order: Any) -> list[dict[str, Any]]:
    """Sorted by `order` ([[column, "asc"|"desc"], ...]); records without the column last."""
    if not isinstance(order, list):
        return records
    for item in reversed(order):
        if isinstance(item, list) and item and isinstance(item[0], str):
            descending = len(item) > 1 and item[1] == "desc"
            present = [r for r in records if isinstance(r.get(item[0]), int | float)]
            absent = [r for r in records if not isinstance(r.get(item[0]), int | float)]
            present.sort(key=_column(item[0]), reverse=descending)
            records = present + absent
    return records


def _column(name: str) -> Callable[[Mapping[str, Any]], float]:
    return lambda record: float(record[name])


def _authorized(request: Request, state: FakeState) -> bool:
    return kit.bearer_ok(request, state) or request.query_params.get("api_key") == state.api_key


def _unauthorized(state: FakeState) -> Response:
    message = "Authorization Error. Check that you have proper privileges to perform this action."
    return json_response(state, {"success": False, "error": "auth_error", "msg": message}, 401)


def _not_found(state: FakeState) -> Response:
    body = {"success": False, "error": "not_found", "msg": "Instance not found"}
    return json_response(state, body, 404)


def _invalid(state: FakeState, message: str, *, ask_id: int | None = None) -> Response:
    body: dict[str, Any] = {"success": False, "error": "invalid_args", "msg": message}
    if ask_id is not None:
        body["ask_id"] = ask_id
    return json_response(state, body, 400)


def _refuse(state: FakeState, status: int, error: str, message: str, ask_id: int) -> Response:
    body = {"success": False, "error": error, "msg": message, "ask_id": ask_id}
    return json_response(state, body, status)


def _bad_query(state: FakeState, message: str) -> Response:
    body = {"error": "invalid_request", "msg": f"Error in query parameters: {message}"}
    return json_response(state, body, 400)


def _token(last_id: int) -> str:
    return base64.b64encode(orjson.dumps({"values": {"id": last_id}})).decode()


def _token_id(token: str) -> int | None:
    try:
        decoded = orjson.loads(base64.b64decode(token, validate=True))
    except (binascii.Error, orjson.JSONDecodeError):
        return None
    values = decoded.get("values") if isinstance(decoded, dict) else None
    value = values.get("id") if isinstance(values, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _id(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


def _json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None

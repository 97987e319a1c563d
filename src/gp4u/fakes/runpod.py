"""A fake RunPod GraphQL API (`POST /graphql`) for tests and benchmarks.

It parses the operation it is sent (one query or mutation: variables, aliases, arguments, nested
selections; no fragments), checks every selected field against a slice of RunPod's schema and
answers only what was selected, in RunPod's shapes. Supported root fields: `gpuTypes`, `pod`,
`myself { pods }`, `podFindAndDeployOnDemand`, `podRentInterruptable`, `podTerminate`.

Like RunPod: `gpuTypes` needs no key; `pod`, `myself` and mutations answer 401 without a valid key
(`Authorization: Bearer <key>` or the older `?api_key=`), and any request with a wrong key gets
401. Malformed documents and invalid inputs answer 400 with a GraphQL `errors` array; refusals
(no capacity, unknown pod, low bid) answer 200 with `errors` and `"data": null`. A pod whose
desiredStatus is RUNNING has `runtime: null` while it boots; terminated pods are forgotten.

Offer records (`FakeState.offers`) are `gpuTypes` records; the fake-only key `_stock` holds per
cloud what `lowestPrice` reports (`stockStatus`, `maxUnreservedGpuCount`, `minVcpu`, `minMemory`
for one GPU). A record with a literal `lowestPrice` object answers it whatever the input.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response

from gp4u.fakes import kit
from gp4u.fakes.kit import FakeInstance, FakeState

NO_CAPACITY = (
    "There are no longer any instances available with the requested specifications. "
    "Please refresh and try again."
)
CLOUD_TYPES = ("ALL", "SECURE", "COMMUNITY")
CLOUDS = ("secure", "community")

# ---- a slice of RunPod's schema: type → field → object type (None for scalars) --------------


def _scalars(names: str) -> dict[str, str | None]:
    return dict.fromkeys(names.split())


SCHEMA: dict[str, dict[str, str | None]] = {
    "Query": {"gpuTypes": "GpuType", "pod": "Pod", "myself": "User"},
    "Mutation": {
        "podFindAndDeployOnDemand": "Pod",
        "podRentInterruptable": "Pod",
        "podTerminate": None,
    },
    "GpuType": _scalars(
        "id displayName manufacturer memoryInGb cudaCores maxGpuCount maxGpuCountSecureCloud "
        "maxGpuCountCommunityCloud secureCloud communityCloud securePrice communityPrice "
        "secureSpotPrice communitySpotPrice oneWeekPrice oneMonthPrice"
    )
    | {"lowestPrice": "LowestPrice"},
    "LowestPrice": _scalars(
        "gpuName gpuTypeId minimumBidPrice uninterruptablePrice minVcpu minMemory stockStatus "
        "maxUnreservedGpuCount availableGpuCounts countryCode rentedCount totalCount"
    ),
    "Pod": _scalars(
        "id name desiredStatus imageName gpuCount vcpuCount memoryInGb costPerHr podType "
        "containerDiskInGb volumeInGb volumeMountPath dockerArgs dockerId env port ports "
        "machineId lastStatusChange uptimeSeconds"
    )
    | {"runtime": "PodRuntime", "machine": "PodMachineInfo"},
    "PodRuntime": {"uptimeInSeconds": None, "ports": "PodRuntimePorts", "gpus": "PodRuntimeGpus"},
    "PodRuntimePorts": _scalars("ip isIpPublic privatePort publicPort type"),
    "PodRuntimeGpus": _scalars("id gpuUtilPercent memoryUtilPercent"),
    "PodMachineInfo": _scalars("gpuDisplayName gpuTypeId podHostId location"),
    "User": {"id": None, "email": None, "pods": "Pod"},
}
AUTHENTICATED = frozenset({"pod", "myself"})  # and every mutation


class BadRequest(Exception):
    """A document or input the server rejects outright (HTTP 400)."""

    def __init__(self, message: str, code: str = "GRAPHQL_VALIDATION_FAILED") -> None:
        super().__init__(message)
        self.message, self.code = message, code


class FieldError(Exception):
    """A resolver's refusal: HTTP 200, `errors` with the field's path, `data: null`."""

    def __init__(self, message: str, code: str = "INTERNAL_SERVER_ERROR") -> None:
        super().__init__(message)
        self.message, self.code = message, code


# ---- parsing GraphQL documents --------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<skip>[\s,\ufeff]+|\#[^\n]*)
      |(?P<spread>\.\.\.)
      |(?P<punct>[!$():=@\[\]{}|&])
      |(?P<block>\"\"\")
      |(?P<string>"(?:[^"\\\n]|\\.)*")
      |(?P<number>-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)
      |(?P<name>[_A-Za-z][_0-9A-Za-z]*)""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Var:
    name: str


@dataclass
class Field:
    name: str
    alias: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    selections: list[Field] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass
class Operation:
    kind: str  # query | mutation
    variables: dict[str, tuple[str, Any]]  # name → (type, default)
    selections: list[Field]


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise BadRequest(f'Syntax Error: Unexpected character "{text[pos]}".', "PARSE_FAILED")
        kind = match.lastgroup or ""
        if kind == "block":
            raise BadRequest("Syntax Error: block strings are not supported.", "PARSE_FAILED")
        if kind != "skip":
            tokens.append((kind, match.group()))
        pos = match.end()
    return tokens


class _Parser:
    """Recursive descent over one executable document with a single operation."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("eof", "<EOF>")

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        got_kind, got = self.peek()
        if (value is not None and got != value) or (kind is not None and got_kind != kind):
            raise BadRequest(
                f"Syntax Error: Expected {value or kind}, found {got}.", "PARSE_FAILED"
            )
        self.pos += 1
        return got

    def accept(self, value: str) -> bool:
        if self.peek()[1] == value and self.peek()[0] in ("punct", "spread"):
            self.pos += 1
            return True
        return False

    def document(self) -> Operation:
        kind, variables = "query", {}
        if self.peek()[1] != "{":
            kind = self.take(kind="name")
            if kind not in ("query", "mutation"):
                raise BadRequest(f'Syntax Error: Unexpected Name "{kind}".', "PARSE_FAILED")
            if self.peek()[0] == "name":
                self.take()
            if self.accept("("):
                variables = self.variable_definitions()
        operation = Operation(kind, variables, self.selection_set())
        if self.peek()[0] != "eof":
            raise BadRequest("This fake accepts one operation per document.")
        return operation

    def variable_definitions(self) -> dict[str, tuple[str, Any]]:
        definitions = {}
        while not self.accept(")"):
            self.take("$")
            name = self.take(kind="name")
            self.take(":")
            type_name = self.type_ref()
            default = self.value() if self.accept("=") else None
            definitions[name] = (type_name, default)
        return definitions

    def type_ref(self) -> str:
        if self.accept("["):
            inner = f"[{self.type_ref()}]"
            self.take("]")
        else:
            inner = self.take(kind="name")
        return inner + "!" if self.accept("!") else inner

    def selection_set(self) -> list[Field]:
        self.take("{")
        fields = []
        while not self.accept("}"):
            if self.peek()[0] == "spread":
                raise BadRequest("This fake does not support fragments.")
            fields.append(self.field())
        if not fields:
            raise BadRequest("Syntax Error: Expected Name, found }.", "PARSE_FAILED")
        return fields

    def field(self) -> Field:
        name, alias = self.take(kind="name"), None
        if self.accept(":"):
            alias, name = name, self.take(kind="name")
        args = {}
        if self.accept("("):
            while not self.accept(")"):
                arg = self.take(kind="name")
                self.take(":")
                args[arg] = self.value()
        if self.peek()[1] == "@":
            raise BadRequest("This fake does not support directives.")
        selections = self.selection_set() if self.peek()[1] == "{" else []
        return Field(name, alias, args, selections)

    def value(self) -> Any:
        kind, text = self.peek()
        if self.accept("$"):
            return Var(self.take(kind="name"))
        if self.accept("["):
            items = []
            while not self.accept("]"):
                items.append(self.value())
            return items
        if self.accept("{"):
            obj = {}
            while not self.accept("}"):
                key = self.take(kind="name")
                self.take(":")
                obj[key] = self.value()
            return obj
        self.pos += 1
        if kind == "string":
            return orjson.loads(text)
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "name":
            return {"true": True, "false": False, "null": None}.get(text, text)  # enum → str
        raise BadRequest(f"Syntax Error: Unexpected {text}.", "PARSE_FAILED")


def parse_operation(text: str) -> Operation:
    return _Parser(text).document()


def validate(type_name: str, selections: list[Field]) -> None:
    """Every selected field exists, and objects (only objects) have sub-selections."""
    for selected in selections:
        if selected.name == "__typename":
            continue
        fields = SCHEMA[type_name]
        if selected.name not in fields:
            raise BadRequest(f'Cannot query field "{selected.name}" on type "{type_name}".')
        child = fields[selected.name]
        if child is None and selected.selections:
            raise BadRequest(
                f'Field "{selected.name}" must not have a selection since its type has no '
                "subfields."
            )
        if child is not None and not selected.selections:
            raise BadRequest(
                f'Field "{selected.name}" of type "{child}" must have a selection of subfields.'
            )
        if child is not None:
            validate(child, selected.selections)


def _bind(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, Var):
        return variables.get(value.name)
    if isinstance(value, list):
        return [_bind(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _bind(v, variables) for k, v in value.items()}
    return value


# ---- inventory ------------------------------------------------------------------------------

# (gpuTypeId, displayName, manufacturer, memoryInGb, maxGpuCount, secure $/GPU/h, community
# $/GPU/h, vCPUs and GB RAM per GPU): RunPod's names, prices of its public list (2025), rounded.
CATALOGUE: tuple[tuple[str, str, str, int, int, float, float, int, int], ...] = (
    ("NVIDIA B200", "B200", "Nvidia", 180, 8, 5.99, 0.0, 28, 283),
    ("NVIDIA H200", "H200 SXM", "Nvidia", 141, 8, 3.99, 0.0, 24, 188),
    ("NVIDIA H100 80GB HBM3", "H100 SXM", "Nvidia", 80, 8, 2.69, 2.69, 20, 125),
    ("NVIDIA H100 PCIe", "H100 PCIe", "Nvidia", 80, 8, 2.39, 1.99, 16, 125),
    ("NVIDIA H100 NVL", "H100 NVL", "Nvidia", 94, 8, 2.79, 2.59, 16, 94),
    ("NVIDIA A100-SXM4-80GB", "A100 SXM", "Nvidia", 80, 8, 1.74, 1.39, 16, 125),
    ("NVIDIA A100 80GB PCIe", "A100 80GB", "Nvidia", 80, 8, 1.64, 1.19, 8, 117),
    ("NVIDIA L40S", "L40S", "Nvidia", 48, 8, 0.86, 0.79, 12, 62),
    ("NVIDIA L40", "L40", "Nvidia", 48, 8, 0.99, 0.69, 8, 94),
    ("NVIDIA L4", "L4", "Nvidia", 24, 8, 0.43, 0.0, 4, 50),
    ("NVIDIA RTX 6000 Ada Generation", "RTX 6000 Ada", "Nvidia", 48, 8, 0.77, 0.74, 10, 62),
    ("NVIDIA RTX A6000", "RTX A6000", "Nvidia", 48, 8, 0.49, 0.33, 8, 50),
    ("NVIDIA A40", "A40", "Nvidia", 48, 8, 0.40, 0.0, 9, 50),
    ("NVIDIA RTX A5000", "RTX A5000", "Nvidia", 24, 8, 0.27, 0.16, 4, 25),
    ("NVIDIA RTX A4000", "RTX A4000", "Nvidia", 16, 8, 0.25, 0.17, 4, 20),
    ("NVIDIA RTX 4000 Ada Generation", "RTX 4000 Ada", "Nvidia", 20, 8, 0.26, 0.20, 4, 20),
    ("NVIDIA GeForce RTX 5090", "RTX 5090", "Nvidia", 32, 8, 0.94, 0.69, 8, 35),
    ("NVIDIA GeForce RTX 4090", "RTX 4090", "Nvidia", 24, 8, 0.69, 0.34, 6, 41),
    ("NVIDIA GeForce RTX 3090", "RTX 3090", "Nvidia", 24, 8, 0.43, 0.22, 4, 24),
    ("AMD Instinct MI300X OAM", "MI300X", "AMD", 192, 8, 2.49, 0.0, 24, 283),
    ("Tesla V100-SXM2-16GB", "Tesla V100", "Nvidia", 16, 8, 0.0, 0.19, 6, 44),
)
_STOCK_WORDS = ("High", "High", "Medium", "Low", None)


def _stock(rng: random.Random, price: float, max_count: int, vcpus: int, ram: int) -> Any:
    if not price:
        return None
    word = rng.choice(_STOCK_WORDS)
    unreserved = 0 if word is None else rng.choice([1, 2, 4, max_count, max_count])
    return {
        "stockStatus": word,
        "maxUnreservedGpuCount": unreserved,
        "minVcpu": vcpus,
        "minMemory": ram,
    }


def generate_offers(count: int, seed: int) -> list[dict[str, Any]]:
    """`count` RunPod `gpuTypes` records: the catalogue with prices moved a little, then copies
    of it under numbered ids, each with its own stock."""
    rng = random.Random(seed)
    records = []
    for index in range(count):
        gpu_id, name, maker, memory, max_count, secure, community, vcpus, ram = CATALOGUE[
            index % len(CATALOGUE)
        ]
        copy = index // len(CATALOGUE)
        factor = 1 + rng.uniform(-0.08, 0.08)
        secure_price = round(secure * factor, 2)
        community_price = round(community * factor, 2)
        spot_share = rng.choice([0.0, 0.5, 0.6, 0.7])
        records.append(
            {
                "id": gpu_id if copy == 0 else f"{gpu_id} #{copy}",
                "displayName": name,
                "manufacturer": maker,
                "memoryInGb": memory,
                "maxGpuCount": max_count,
                "secureCloud": bool(secure_price),
                "communityCloud": bool(community_price),
                "securePrice": secure_price,
                "communityPrice": community_price,
                "secureSpotPrice": round(secure_price * spot_share, 2),
                "communitySpotPrice": round(community_price * spot_share, 2),
                "_stock": {
                    "secure": _stock(rng, secure_price, max_count, vcpus, ram),
                    "community": _stock(rng, community_price, max_count, vcpus, ram),
                },
            }
        )
    return records


def lowest_price(record: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """`GpuType.lowestPrice(input: {gpuCount, secureCloud})` from the record's `_stock`."""
    if isinstance(record.get("lowestPrice"), dict):
        return dict(record["lowestPrice"])
    wanted = args.get("input") or {}
    count = wanted.get("gpuCount") or 1
    secure = wanted.get("secureCloud")
    clouds = ["secure"] if secure is True else ["community"] if secure is False else list(CLOUDS)
    answer: dict[str, Any] = dict.fromkeys(SCHEMA["LowestPrice"])
    answer |= {"gpuTypeId": record.get("id"), "gpuName": record.get("displayName")}
    answer |= {"availableGpuCounts": [], "maxUnreservedGpuCount": 0}
    best = _best_cloud(record, clouds, count)
    if best is None:
        return answer
    cloud, stock = best
    unreserved = stock["maxUnreservedGpuCount"]
    spot = record.get(f"{cloud}SpotPrice") or None
    return answer | {
        "stockStatus": stock["stockStatus"],
        "uninterruptablePrice": record.get(f"{cloud}Price"),
        "minimumBidPrice": spot,
        "minVcpu": _times(stock.get("minVcpu"), count),
        "minMemory": _times(stock.get("minMemory"), count),
        "maxUnreservedGpuCount": unreserved,
        "availableGpuCounts": list(range(1, min(unreserved, record.get("maxGpuCount") or 1) + 1)),
    }


def _times(per_gpu: Any, count: int) -> Any:
    return per_gpu * count if isinstance(per_gpu, int | float) else None


def _best_cloud(
    record: dict[str, Any], clouds: list[str], count: int
) -> tuple[str, dict[str, Any]] | None:
    """The cheapest of `clouds` that has `count` GPUs of this type free now."""
    best: tuple[float, str, dict[str, Any]] | None = None
    for cloud in clouds:
        stock = (record.get("_stock") or {}).get(cloud)
        price = record.get(f"{cloud}Price")
        if not isinstance(stock, dict) or not stock.get("stockStatus"):
            continue
        if not isinstance(price, int | float) or price <= 0:
            continue
        if count > min(stock.get("maxUnreservedGpuCount") or 0, record.get("maxGpuCount") or 1):
            continue
        if best is None or price < best[0]:
            best = (price, cloud, stock)
    return (best[1], best[2]) if best else None


# ---- pods -----------------------------------------------------------------------------------


def pod_record(state: FakeState, instance: FakeInstance, now: float) -> dict[str, Any] | None:
    """A pod as RunPod shows it, or None once terminated (RunPod forgets terminated pods)."""
    phase = instance.state(now)
    if phase == "terminated":
        return None
    attrs = instance.attrs
    status = attrs.get("desiredStatus", "RUNNING")
    running = phase == "running" and status == "RUNNING"
    started = instance.created + instance.boot_seconds
    number = int(instance.id) if instance.id.isdigit() else 0
    record = {
        "id": instance.id,
        "name": attrs.get("name", ""),
        "desiredStatus": status,
        "imageName": attrs.get("imageName", "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel"),
        "gpuCount": attrs.get("gpuCount", 1),
        "vcpuCount": attrs.get("vcpuCount", 8),
        "memoryInGb": attrs.get("memoryInGb", 62),
        "costPerHr": attrs.get("costPerHr", 0.69),
        "podType": attrs.get("podType", "RESERVED"),
        "containerDiskInGb": attrs.get("containerDiskInGb", 50),
        "volumeInGb": attrs.get("volumeInGb", 0),
        "volumeMountPath": "/workspace",
        "dockerArgs": attrs.get("dockerArgs", ""),
        "dockerId": None,
        "env": [f"{e['key']}={e['value']}" for e in attrs.get("env", []) if isinstance(e, dict)],
        "port": None,
        "ports": attrs.get("ports", "22/tcp"),
        "machineId": f"m{number:06d}",
        "lastStatusChange": time.strftime("Rented by User: %a %b %d %Y", time.gmtime(started)),
        "uptimeSeconds": int(now - started) if running else 0,
        "machine": {
            "gpuDisplayName": attrs.get("gpuDisplayName", "RTX 4090"),
            "gpuTypeId": attrs.get("gpuTypeId", "NVIDIA GeForce RTX 4090"),
            "podHostId": f"{instance.id}-64410b1c",
            "location": attrs.get("location", "US"),
        },
        "runtime": _runtime(number, now - started) if running else None,
    }
    return state.strip(record)


def _runtime(number: int, uptime: float) -> dict[str, Any]:
    ip = f"203.0.113.{number % 250 + 1}"
    return {
        "uptimeInSeconds": int(uptime),
        "ports": [
            {
                "ip": ip,
                "isIpPublic": True,
                "privatePort": 22,
                "publicPort": 10000 + number % 50000,
                "type": "tcp",
            },
            {
                "ip": "10.0.0.2",
                "isIpPublic": False,
                "privatePort": 8888,
                "publicPort": 8888,
                "type": "http",
            },
        ],
        "gpus": [{"id": "GPU-0", "gpuUtilPercent": 0, "memoryUtilPercent": 0}],
    }


# ---- executing operations -------------------------------------------------------------------


def _required(data: dict[str, Any], key: str, kind: type | tuple[type, ...], gql: str) -> Any:
    value = data.get(key)
    if value is None:
        raise BadRequest(
            f'Field "{key}" of required type "{gql}" was not provided.', "BAD_USER_INPUT"
        )
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise BadRequest(f'Field "{key}": expected type "{gql}", got {value!r}.', "BAD_USER_INPUT")
    return value


def _input(args: dict[str, Any], type_name: str) -> dict[str, Any]:
    value = args.get("input")
    if not isinstance(value, dict):
        raise BadRequest(
            f'Argument "input" of required type "{type_name}!" was not provided.', "BAD_USER_INPUT"
        )
    return value


@dataclass
class Executor:
    """Runs one parsed operation against the fake's state."""

    state: FakeState
    variables: dict[str, Any]
    now: float = field(default_factory=time.time)

    def offers(self) -> list[dict[str, Any]]:
        if not self.state.offers:
            self.state.offers = generate_offers(40, 0)
        return self.state.offers

    def run(self, operation: Operation) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for root in operation.selections:
            if root.name == "__typename":
                data[root.key] = self.root_type(operation)
                continue
            args = _bind(root.args, self.variables)
            value = getattr(self, f"_{root.name}")(args)
            data[root.key] = self.project(value, SCHEMA[self.root_type(operation)][root.name], root)
        return data

    @staticmethod
    def root_type(operation: Operation) -> str:
        return "Mutation" if operation.kind == "mutation" else "Query"

    def project(self, value: Any, type_name: str | None, selected: Field) -> Any:
        if isinstance(value, list):
            return [self.project(item, type_name, selected) for item in value]
        if type_name is None or not isinstance(value, dict):  # scalars, nulls, injected junk
            return value
        out: dict[str, Any] = {}
        for child in selected.selections:
            if child.name == "__typename":
                out[child.key] = type_name
            elif type_name == "GpuType" and child.name == "lowestPrice":
                if child.name in self.state.faults.missing_fields:
                    continue
                price = lowest_price(value, _bind(child.args, self.variables))
                out[child.key] = self.project(price, "LowestPrice", child)
            elif child.name in value:  # absent only under the missing_fields fault
                out[child.key] = self.project(
                    value[child.name], SCHEMA[type_name][child.name], child
                )
        return out

    # -- queries

    def _gpuTypes(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        wanted = (args.get("input") or {}).get("id")
        return [
            self.state.strip(r) if isinstance(r, dict) else r
            for r in self.offers()
            if wanted is None or (isinstance(r, dict) and r.get("id") == wanted)
        ]

    def _pod(self, args: dict[str, Any]) -> dict[str, Any] | None:
        pod_id = _required(_input(args, "PodFilter"), "podId", str, "String!")
        instance = self.state.instances.get(pod_id)
        return pod_record(self.state, instance, self.now) if instance else None

    def _myself(self, _args: dict[str, Any]) -> dict[str, Any]:
        pods = [pod_record(self.state, i, self.now) for i in self.state.instances.values()]
        return {
            "id": "user_2fakeRunpod",
            "email": "fake@example.com",
            "pods": [p for p in pods if p],
        }

    # -- mutations

    def _podFindAndDeployOnDemand(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._deploy(_input(args, "PodFindAndDeployOnDemandInput"), spot=False)

    def _podRentInterruptable(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._deploy(_input(args, "PodRentInterruptableInput"), spot=True)

    def _podTerminate(self, args: dict[str, Any]) -> None:
        pod_id = _required(_input(args, "PodTerminateInput"), "podId", str, "String!")
        if not self.state.terminate(pod_id):
            raise FieldError(f"Pod not found: {pod_id}", "NOT_FOUND")

    def _deploy(self, spec: dict[str, Any], *, spot: bool) -> dict[str, Any]:
        gpu_type = _required(spec, "gpuTypeId", str, "String!")
        _required(spec, "imageName", str, "String!")
        count = spec.get("gpuCount", 1)
        cloud_type = spec.get("cloudType", "ALL")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise BadRequest(
                f'Field "gpuCount": expected a positive Int, got {count!r}.', "BAD_USER_INPUT"
            )
        if cloud_type not in CLOUD_TYPES:
            raise BadRequest(
                f'Value "{cloud_type}" does not exist in "CloudTypeEnum" enum.', "BAD_USER_INPUT"
            )
        record = next(
            (r for r in self.offers() if isinstance(r, dict) and r.get("id") == gpu_type), None
        )
        clouds = ["secure", "community"] if cloud_type == "ALL" else [cloud_type.lower()]
        best = _best_cloud(record, clouds, count) if record else None
        if record is None or best is None:
            raise FieldError(NO_CAPACITY)
        cloud = best[0]
        per_gpu = record[f"{cloud}Price"]
        if spot:
            per_gpu = self._check_bid(spec, record, cloud)
        instance = self.state.create_instance(
            {
                "name": spec.get("name") or "",
                "imageName": spec["imageName"],
                "gpuTypeId": gpu_type,
                "gpuDisplayName": record.get("displayName"),
                "gpuCount": count,
                "cloudType": cloud.upper(),
                "costPerHr": round(per_gpu * count, 4),
                "podType": "INTERRUPTABLE" if spot else "RESERVED",
                "containerDiskInGb": spec.get("containerDiskInGb", 50),
                "volumeInGb": spec.get("volumeInGb", 0),
                "dockerArgs": spec.get("dockerArgs", ""),
                "env": spec.get("env") or [],
                "ports": spec.get("ports", ""),
                "vcpuCount": _times(best[1].get("minVcpu"), count) or 4 * count,
                "memoryInGb": _times(best[1].get("minMemory"), count) or 24 * count,
            }
        )
        if self.state.faults.lying_create:
            raise LyingCreate
        return pod_record(self.state, instance, self.now) or {}

    @staticmethod
    def _check_bid(spec: dict[str, Any], record: dict[str, Any], cloud: str) -> float:
        bid = _required(spec, "bidPerGpu", (int, float), "Float!")
        floor = record.get(f"{cloud}SpotPrice")
        if not floor:
            raise FieldError(NO_CAPACITY)
        if bid < floor:
            raise FieldError(
                f"Your bid price of ${bid}/hr is below the current minimum bid of ${floor}/hr."
            )
        return float(bid)


class LyingCreate(Exception):
    """The `lying_create` fault: the pod exists, the answer is a 500."""


# ---- the app --------------------------------------------------------------------------------


def _errors(message: str, code: str, path: list[str] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "extensions": {"code": code}}
    if path:
        error["path"] = path
    return {"errors": [error], "data": None}


def _key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query_params.get("api_key")


def _needs_key(operation: Operation) -> bool:
    return operation.kind == "mutation" or any(
        root.name in AUTHENTICATED for root in operation.selections
    )


def create_app(state: FakeState | None = None) -> FastAPI:
    state = state or FakeState()
    app = FastAPI(title="Fake RunPod GraphQL API")
    kit.install(app, state, generate_offers)

    @app.post("/graphql")
    async def graphql(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return kit.json_response(state, _errors("POST body is not JSON.", "BAD_REQUEST"), 400)
        query = body.get("query") if isinstance(body, dict) else None
        variables = body.get("variables") if isinstance(body, dict) else None
        if not isinstance(query, str) or not query.strip():
            return kit.json_response(
                state, _errors("POST body missing a GraphQL query.", "BAD_REQUEST"), 400
            )
        key = _key(request)
        if key is not None and key != state.api_key:
            return _unauthorized(state)
        try:
            operation = parse_operation(query)
            validate(Executor.root_type(operation), operation.selections)
            variables = _variables(operation, variables)
        except BadRequest as exc:
            return kit.json_response(state, _errors(exc.message, exc.code), 400)
        if key is None and _needs_key(operation):
            return _unauthorized(state)
        return _execute(state, operation, variables)

    return app


def _variables(operation: Operation, given: Any) -> dict[str, Any]:
    given = given if isinstance(given, dict) else {}
    values = {}
    for name, (type_name, default) in operation.variables.items():
        value = given.get(name, default)
        if value is None and type_name.endswith("!"):
            raise BadRequest(
                f'Variable "${name}" of required type "{type_name}" was not provided.',
                "BAD_USER_INPUT",
            )
        values[name] = value
    return values


def _execute(state: FakeState, operation: Operation, variables: dict[str, Any]) -> Response:
    try:
        data = Executor(state, variables).run(operation)
    except BadRequest as exc:
        return kit.json_response(state, _errors(exc.message, exc.code), 400)
    except FieldError as exc:
        path = [operation.selections[0].key]
        return kit.json_response(state, _errors(exc.message, exc.code, path))
    except LyingCreate:
        return kit.json_response(state, _errors("Something went wrong.", "INTERNAL"), 500)
    return kit.json_response(state, {"data": data})


def _unauthorized(state: FakeState) -> Response:
    return kit.json_response(
        state, _errors("Unauthorized request, please check your API key.", "UNAUTHENTICATED"), 401
    )

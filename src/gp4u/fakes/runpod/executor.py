"""Execution of one parsed, validated operation against the fake's state: `Executor` resolves
the root fields (`gpuTypes`, `pod`, `myself`; `podFindAndDeployOnDemand`, `podRentInterruptable`,
`podTerminate`) and projects each answer onto what was selected. Invalid inputs raise
`BadRequest`; refusals (no capacity, unknown pod, a bid below the minimum) raise `FieldError`;
the `lying_create` fault raises `LyingCreate` after the pod was created. A pod is billed at its
`costPerHr` (per-GPU price of the cloud it landed in, or the bid, times its GPUs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gp4u.fakes.kit import FakeState, micros
from gp4u.fakes.runpod.graphql import SCHEMA, BadRequest, Field, FieldError, Operation, bind
from gp4u.fakes.runpod.inventory import (
    CLOUD_TYPES,
    best_cloud,
    generate_offers,
    lowest_price,
    times,
)
from gp4u.fakes.runpod.pods import pod_record

NO_CAPACITY = (
    "There are no longer any instances available with the requested specifications. "
    "Please refresh and try again."
)


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
    """Runs one parsed operation against the fake's state, at one instant of its time."""

    state: FakeState
    variables: dict[str, Any]
    now: float = field(init=False)

    def __post_init__(self) -> None:
        self.now = self.state.now()

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
            args = bind(root.args, self.variables)
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
                price = lowest_price(value, bind(child.args, self.variables))
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
        best = best_cloud(record, clouds, count) if record else None
        if record is None or best is None:
            raise FieldError(NO_CAPACITY)
        cloud = best[0]
        per_gpu = record[f"{cloud}Price"]
        if spot:
            per_gpu = self._check_bid(spec, record, cloud)
        cost = round(per_gpu * count, 4)
        instance = self.state.create_instance(
            {
                "name": spec.get("name") or "",
                "imageName": spec["imageName"],
                "gpuTypeId": gpu_type,
                "gpuDisplayName": record.get("displayName"),
                "gpuCount": count,
                "cloudType": cloud.upper(),
                "costPerHr": cost,
                "podType": "INTERRUPTABLE" if spot else "RESERVED",
                "containerDiskInGb": spec.get("containerDiskInGb", 50),
                "volumeInGb": spec.get("volumeInGb", 0),
                "dockerArgs": spec.get("dockerArgs", ""),
                "env": spec.get("env") or [],
                "ports": spec.get("ports", ""),
                "vcpuCount": times(best[1].get("minVcpu"), count) or 4 * count,
                "memoryInGb": times(best[1].get("minMemory"), count) or 24 * count,
            },
            price_per_hour=micros(cost),
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

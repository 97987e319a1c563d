"""Pure readers of RunPod GraphQL answers: the response envelope and its errors, `gpuTypes`
records → offers, pod records → instances. No I/O.

RunPod prices are dollars per GPU per hour (`securePrice`, `communityPrice`, the `*SpotPrice`
fields and `lowestPrice.minimumBidPrice`); an offer's price is that times its GPU count. A price of
0 or null means the type is not offered that way. `costPerHr` on a pod is for the whole pod.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from gp4u.kit.money import usd_to_micros
from gp4u.providers.base import (
    InstanceNotFound,
    InvalidResponse,
    NoCapacity,
    ParseReport,
    ProviderAuthError,
    ProviderError,
    ProviderOffer,
    ProviderRejected,
)
from gp4u.providers.interface import Instance, InstanceState, Tags

Cloud = Literal["secure", "community"]
CLOUDS: tuple[Cloud, ...] = ("secure", "community")
MAX_GPUS = 8  # offers stop at 8 GPUs per pod, RunPod's largest single-machine size
IN_STOCK = frozenset({"High", "Medium", "Low"})

_INSTANCE_TYPE = re.compile(
    r"^runpod-(?P<cloud>secure|community)-(?P<gpu>.+)-(?P<count>[1-9]\d*)x$"
)
_CAPACITY = (
    "no longer any instances available",
    "no instances available",
    "does not have the resources",
    "out of stock",
)
_AUTH = ("unauthorized", "unauthenticated", "api key", "forbidden", "permission", "logged in")
_NOT_FOUND = ("not found", "does not exist", "no pod")

# desiredStatus → state; RUNNING depends on whether the pod has a runtime yet (see pod_state).
_STATES = {
    "CREATED": InstanceState.PENDING,
    "RESTARTING": InstanceState.BOOTING,
    "EXITED": InstanceState.STOPPED,
    "PAUSED": InstanceState.STOPPED,
    "DEAD": InstanceState.FAILED,
    "TERMINATED": InstanceState.TERMINATED,
}


def instance_type(cloud: Cloud, gpu_type_id: str, gpu_count: int) -> str:
    """Our instance type for a RunPod offer, e.g. `runpod-secure-NVIDIA H100 80GB HBM3-2x`."""
    return f"runpod-{cloud}-{gpu_type_id}-{gpu_count}x"


def split_instance_type(value: str | None) -> tuple[Cloud, str, int] | None:
    """(cloud, gpuTypeId, GPU count) of one of our instance types, or None."""
    match = _INSTANCE_TYPE.match(value or "")
    if not match:
        return None
    cloud: Cloud = "secure" if match["cloud"] == "secure" else "community"
    return cloud, match["gpu"], int(match["count"])


# ---- the GraphQL envelope -------------------------------------------------------------------


def error_messages(body: Any) -> list[str]:
    """The `message` of every entry of a GraphQL `errors` array (empty when there is none)."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return []
    messages = []
    for error in body["errors"]:
        message = error.get("message") if isinstance(error, dict) else None
        messages.append(message if isinstance(message, str) and message else "unknown error")
    return messages


def classify_error(provider: str, message: str, status: int | None = None) -> ProviderError:
    """The provider error a RunPod error message stands for."""
    lowered = message.lower()
    if any(word in lowered for word in _CAPACITY):
        return NoCapacity(provider, message, status)
    if any(word in lowered for word in _AUTH):
        return ProviderAuthError(provider, message)
    if any(word in lowered for word in _NOT_FOUND):
        return InstanceNotFound(provider, message, status)
    return ProviderRejected(provider, message, status)


def graphql_data(body: Any, provider: str, operation: str) -> dict[str, Any]:
    """The `data` object of a GraphQL answer; errors (which RunPod sends with HTTP 200) are raised
    as the provider errors they stand for."""
    messages = error_messages(body)
    if messages:
        raise classify_error(provider, f"{operation}: {'; '.join(messages)}")
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise InvalidResponse(provider, f"{operation}: answer without a GraphQL data object")
    return data


# ---- offers ---------------------------------------------------------------------------------


def _dollars(value: Any) -> int | None:
    """Micro-USD of a per-GPU dollar price; None when absent or 0 (not offered)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a price: {value!r}")
    micros = usd_to_micros(value)
    if micros < 0:
        raise ValueError(f"negative price: {value!r}")
    return micros or None


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class _Stock:
    """What `lowestPrice` says about availability. Without `lowestPrice` in the record nothing is
    known (every count counts as available); a null `lowestPrice` or `stockStatus` is no stock."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.known = "lowestPrice" in record
        lowest = record.get("lowestPrice")
        self.lowest: dict[str, Any] = lowest if isinstance(lowest, dict) else {}
        status = self.lowest.get("stockStatus")
        self.in_stock = not self.known or (isinstance(status, str) and status in IN_STOCK)
        counts = self.lowest.get("availableGpuCounts")
        self.counts = (
            {c for c in counts if isinstance(c, int)} if isinstance(counts, list) else None
        )
        self.max_unreserved = self.lowest.get("maxUnreservedGpuCount")

    def available(self, gpu_count: int) -> bool:
        if not self.in_stock:
            return False
        if self.counts is not None:
            return gpu_count in self.counts
        if isinstance(self.max_unreserved, int) and not isinstance(self.max_unreserved, bool):
            return gpu_count <= self.max_unreserved
        return True


def parse_gpu_types(records: Any, provider: str, cloud: Cloud) -> ParseReport:
    """Offers of one cloud from `data.gpuTypes` (queried with `lowestPrice(input: {gpuCount: 1,
    secureCloud: ...})`): on-demand and spot, for 1..maxGpuCount GPUs (at most 8)."""
    if not isinstance(records, list):
        raise InvalidResponse(provider, "gpuTypes: expected a list of GPU types")
    report = ParseReport()
    for index, record in enumerate(records):
        report.rows_read += 1
        reason = _gpu_type_offers(record, provider, cloud, report)
        if reason:
            report.skip(reason, index)
    return report


def _gpu_type_offers(record: Any, provider: str, cloud: Cloud, report: ParseReport) -> str | None:
    """Append the offers of one GPU type; the skip reason when it has none."""
    if not isinstance(record, dict):
        return "not_an_object"
    gpu_id, name = record.get("id"), record.get("displayName")
    if not isinstance(gpu_id, str) or not gpu_id.strip():
        return "missing_id"
    if not isinstance(name, str) or not name.strip():
        return "missing_name"
    stock = _Stock(record)
    raw = (
        record.get(f"{cloud}Price"),
        record.get(f"{cloud}SpotPrice"),
        stock.lowest.get("minimumBidPrice"),
    )
    try:
        on_demand, spot_price, minimum_bid = (_dollars(value) for value in raw)
    except ValueError:
        return "bad_price"
    spot = spot_price or minimum_bid
    if on_demand is None and spot is None:
        # 0 is RunPod's way to say "not in this cloud"; no price fields at all is a bad record
        return "missing_price" if all(value is None for value in raw) else "not_offered"
    if "maxGpuCount" in record and _positive_int(record["maxGpuCount"]) is None:
        return "bad_gpu_count"
    max_count = min(_positive_int(record.get("maxGpuCount")) or 1, MAX_GPUS)
    for count in range(1, max_count + 1):
        available = stock.available(count)
        for price, is_spot in ((on_demand, False), (spot, True)):
            if price is None:
                continue
            report.offers.append(
                ProviderOffer(
                    provider=provider,
                    instance_type=instance_type(cloud, gpu_id, count),
                    gpu_name=name.strip(),
                    gpu_count=count,
                    price_per_hour=price * count,
                    spot=is_spot,
                    gpu_memory_gb=_number(record.get("memoryInGb")),
                    # lowestPrice was asked for one GPU: its CPU and RAM describe 1-GPU pods only
                    vcpus=_number(stock.lowest.get("minVcpu")) if count == 1 else None,
                    memory_gb=_number(stock.lowest.get("minMemory")) if count == 1 else None,
                    available=available,
                    offer_ref=gpu_id,
                    available_count=None if available else 0,
                )
            )
    return None


# ---- pods -----------------------------------------------------------------------------------


def pod_state(record: dict[str, Any]) -> InstanceState:
    """RUNNING with no runtime yet is still booting (image pull, container start)."""
    status = record.get("desiredStatus")
    if status != "RUNNING":
        return (
            _STATES.get(status, InstanceState.UNKNOWN)
            if isinstance(status, str)
            else (InstanceState.UNKNOWN)
        )
    if "runtime" in record:
        started = bool(record["runtime"])
    else:  # runtime not asked for: fall back on the uptime
        uptime = record.get("uptimeSeconds")
        started = isinstance(uptime, int) and uptime > 0
    return InstanceState.RUNNING if started else InstanceState.BOOTING


def _ssh_port(record: dict[str, Any]) -> dict[str, Any] | None:
    runtime = record.get("runtime")
    ports = runtime.get("ports") if isinstance(runtime, dict) else None
    for port in ports if isinstance(ports, list) else []:
        if (
            isinstance(port, dict)
            and port.get("privatePort") == 22
            and port.get("isIpPublic") is True
            and isinstance(port.get("ip"), str)
            and isinstance(port.get("publicPort"), int)
        ):
            return port
    return None


def parse_pod(record: Any, provider: str) -> Instance:
    """One pod record (from `pod`, `myself.pods` or a deploy mutation) as an Instance."""
    if not isinstance(record, dict) or not isinstance(record.get("id"), str) or not record["id"]:
        raise InvalidResponse(provider, "pod record without an id")
    status = record.get("desiredStatus")
    name = record.get("name")
    ssh = _ssh_port(record)
    cost = record.get("costPerHr")
    price = None
    if isinstance(cost, int | float) and not isinstance(cost, bool) and cost >= 0:
        price = usd_to_micros(cost)
    return Instance(
        provider=provider,
        instance_id=record["id"],
        state=pod_state(record),
        provider_status=status if isinstance(status, str) else "unknown",
        tags=Tags.parse(name) if isinstance(name, str) else None,
        public_ip=ssh["ip"] if ssh else None,
        ssh_host=ssh["ip"] if ssh else None,
        ssh_port=ssh["publicPort"] if ssh else None,
        ssh_user="root" if ssh else None,
        price_per_hour=price,
    )


def parse_pods(records: Any, provider: str) -> tuple[list[Instance], int]:
    """Every well-formed pod of `myself.pods`, and how many records were unusable."""
    if not isinstance(records, list):
        raise InvalidResponse(provider, "myself.pods: expected a list of pods")
    instances, bad = [], 0
    for record in records:
        try:
            instances.append(parse_pod(record, provider))
        except InvalidResponse:
            bad += 1
    return instances, bad

"""Lambda Cloud JSON → offers and instances (pure: no I/O).

`GET /instance-types` answers `{"data": {<type name>: {"instance_type": {name, description,
gpu_description, price_cents_per_hour, specs{vcpus, memory_gib, storage_gib, gpus}},
"regions_with_capacity_available": [{name, description}]}}}`. The price is US cents per hour for
the whole instance. One offer per instance type and region with capacity; a type with capacity
nowhere is still one offer, without a region and `available=False`, so the market keeps its price
and can say it is sold out. Memory and storage are GiB, kept as GB like the published catalogs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gp4u.providers.base import InvalidResponse, ParseReport, ProviderOffer
from gp4u.providers.catalog.regions import country_of
from gp4u.providers.interface import Instance, InstanceState, Tags

MICROS_PER_CENT = 10_000
SSH_USER = "ubuntu"  # Lambda's images log in as ubuntu
CAPACITY_ERROR = "instance-operations/launch/insufficient-capacity"
NOT_FOUND_ERROR = "global/object-does-not-exist"
AUTH_ERRORS = frozenset({"global/invalid-api-key", "global/account-inactive", "global/forbidden"})

_STATES: dict[str, InstanceState] = {
    "booting": InstanceState.BOOTING,
    "active": InstanceState.RUNNING,
    "unhealthy": InstanceState.FAILED,
    "terminating": InstanceState.STOPPING,
    "terminated": InstanceState.TERMINATED,
    "preempted": InstanceState.TERMINATED,  # taken back by Lambda: gone, billing stopped
}
_COUNT_PREFIX = re.compile(r"^\s*(\d+)\s*x\s+", re.IGNORECASE)
_COUNT_IN_NAME = re.compile(r"^gpu_(\d+)x_")
_GPU_MEMORY = re.compile(r"(\d+(?:\.\d+)?)\s*GB", re.IGNORECASE)


def unwrap(body: Any, provider: str, what: str) -> Any:
    """The `data` of a Lambda answer; a body without it is not a Lambda answer."""
    if not isinstance(body, dict) or "data" not in body:
        raise InvalidResponse(provider, f"{what}: no 'data' envelope")
    return body["data"]


def error_of(body: Any) -> tuple[str | None, str | None]:
    """The `(code, message)` of a Lambda error body, or Nones when it is not one."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, None
    code, message = error.get("code"), error.get("message")
    return (
        code if isinstance(code, str) else None,
        message if isinstance(message, str) else None,
    )


def parse_instance_types(body: Any, provider: str = "lambda") -> ParseReport:
    """Every offer in a `GET /instance-types` answer, and the reason for every skipped type."""
    data = unwrap(body, provider, "instance-types")
    if not isinstance(data, dict):
        raise InvalidResponse(provider, "instance-types: 'data' is not an object")
    report = ParseReport()
    for index, (key, item) in enumerate(data.items()):
        report.rows_read += 1
        reason = _add_offers(report, provider, key, item)
        if reason:
            report.skip(reason, index)
    return report


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _gpu_count(specs: Mapping[str, Any], description: str, name: str) -> int | None:
    count = _number(specs.get("gpus"))
    if count is not None:
        return int(count) if count == int(count) else None
    match = _COUNT_PREFIX.match(description) or _COUNT_IN_NAME.match(name)
    return int(match.group(1)) if match else None


def _gpu_name(instance_type: Mapping[str, Any]) -> str | None:
    """`gpu_description` ("A100 (40 GB SXM4)") where Lambda sends it, else the description
    without its count ("1x A100 SXM4 (40 GB)" → "A100 SXM4 (40 GB)")."""
    gpu = instance_type.get("gpu_description")
    if isinstance(gpu, str) and gpu.strip():
        return gpu.strip()
    description = instance_type.get("description")
    if isinstance(description, str) and description.strip():
        return _COUNT_PREFIX.sub("", description).strip()
    return None


def _regions(item: Mapping[str, Any]) -> list[str] | None:
    raw = item.get("regions_with_capacity_available")
    if not isinstance(raw, list):
        return None
    return [r["name"] for r in raw if isinstance(r, dict) and isinstance(r.get("name"), str)]


def _add_offers(report: ParseReport, provider: str, key: str, item: Any) -> str | None:
    """Append the offers of one instance type; the skip reason when it has none."""
    if not isinstance(item, dict):
        return "not_an_object"
    spec = item.get("instance_type")
    if not isinstance(spec, dict):
        return "missing_instance_type"
    name = spec.get("name") or key
    if not isinstance(name, str) or not name:
        return "missing_name"
    if spec.get("price_cents_per_hour") is None:
        return "missing_price"
    cents = _number(spec["price_cents_per_hour"])
    if cents is None or cents <= 0:
        return "bad_price"
    raw_specs, raw_description = spec.get("specs"), spec.get("description")
    specs: Mapping[str, Any] = raw_specs if isinstance(raw_specs, dict) else {}
    description = raw_description if isinstance(raw_description, str) else ""
    count = _gpu_count(specs, description, name)
    if not count or count < 0:
        return "no_gpu"
    gpu = _gpu_name(spec)
    if gpu is None:
        return "missing_gpu_name"
    regions = _regions(item)
    if regions is None:
        return "missing_regions"
    memory = _GPU_MEMORY.search(gpu)
    base = ProviderOffer(
        provider=provider,
        instance_type=name,
        gpu_name=gpu,
        gpu_count=count,
        price_per_hour=round(cents * MICROS_PER_CENT),
        gpu_memory_gb=float(memory.group(1)) if memory else None,
        vcpus=_number(specs.get("vcpus")),
        memory_gb=_number(specs.get("memory_gib")),
        disk_gb=_number(specs.get("storage_gib")),
        offer_ref=name,
    )
    if not regions:
        base.available, base.available_count = False, 0
        report.offers.append(base)
    for region in regions:
        report.offers.append(_in_region(base, region))
    return None


def _in_region(base: ProviderOffer, region: str) -> ProviderOffer:
    return ProviderOffer(
        provider=base.provider,
        instance_type=base.instance_type,
        gpu_name=base.gpu_name,
        gpu_count=base.gpu_count,
        price_per_hour=base.price_per_hour,
        region=region,
        country=country_of(region),
        gpu_memory_gb=base.gpu_memory_gb,
        vcpus=base.vcpus,
        memory_gb=base.memory_gb,
        disk_gb=base.disk_gb,
        offer_ref=base.offer_ref,
    )


def _tags(record: Mapping[str, Any]) -> Tags | None:
    """Our tags: the key/value tags where Lambda kept them, else the label in the name."""
    raw = record.get("tags")
    if isinstance(raw, list):
        labels = {
            t["key"]: t["value"]
            for t in raw
            if isinstance(t, dict)
            and isinstance(t.get("key"), str)
            and isinstance(t.get("value"), str)
        }
        tags = Tags.from_labels(labels)
        if tags is not None:
            return tags
    name = record.get("name")
    return Tags.parse(name if isinstance(name, str) else None)


def _name_of(value: Any) -> str | None:
    name = value.get("name") if isinstance(value, dict) else None
    return name if isinstance(name, str) else None


def parse_instance(record: Any, provider: str = "lambda") -> Instance:
    """One instance record (`GET /instances/{id}` data or a `GET /instances` item)."""
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise InvalidResponse(provider, "instance record without an id")
    raw_status = record.get("status")
    status = raw_status if isinstance(raw_status, str) else ""
    instance_type = record.get("instance_type")
    cents = (
        _number(instance_type.get("price_cents_per_hour"))
        if isinstance(instance_type, dict)
        else None
    )
    ip = record.get("ip") if isinstance(record.get("ip"), str) and record.get("ip") else None
    return Instance(
        provider=provider,
        instance_id=record["id"],
        state=_STATES.get(status, InstanceState.UNKNOWN),
        provider_status=status,
        tags=_tags(record),
        instance_type=_name_of(instance_type),
        region=_name_of(record.get("region")),
        public_ip=ip,
        ssh_host=ip,
        ssh_port=22 if ip else None,
        ssh_user=SSH_USER,
        price_per_hour=round(cents * MICROS_PER_CENT) if cents is not None else None,
    )


def parse_instances(body: Any, provider: str = "lambda") -> list[Instance]:
    """Every identifiable instance of a `GET /instances` answer (records without an id are
    dropped: nothing could be done with them)."""
    data = unwrap(body, provider, "instances")
    if not isinstance(data, list):
        raise InvalidResponse(provider, "instances: 'data' is not a list")
    instances = []
    for record in data:
        try:
            instances.append(parse_instance(record, provider))
        except InvalidResponse:
            continue
    return instances

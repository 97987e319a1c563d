"""Pure parsers for TensorDock's marketplace API (no I/O).

`parse_locations` reads v2 `GET /api/v2/locations` into offers; `parse_v0_hostnodes` reads the
legacy v0 hostnodes shape (kept for the v0 samples only); `parse_instance` and
`parse_instance_list` read v2 instance records. An offer is one location (or hostnode) × GPU
model × GPU count, priced as the GPUs plus the minimum vCPUs, RAM and storage a VM with that
many GPUs is deployed with (see `minimum_resources`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from gp4u.kit.money import usd_to_micros
from gp4u.providers.base import InvalidResponse, ParseReport, ProviderOffer
from gp4u.providers.catalog.regions import country_of
from gp4u.providers.interface import Instance, InstanceState, Tags

MAX_GPUS = 8  # offers go up to this many GPUs per VM
VCPUS_PER_GPU = 2  # assumed minimum; TensorDock sizes vCPUs in steps of 2
RAM_GB_PER_GPU = 8  # assumed minimum; TensorDock sizes RAM in steps of 8 GB
MIN_STORAGE_GB = 100  # documented minimum storage of a VM
STORAGE_STEP_GB = 50  # documented storage step
DEFAULT_SSH_USER = "user"  # the login user of TensorDock's Ubuntu images

PlaceKind = Literal["location", "hostnode"]

# Country names TensorDock spells out that `country_of` does not know.
_COUNTRIES = {
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "united kingdom": "GB",
    "uk": "GB",
    "czech republic": "CZ",
    "hong kong": "HK",
    "united arab emirates": "AE",
    "belgium": "BE",
    "austria": "AT",
    "denmark": "DK",
    "estonia": "EE",
    "bulgaria": "BG",
    "ukraine": "UA",
    "taiwan": "TW",
    "israel": "IL",
    "mexico": "MX",
    "chile": "CL",
    "south africa": "ZA",
    "new zealand": "NZ",
    "luxembourg": "LU",
    "portugal": "PT",
    "lithuania": "LT",
    "latvia": "LV",
    "hungary": "HU",
    "serbia": "RS",
    "greece": "GR",
    "turkey": "TR",
    "slovakia": "SK",
    "slovenia": "SI",
    "croatia": "HR",
    "moldova": "MD",
}
_GPU_MEMORY = re.compile(r"(\d+)\s*gb", re.IGNORECASE)

_STATES = {
    InstanceState.PENDING: ("pending", "queued", "creating", "deploying", "provisioning"),
    InstanceState.BOOTING: ("starting", "booting", "restarting", "rebooting"),
    InstanceState.RUNNING: ("running", "active"),
    InstanceState.STOPPING: ("stopping", "deleting"),
    InstanceState.STOPPED: ("stopped", "stoppeddisassociated", "paused"),
    InstanceState.TERMINATED: ("deleted", "terminated", "destroyed"),
    InstanceState.FAILED: ("error", "failed", "failure"),
}
_STATE_OF_WORD = {word: state for state, words in _STATES.items() for word in words}


class _Skip(Exception):
    """One record is skipped; `reason` names why in the parse report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OfferRef:
    """What launch needs to deploy an offer: where, which GPU model, how many."""

    kind: PlaceKind
    place_id: str
    gpu_model: str
    gpu_count: int

    def encode(self) -> str:
        return f"{self.kind}:{self.place_id}/{self.gpu_model}/{self.gpu_count}"

    @classmethod
    def decode(cls, text: str) -> OfferRef | None:
        kind, _, rest = text.partition(":")
        parts = rest.rsplit("/", 2)
        if kind not in ("location", "hostnode") or len(parts) != 3:
            return None
        place_id, model, count = parts
        if not place_id or not model or not count.isdigit() or not 1 <= int(count) <= MAX_GPUS:
            return None
        return cls("location" if kind == "location" else "hostnode", place_id, model, int(count))


@dataclass(frozen=True)
class Resources:
    vcpus: int
    ram_gb: int
    storage_gb: int


def minimum_resources(gpu_count: int, disk_gb: int = MIN_STORAGE_GB) -> Resources:
    """The smallest VM TensorDock deploys with `gpu_count` GPUs and at least `disk_gb` disk."""
    storage = max(MIN_STORAGE_GB, disk_gb)
    storage = -(-storage // STORAGE_STEP_GB) * STORAGE_STEP_GB
    return Resources(VCPUS_PER_GPU * gpu_count, RAM_GB_PER_GPU * gpu_count, storage)


@dataclass(frozen=True)
class _Prices:
    """Dollars per hour: per GPU, per vCPU, per GB of RAM, per GB of storage."""

    gpu: Decimal
    vcpu: Decimal
    ram_gb: Decimal
    storage_gb: Decimal

    def instance(self, resources: Resources, gpu_count: int) -> int:
        total = (
            self.gpu * gpu_count
            + self.vcpu * resources.vcpus
            + self.ram_gb * resources.ram_gb
            + self.storage_gb * resources.storage_gb
        )
        return usd_to_micros(total)


@dataclass(frozen=True)
class _Limits:
    """The most a VM may get of each resource there; None when not stated."""

    vcpus: Decimal | None = None
    ram_gb: Decimal | None = None
    storage_gb: Decimal | None = None

    def fit(self, resources: Resources) -> bool:
        pairs = (
            (self.vcpus, resources.vcpus),
            (self.ram_gb, resources.ram_gb),
            (self.storage_gb, resources.storage_gb),
        )
        return all(limit is None or wanted <= limit for limit, wanted in pairs)


@dataclass(frozen=True)
class _Place:
    kind: PlaceKind
    id: str
    region: str | None
    country: str | None


@dataclass(frozen=True)
class _Gpu:
    model: str
    name: str
    available: int
    prices: _Prices
    limits: _Limits
    memory_gb: float | None


# ---------------------------------------------------------------------------- values


def _decimal(value: Any) -> Decimal | None:
    """A non-negative finite amount, or None when absent or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def _count(value: Any) -> int | None:
    amount = _decimal(value)
    if amount is None or amount != amount.to_integral_value():
        return None
    return int(amount)


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def country_code(name: str | None) -> str | None:
    """ISO code of a country as TensorDock names it ("United States" → "US")."""
    if not name:
        return None
    return _COUNTRIES.get(name.strip().lower()) or country_of(name)


def _place(kind: PlaceKind, place_id: str, location: Mapping[str, Any]) -> _Place:
    country_name = _text(location.get("country"))
    country = country_code(country_name)
    state = _text(location.get("stateprovince")) or _text(location.get("region"))
    parts = [_text(location.get("city")), state, country or country_name]
    region = ", ".join(p for p in parts if p) or None
    return _Place(kind, place_id, region, country)


def _gpu_memory(*names: str | None) -> float | None:
    for name in names:
        match = _GPU_MEMORY.search(name or "")
        if match:
            return float(match.group(1))
    return None


# ---------------------------------------------------------------------------- offers


def _offers(provider: str, place: _Place, gpu: _Gpu) -> Iterator[ProviderOffer]:
    for count in range(1, min(gpu.available, MAX_GPUS) + 1):
        resources = minimum_resources(count)
        if not gpu.limits.fit(resources):
            break
        yield ProviderOffer(
            provider=provider,
            instance_type=f"{gpu.model}.{count}x",
            gpu_name=gpu.name,
            gpu_count=count,
            price_per_hour=gpu.prices.instance(resources, count),
            region=place.region,
            zone=place.id,
            country=place.country,
            gpu_memory_gb=gpu.memory_gb,
            vcpus=float(resources.vcpus),
            memory_gb=float(resources.ram_gb),
            disk_gb=float(resources.storage_gb),
            offer_ref=OfferRef(place.kind, place.id, gpu.model, count).encode(),
            available_count=gpu.available // count,
        )


def _add_offers(report: ParseReport, provider: str, place: _Place, gpu: _Gpu) -> None:
    if gpu.available == 0:
        raise _Skip("sold_out")
    offers = list(_offers(provider, place, gpu))
    if not offers:
        raise _Skip("resources_below_minimum")
    report.offers.extend(offers)


def _v2_gpu(record: Any) -> _Gpu:
    """One GPU entry of a v2 location."""
    if not isinstance(record, Mapping):
        raise _Skip("not_an_object")
    model = _text(record.get("v0Name"))
    if model is None:
        raise _Skip("missing_gpu_model")
    if record.get("price_per_hr") is None:
        raise _Skip("missing_price")
    gpu_price = _decimal(record.get("price_per_hr"))
    if not gpu_price:
        raise _Skip("bad_price")
    available = _count(record.get("max_count"))
    if available is None:
        raise _Skip("bad_gpu_count")
    if _mapping(record.get("network_features")).get("dedicated_ip_available") is False:
        raise _Skip("no_dedicated_ip")
    pricing = _mapping(record.get("pricing"))
    unit = [_decimal(pricing.get(k)) for k in ("per_vcpu_hr", "per_gb_ram_hr", "per_gb_storage_hr")]
    if None in unit:
        raise _Skip("missing_resource_pricing")
    vcpu, ram, storage = (u or Decimal(0) for u in unit)
    resources = _mapping(record.get("resources"))
    limits = _Limits(
        _decimal(resources.get("max_vcpus")),
        _decimal(resources.get("max_ram_gb")),
        _decimal(resources.get("max_storage_gb")),
    )
    name = _text(record.get("displayName")) or model
    return _Gpu(
        model,
        name,
        available,
        _Prices(gpu_price, vcpu, ram, storage),
        limits,
        _gpu_memory(model, name),
    )


def _locations(payload: Any, provider: str) -> list[Any]:
    locations = _mapping(_mapping(payload).get("data")).get("locations")
    if not isinstance(locations, list):
        raise InvalidResponse(provider, "locations response has no data.locations list")
    return locations


def parse_locations(payload: Any, provider: str) -> ParseReport:
    """Offers from a v2 `GET /locations` body. Each GPU entry is one row; a location that
    cannot be read at all counts as one skipped row."""
    report = ParseReport()
    row = -1
    for location in _locations(payload, provider):
        record = _mapping(location)
        place_id = _text(record.get("id"))
        gpus = record.get("gpus")
        if place_id is None or not isinstance(gpus, list):
            row += 1
            report.rows_read += 1
            report.skip("missing_location_id" if place_id is None else "missing_gpus", row)
            continue
        place = _place("location", place_id, record)
        for gpu in gpus:
            row += 1
            report.rows_read += 1
            try:
                _add_offers(report, provider, place, _v2_gpu(gpu))
            except _Skip as skip:
                report.skip(skip.reason, row)
    return report


# ---------------------------------------------------------------------------- legacy v0


def _v0_gpu(model: str, record: Any, specs: Mapping[str, Any]) -> _Gpu:
    """One entry of a v0 hostnode's `specs.gpu` map, priced with the node's unit prices."""
    if not isinstance(record, Mapping):
        raise _Skip("not_an_object")
    gpu_price = _decimal(record.get("price"))
    if not gpu_price:
        raise _Skip("bad_price")
    available = _count(record.get("amount"))
    if available is None:
        raise _Skip("bad_gpu_count")
    parts = [_mapping(specs.get(k)) for k in ("cpu", "ram", "storage")]
    unit = [_decimal(part.get("price")) for part in parts]
    if None in unit:
        raise _Skip("missing_resource_pricing")
    vcpu, ram, storage = (u or Decimal(0) for u in unit)
    limits = _Limits(*(_decimal(part.get("amount")) for part in parts))
    memory = _decimal(record.get("vram"))
    return _Gpu(
        model,
        model,
        available,
        _Prices(gpu_price, vcpu, ram, storage),
        limits,
        float(memory) if memory is not None else _gpu_memory(model),
    )


def _v0_online(status: Any) -> bool:
    if isinstance(status, Mapping):
        return status.get("online") is not False and status.get("listed") is not False
    return status in (None, "online")


def parse_v0_hostnodes(payload: Any, provider: str) -> ParseReport:
    """Offers from the legacy v0 `GET /client/deploy/hostnodes` body ({hostnodes: {uuid: …}})."""
    hostnodes = _mapping(payload).get("hostnodes")
    if not isinstance(hostnodes, Mapping):
        raise InvalidResponse(provider, "hostnodes response has no hostnodes object")
    report = ParseReport()
    row = -1
    for node_id, node in hostnodes.items():
        record = _mapping(node)
        specs = _mapping(record.get("specs"))
        gpus = specs.get("gpu")
        if not isinstance(gpus, Mapping) or not _v0_online(record.get("status")):
            row += 1
            report.rows_read += 1
            report.skip("missing_gpus" if _v0_online(record.get("status")) else "offline", row)
            continue
        place = _place("hostnode", str(node_id), _mapping(record.get("location")))
        for model, gpu in gpus.items():
            row += 1
            report.rows_read += 1
            try:
                _add_offers(report, provider, place, _v0_gpu(str(model), gpu, specs))
            except _Skip as skip:
                report.skip(skip.reason, row)
    return report


# ---------------------------------------------------------------------------- instances


def instance_state(word: str) -> InstanceState:
    """TensorDock's status word ("running", "StoppedDisassociated", …) as an InstanceState."""
    key = re.sub(r"[^a-z]", "", word.lower())
    return _STATE_OF_WORD.get(key, InstanceState.UNKNOWN)


def _gpu_allocations(gpus: Any) -> list[tuple[str, int]]:
    """GPUs as a list of {gpuV0Name, count} or a map {model: {count}}."""
    if isinstance(gpus, Mapping):
        items = [(model, _mapping(spec).get("count")) for model, spec in gpus.items()]
    elif isinstance(gpus, list):
        items = [
            (
                _mapping(g).get("gpuV0Name") or _mapping(g).get("v0Name"),
                _mapping(g).get("count"),
            )
            for g in gpus
        ]
    else:
        return []
    allocations = []
    for model, count in items:
        number = _count(count)
        if isinstance(model, str) and model and number:
            allocations.append((model, number))
    return allocations


def _ssh_port(forwards: Any) -> int | None:
    """The public port forwarded to 22, from a list of {internal_port, external_port} or a map
    {internal: external}."""
    if isinstance(forwards, Mapping):
        pairs = list(forwards.items())
    elif isinstance(forwards, list):
        pairs = [
            (_mapping(f).get("internal_port"), _mapping(f).get("external_port")) for f in forwards
        ]
    else:
        return None
    for internal, external in pairs:
        if _count(internal) == 22 and _count(external):
            return _count(external)
    return None


def _fields(record: Any) -> dict[str, Any]:
    """An instance's fields from any of its shapes: {data: {...}}, {id, attributes: {...}} or
    flat."""
    outer = _mapping(record)
    if isinstance(outer.get("data"), Mapping):
        outer = outer["data"]
    return {**outer, **_mapping(outer.get("attributes"))}


def parse_instance(record: Any, provider: str) -> Instance | None:
    """One instance record; None when it has no id."""
    fields = _fields(record)
    instance_id = fields.get("id")
    if not isinstance(instance_id, str | int) or isinstance(instance_id, bool) or not instance_id:
        return None
    word = fields.get("status")
    word = word if isinstance(word, str) else ""
    ip = _text(fields.get("ipAddress"))
    port = _ssh_port(fields.get("portForwards")) or (22 if ip else None)
    rate = _decimal(fields.get("rateHourly"))
    gpus = _gpu_allocations(_mapping(fields.get("resources")).get("gpus"))
    name = fields.get("name")
    return Instance(
        provider=provider,
        instance_id=str(instance_id),
        state=instance_state(word),
        provider_status=word,
        tags=Tags.parse(name if isinstance(name, str) else None),
        instance_type=f"{gpus[0][0]}.{gpus[0][1]}x" if len(gpus) == 1 else None,
        public_ip=ip,
        ssh_host=ip,
        ssh_port=port,
        ssh_user=DEFAULT_SSH_USER if ip else None,
        price_per_hour=usd_to_micros(rate) if rate is not None else None,
    )


def parse_instance_list(payload: Any, provider: str) -> list[Instance]:
    """Every readable instance of a v2 `GET /instances` body ({data: {instances: [...]}})."""
    records = _mapping(_mapping(payload).get("data")).get("instances")
    if not isinstance(records, list):
        raise InvalidResponse(provider, "instances response has no data.instances list")
    parsed = (parse_instance(record, provider) for record in records)
    return [instance for instance in parsed if instance is not None]

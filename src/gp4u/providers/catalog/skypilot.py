"""Reads SkyPilot catalog files (`vms.csv`, schema v6-v8) into provider offers.

Real-world quirks handled (see ../shared/data/catalogs/README.md):
- columns are found by name, their order varies by cloud; Region/AvailabilityZone may be absent;
- each row may carry an on-demand `Price` and a `SpotPrice`, giving up to two offers; a spot price
  of 0 means "no spot"; a spot price above the on-demand price means the columns were swapped at
  the source, so they are swapped back and counted as a fix;
- `GpuInfo` is a Python-literal dict, JSON, lower-case keys (DO) or a bare name (Azure,
  Paperspace); its memory figure may be per GPU, the total, or GB instead of MiB (Shadeform);
- primeintellect puts the country in `Region` and the provider's region in `AvailabilityZone`;
- Vast writes regions as "State, CC, Continent";
- RunPod's `MemoryGiB` repeats the GPUs' memory, not the host's, so it is not used;
- clouds that price accelerators apart from the host VM (GCP) list GPU-only rows without an
  `InstanceType`: each is joined to the host VM that carries it in the same zone and the offer's
  price is host plus accelerators (host choice in `_attached_host`);
- float noise in prices (0.36979999999999996) is removed by reading prices as decimals.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from gp4u.providers.base import ParseReport, ProviderOffer
from gp4u.providers.catalog.cells import catalog_rows, number, price
from gp4u.providers.catalog.regions import country_of

REQUIRED_COLUMNS = ("InstanceType", "AcceleratorName", "AcceleratorCount", "Price")
_HOST_MEMORY_IS_VRAM = frozenset({"runpod"})
_CELLS = (
    "InstanceType",
    "AcceleratorName",
    "AcceleratorCount",
    "vCPUs",
    "MemoryGiB",
    "StorageGiB",
    "Price",
    "SpotPrice",
    "Region",
    "AvailabilityZone",
    "GpuInfo",
)


@dataclass(slots=True)
class _Row:
    line: int
    instance_type: str
    accelerator: str
    count_text: str
    vcpus: float | None
    memory_gb: float | None
    disk_gb: float | None
    price_text: str
    spot_text: str
    region: str | None
    zone: str | None
    country: str | None
    gpu_info: str


def _load_gpu_info(text: str) -> Any:
    text = text.strip()
    if not text.startswith("{"):
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


@lru_cache(maxsize=4096)  # catalogs repeat a handful of GpuInfo strings; parsing one costs ~60 µs
def gpu_memory_from_info(text: str) -> float | None:
    """Memory in GB as `GpuInfo` reports it (per GPU or total: the normaliser decides)."""
    info = _load_gpu_info(text)
    if not isinstance(info, dict):
        return None
    lowered = {str(k).lower(): v for k, v in info.items()}
    gpus = lowered.get("gpus")
    if not isinstance(gpus, list) or not gpus or not isinstance(gpus[0], dict):
        return None
    first = {str(k).lower(): v for k, v in gpus[0].items()}
    memory = first.get("memoryinfo")
    if not isinstance(memory, dict):
        return None
    size = {str(k).lower(): v for k, v in memory.items()}.get("sizeinmib")
    if not isinstance(size, int | float) or size <= 0:
        return None
    # Shadeform writes GB into the MiB field: no GPU has less than 1 GiB.
    return float(size) if size < 1024 else size / 1024


def _read_rows(
    text: str, provider: str, report: ParseReport
) -> tuple[list[_Row], dict[tuple[str, str | None, str | None], _Row]]:
    """Emit the offers of ordinary rows; return the accelerator-only rows and the host rows
    they may be joined to."""
    cols, data = catalog_rows(text, REQUIRED_COLUMNS, "SkyPilot", _CELLS, report)
    aggregator_regions = cols is not None and "UpstreamCloudId" in cols  # Region = country
    host_memory_unknown = provider in _HOST_MEMORY_IS_VRAM
    attachable: list[_Row] = []
    hosts: dict[tuple[str, str | None, str | None], _Row] = {}
    for line, cells in data:
        (
            instance,
            accelerator,
            count,
            vcpus,
            memory,
            storage,
            price_text,
            spot_text,
            region,
            zone,
            gpu_info,
        ) = cells
        country = region or None if aggregator_regions else country_of(region or None)
        if aggregator_regions:
            region, zone = zone, ""
        row = _Row(
            line=line,
            instance_type=instance,
            accelerator=accelerator,
            count_text=count,
            vcpus=number(vcpus),
            memory_gb=None if host_memory_unknown else number(memory),
            disk_gb=number(storage),
            price_text=price_text,
            spot_text=spot_text,
            region=region or None,
            zone=zone or None,
            country=country,
            gpu_info=gpu_info,
        )
        if not accelerator:
            if instance:
                hosts[(instance, row.region, row.zone)] = row
            report.skip("no_gpu", line)  # CPU-only, or a host VM for attachable GPUs
        elif not instance:
            attachable.append(row)
        else:
            _emit(row, instance, provider, report, host=None)
    return attachable, hosts


def _attached_host(accelerator: str, count: int) -> str:
    """The host VM a separately priced accelerator runs on (GCP's rules: A100s come with their
    own a2 machine; other attachable GPUs go on an N1 machine with 8 vCPUs per GPU)."""
    if accelerator == "A100":
        return f"a2-highgpu-{count}g"
    if accelerator == "A100-80GB":
        return f"a2-ultragpu-{count}g"
    return f"n1-standard-{min(8 * count, 96)}"


def _prices(row: _Row, report: ParseReport) -> tuple[int | None, int | None] | None:
    try:
        on_demand = price(row.price_text)
        spot = price(row.spot_text)
    except ValueError:
        report.skip("bad_price", row.line)
        return None
    if on_demand == 0:
        on_demand = None
    if spot == 0:  # "0.00" means no spot market (Vast)
        spot = None
    if on_demand is None and spot is None:
        report.skip("missing_price", row.line)
        return None
    if on_demand is not None and spot is not None and spot > on_demand:
        # Catalog rows do not carry spot spikes; a spot price above on-demand is the two columns
        # swapped at the source (RunPod's L40S rows say so in their own Note column).
        report.fixed["spot_on_demand_swapped"] += 1
        on_demand, spot = spot, on_demand
    return on_demand, spot


def parse_skypilot(text: str, provider: str) -> ParseReport:
    """Every GPU offer in one SkyPilot catalog file, and the reason for every skipped row."""
    report = ParseReport()
    attachable, hosts = _read_rows(text, provider, report)
    for row in attachable:
        count = _count(row, report)
        if count is None:
            continue
        host_type = _attached_host(row.accelerator, count)
        host = hosts.get((host_type, row.region, row.zone))
        if host is None:
            report.skip("no_host_vm", row.line)
            continue
        _emit(row, host_type, provider, report, host=host)
    return report


def _count(row: _Row, report: ParseReport) -> int | None:
    count = number(row.count_text)
    if count is not None and 0 < count < 1:  # a slice of one GPU (Azure NVads A10 v5)
        report.skip("fractional_gpu", row.line)
        return None
    if count is None or count <= 0 or count != int(count):
        report.skip("bad_gpu_count", row.line)
        return None
    return int(count)


def _emit(
    row: _Row, instance_type: str, provider: str, report: ParseReport, host: _Row | None
) -> None:
    count = _count(row, report)
    if count is None:
        return
    prices = _prices(row, report)
    if prices is None:
        return
    on_demand, spot = prices
    vcpus, memory_gb, disk_gb = row.vcpus, row.memory_gb, row.disk_gb
    if host is not None:
        host_prices = _prices(host, ParseReport())
        if host_prices is None or host_prices[0] is None:
            report.skip("no_host_vm", row.line)
            return
        on_demand = on_demand + host_prices[0] if on_demand is not None else None
        spot = spot + host_prices[1] if spot is not None and host_prices[1] is not None else None
        vcpus, memory_gb, disk_gb = host.vcpus, host.memory_gb, host.disk_gb
    reported_memory = gpu_memory_from_info(row.gpu_info)
    for amount, is_spot in ((on_demand, False), (spot, True)):
        if amount is None:
            continue
        report.offers.append(
            ProviderOffer(
                provider=provider,
                instance_type=instance_type,
                gpu_name=row.accelerator,
                gpu_count=count,
                price_per_hour=amount,
                spot=is_spot,
                region=row.region,
                zone=row.zone,
                country=row.country,
                gpu_memory_gb=reported_memory,
                vcpus=vcpus,
                memory_gb=memory_gb,
                disk_gb=disk_gb,
            )
        )

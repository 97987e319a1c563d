"""Reads gpuhunt catalog CSVs (dstack's format: one file per provider, one row per offer).

Columns, found by name: instance_name, location, price, cpu, memory, gpu_count, gpu_name,
gpu_memory (GB per GPU), spot (True/False), disk_size, and optional gpu_vendor, flags."""

from __future__ import annotations

from gp4u.providers.base import ParseReport, ProviderOffer
from gp4u.providers.catalog.cells import catalog_rows, number, price
from gp4u.providers.catalog.regions import country_of

REQUIRED_COLUMNS = ("instance_name", "location", "price", "gpu_count", "gpu_name")
_CELLS = (
    "instance_name",
    "location",
    "price",
    "cpu",
    "memory",
    "gpu_count",
    "gpu_name",
    "gpu_memory",
    "spot",
    "disk_size",
)
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no", ""})


def parse_gpuhunt(text: str, provider: str) -> ParseReport:
    """Every GPU offer in one gpuhunt catalog file, and the reason for every skipped row."""
    report = ParseReport()
    _, data = catalog_rows(text, REQUIRED_COLUMNS, "gpuhunt", _CELLS, report)
    for line, cells in data:
        (
            instance,
            location,
            price_text,
            cpu,
            memory,
            count_text,
            gpu_name,
            gpu_memory,
            spot_text,
            disk,
        ) = cells
        count = number(count_text)
        if not gpu_name or count == 0:
            report.skip("no_gpu", line)
            continue
        if count is None or count < 0 or count != int(count):
            report.skip("bad_gpu_count", line)
            continue
        if not instance:
            report.skip("missing_instance_type", line)
            continue
        spot_text = spot_text.lower()
        if spot_text not in _TRUE | _FALSE:
            report.skip("bad_spot_flag", line)
            continue
        try:
            amount = price(price_text)
        except ValueError:
            report.skip("bad_price", line)
            continue
        if amount is None:
            report.skip("missing_price", line)
            continue
        if amount == 0:
            report.skip("bad_price", line)
            continue
        report.offers.append(
            ProviderOffer(
                provider=provider,
                instance_type=instance,
                gpu_name=gpu_name,
                gpu_count=int(count),
                price_per_hour=amount,
                spot=spot_text in _TRUE,
                region=location or None,
                country=country_of(location or None),
                gpu_memory_gb=number(gpu_memory),
                vcpus=number(cpu),
                memory_gb=number(memory),
                disk_gb=number(disk),
            )
        )
    return report

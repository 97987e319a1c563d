"""Plain typed factories for test data."""

from __future__ import annotations

from typing import Any

from gp4u.providers.base import ParseReport, ProviderOffer


def offer(**overrides: Any) -> ProviderOffer:
    values: dict[str, Any] = {
        "provider": "acme",
        "instance_type": "gpu-1x-h100",
        "gpu_name": "H100 SXM",
        "gpu_count": 1,
        "price_per_hour": 2_500_000,
        "spot": False,
        "region": "us-east-1",
        "zone": None,
        "country": "US",
        "gpu_memory_gb": 80.0,
        "vcpus": 26.0,
        "memory_gb": 200.0,
        "disk_gb": 1000.0,
        "available": True,
        "reliability": 0.99,
    }
    values.update(overrides)
    return ProviderOffer(**values)


def report(*offers: ProviderOffer) -> ParseReport:
    return ParseReport(offers=list(offers), rows_read=len(offers))

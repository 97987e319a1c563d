"""Akash Console `GET /v1/gpu-prices` JSON → offers (pure: no I/O).

The answer is `{availability{total, available}, models[{vendor, model, ram, interface,
availability{total, available}, providerAvailability{total, available}, price{currency, min, max,
avg, weightedAverage, med} | null, priceUakt}]}`. The Console derives prices from the last month's
single-GPU bids, one best bid per provider, in USD per GPU-hour.

Decisions: one offer per model (vendor, model, memory, interface), one GPU each. The price is
`weightedAverage` (the providers' best bids weighted by their allocatable GPUs: what the network's
capacity charges), `med` when that is missing or zero; a model whose `price` is null has had no
bids and is skipped (`no_price`). `available_count` is `availability.available`; the offer is
available when it is above zero. Memory ("80Gi") and interface ("sxm5", "pcie") go into the GPU
name so the normaliser sees the variant; a memory figure without a unit is left out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gp4u.kit.money import usd_to_micros
from gp4u.providers.base import InvalidResponse, ParseReport, ProviderOffer

_RAM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT])(?:I?B?)?\s*$", re.IGNORECASE)
_GB_PER_UNIT = {"K": 1 / 1024**2, "M": 1 / 1024, "G": 1.0, "T": 1024.0}


def parse_gpu_prices(body: Any, provider: str = "akash") -> ParseReport:
    """Every priced GPU model in a gpu-prices answer, and the reason for every skipped one."""
    models = body.get("models") if isinstance(body, dict) else None
    if not isinstance(models, list):
        raise InvalidResponse(provider, "gpu-prices: no 'models' list")
    report = ParseReport()
    for index, model in enumerate(models):
        report.rows_read += 1
        offer = _offer(model, provider)
        if isinstance(offer, str):
            report.skip(offer, index)
        else:
            report.offers.append(offer)
    return report


def ram_gb(text: Any) -> float | None:
    """GB of a Kubernetes-style size ("80Gi", "24G", "512Mi"); None without a unit."""
    match = _RAM.match(text) if isinstance(text, str) else None
    if not match:
        return None
    return float(match.group(1)) * _GB_PER_UNIT[match.group(2).upper()]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _positive(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)


def _price(price: Any) -> int | str:
    """Micro-USD per GPU-hour, or the skip reason."""
    if price is None:
        return "no_price"
    if not isinstance(price, dict):
        return "bad_price"
    if price.get("currency", "USD") != "USD":
        return "bad_currency"
    amount = _positive(price.get("weightedAverage")) or _positive(price.get("med"))
    return "bad_price" if amount is None else usd_to_micros(amount)


def _available(model: Mapping[str, Any]) -> int | None:
    availability = model.get("availability")
    count = availability.get("available") if isinstance(availability, dict) else None
    if isinstance(count, bool) or not isinstance(count, int):
        return None
    return max(count, 0)


def _offer(model: Any, provider: str) -> ProviderOffer | str:
    """The offer of one model, or the reason it has none."""
    if not isinstance(model, dict):
        return "not_an_object"
    vendor, name = _text(model.get("vendor")), _text(model.get("model"))
    if not vendor or not name:
        return "missing_model"
    if "price" not in model:
        return "missing_price"
    price = _price(model["price"])
    if isinstance(price, str):
        return price
    ram, interface = _text(model.get("ram")), _text(model.get("interface"))
    memory = ram_gb(ram)
    gpu = " ".join(p for p in (vendor, name, interface, f"{memory:g}GB" if memory else "") if p)
    count = _available(model)
    return ProviderOffer(
        provider=provider,
        instance_type="-".join(p for p in (vendor, name, ram, interface) if p),
        gpu_name=gpu,
        gpu_count=1,
        price_per_hour=price,
        gpu_memory_gb=memory,
        available=count is None or count > 0,
        available_count=count,
        # The SDL attribute an Akash deployment would request this GPU with.
        offer_ref="/".join(
            f"{k}/{v}"
            for k, v in (
                ("vendor", vendor),
                ("model", name),
                ("ram", ram),
                ("interface", interface),
            )
            if v
        ),
    )

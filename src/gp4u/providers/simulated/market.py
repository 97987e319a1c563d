"""The simulated market: realistic offers around documented list prices, moving over time.

It is what `make run` shows when no other source has data (no network, no keys), and it is
marked `source: simulated` everywhere. Reference prices, with the source and date of each, live in
`reference_prices.toml` next to this file.

The model, per offer (provider, instance type, size, region, on-demand/spot):
- Prices move in steps: every hour on marketplaces and decentralised networks, every week on
  clouds (list prices rarely change).
- Price = reference x exp(x) x cycle. `x` is a mean-reverting AR(1) process in steps,
  x_t = 0.85 x_{t-1} + e_t, whose stationary spread equals the provider's `volatility`; `cycle`
  is a daily demand swing of +/- volatility/2 peaking at 18:00 UTC (marketplaces only).
- Spot offers (where the provider has a spot market) start at reference x (1 - spot_discount)
  and move on their own path with 1.5x the volatility.
- Availability is redrawn every 6 hours: an offer is available with probability equal to the
  provider's reliability, at most 0.98.
- Every random draw is a hash of (offer, step), so the market is a pure function of time:
  restarts agree, and tests move an injectable clock instead of waiting.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from statistics import NormalDist

from gp4u.kit.money import usd_to_micros
from gp4u.providers.base import ProviderOffer

_RHO = 0.85
_LAGS = 24  # 0.85^24 < 0.02: older shocks no longer matter
_STEP_HOURS = {"marketplace": 1, "decentralised": 1, "cloud": 168}
_AVAILABILITY_HOURS = 6
_PEAK_HOUR_UTC = 18
_NORMAL = NormalDist()


@dataclass(frozen=True)
class ReferenceOffer:
    gpu: str
    variant: str
    memory_gb: int
    gpu_counts: tuple[int, ...]
    price_per_gpu_hour: str  # decimal text, exact
    vcpus_per_gpu: float
    memory_gb_per_gpu: float
    disk_gb_per_gpu: float
    instance_type: str


@dataclass(frozen=True)
class ReferenceProvider:
    id: str
    name: str
    kind: str
    reliability: float
    spot_discount: float
    volatility: float
    regions: tuple[tuple[str, str], ...]
    offers: tuple[ReferenceOffer, ...]


@cache
def reference_providers() -> tuple[ReferenceProvider, ...]:
    text = resources.files("gp4u.providers.simulated").joinpath("reference_prices.toml")
    data = tomllib.loads(text.read_text("utf-8"), parse_float=str)
    providers = []
    for raw in data["provider"]:
        providers.append(
            ReferenceProvider(
                id=raw["id"],
                name=raw["name"],
                kind=raw["kind"],
                reliability=float(raw["reliability"]),
                spot_discount=float(raw["spot_discount"]),
                volatility=float(raw["volatility"]),
                regions=tuple((r["region"], r["country"]) for r in raw["regions"]),
                offers=tuple(
                    ReferenceOffer(
                        gpu=o["gpu"],
                        variant=o["variant"],
                        memory_gb=int(o["memory_gb"]),
                        gpu_counts=tuple(int(c) for c in o["gpu_counts"]),
                        price_per_gpu_hour=str(o["price_per_gpu_hour"]),
                        vcpus_per_gpu=float(o["vcpus_per_gpu"]),
                        memory_gb_per_gpu=float(o["memory_gb_per_gpu"]),
                        disk_gb_per_gpu=float(o["disk_gb_per_gpu"]),
                        instance_type=o["instance_type"],
                    )
                    for o in raw["offer"]
                ),
            )
        )
    return tuple(providers)


def _uniform(*parts: object) -> float:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 0.5) / 2**64


def _drift(path: str, step: int, volatility: float) -> float:
    """x_t of the AR(1) process at `step`, from the last `_LAGS` hashed shocks."""
    shock_scale = volatility * math.sqrt(1 - _RHO**2)
    total = 0.0
    weight = 1.0
    for lag in range(_LAGS):
        total += weight * _NORMAL.inv_cdf(_uniform(path, step - lag))
        weight *= _RHO
    return shock_scale * total


def _gpu_name(offer: ReferenceOffer) -> str:
    parts = [offer.gpu, offer.variant, f"{offer.memory_gb}GB"]
    return " ".join(p for p in parts if p)


def simulated_offers(now: datetime, provider_ids: set[str] | None = None) -> list[ProviderOffer]:
    """Every simulated offer as the market stands at `now`."""
    hours = now.timestamp() / 3600
    result: list[ProviderOffer] = []
    for provider in reference_providers():
        if provider_ids is not None and provider.id not in provider_ids:
            continue
        step_hours = _STEP_HOURS.get(provider.kind, 1)
        step = math.floor(hours / step_hours)
        step_start_hour = step * step_hours
        cycle = 1.0
        if step_hours == 1:
            phase = 2 * math.pi * ((step_start_hour % 24) - _PEAK_HOUR_UTC + 6) / 24
            cycle = 1 + provider.volatility / 2 * math.sin(phase)
        availability_window = math.floor(hours / _AVAILABILITY_HOURS)
        p_available = min(provider.reliability, 0.98)
        for ref in provider.offers:
            for count in ref.gpu_counts:
                instance_type = ref.instance_type.replace("{n}", str(count))
                base = usd_to_micros(ref.price_per_gpu_hour) * count
                for region, country in provider.regions:
                    path = f"{provider.id}|{instance_type}|{region}"
                    kinds = [(False, 1.0, provider.volatility)]
                    if provider.spot_discount > 0:
                        kinds.append((True, 1 - provider.spot_discount, provider.volatility * 1.5))
                    for spot, level, volatility in kinds:
                        offer_path = f"{path}|{'spot' if spot else 'od'}"
                        factor = math.exp(_drift(offer_path, step, volatility)) * cycle * level
                        price = round(base * factor / 1000) * 1000  # whole tenths of a cent
                        jitter = (_uniform(offer_path, "reliability") - 0.5) * 0.04
                        result.append(
                            ProviderOffer(
                                provider=provider.id,
                                instance_type=instance_type,
                                gpu_name=_gpu_name(ref),
                                gpu_count=count,
                                price_per_hour=max(price, 1000),
                                spot=spot,
                                region=region,
                                country=country,
                                gpu_memory_gb=float(ref.memory_gb),
                                vcpus=ref.vcpus_per_gpu * count,
                                memory_gb=ref.memory_gb_per_gpu * count,
                                disk_gb=ref.disk_gb_per_gpu * count or None,
                                available=_uniform(offer_path, availability_window) < p_available,
                                reliability=round(
                                    min(1.0, max(0.0, provider.reliability + jitter)), 3
                                ),
                            )
                        )
    return result

"""A fake Akash Console API: `GET /v1/gpu-prices` (public, no auth) in the real shape,
`{availability{total, available}, models[...]}`, the totals summed over the models.

`state.offers` holds the model records; empty means `generate_offers(40, 0)`. To serve the real
Console test fixture instead, put its models there: `FakeState(offers=fixture_models(path))`.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Response

from gp4u.fakes import kit
from gp4u.fakes.kit import FakeState, json_response

# (vendor, model, ram, interface, USD per GPU-hour around which bids cluster): Akash inventory
# names (SDL attributes) and Console price levels, rounded.
_MODELS: tuple[tuple[str, str, str, str, float], ...] = (
    ("nvidia", "h100", "80Gi", "sxm5", 1.45),
    ("nvidia", "h100", "80Gi", "pcie", 1.25),
    ("nvidia", "h200", "141Gi", "sxm5", 2.10),
    ("nvidia", "a100", "80Gi", "sxm4", 0.95),
    ("nvidia", "a100", "80Gi", "pcie", 0.85),
    ("nvidia", "a100", "40Gi", "pcie", 0.65),
    ("nvidia", "l40s", "48Gi", "pcie", 0.70),
    ("nvidia", "a40", "48Gi", "pcie", 0.35),
    ("nvidia", "rtxa6000", "48Gi", "pcie", 0.40),
    ("nvidia", "rtx4090", "24Gi", "pcie", 0.33),
    ("nvidia", "rtx3090", "24Gi", "pcie", 0.20),
    ("nvidia", "rtx3080", "10Gi", "pcie", 0.12),
    ("nvidia", "a10", "24Gi", "pcie", 0.25),
    ("nvidia", "t4", "16Gi", "pcie", 0.10),
    ("nvidia", "v100", "32Gi", "sxm2", 0.22),
    ("amd", "mi300x", "192Gi", "oam", 1.90),
)


def fixture_models(path: Path) -> list[dict[str, Any]]:
    """The models of a saved `/v1/gpu-prices` answer (e.g. the Console's test fixture)."""
    body = orjson.loads(path.read_bytes())
    return list(body["models"])


def _prices(
    rng: random.Random, level: float, scale: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    bids = sorted(round(level * rng.uniform(0.7, 1.4), 2) for _ in range(rng.randint(1, 6)))
    mid = bids[len(bids) // 2]

    def stats(values: list[float], currency: str) -> dict[str, Any]:
        return {
            "currency": currency,
            "min": values[0],
            "max": values[-1],
            "avg": round(sum(values) / len(values), 2),
            "weightedAverage": round(sum(values) / len(values) * rng.uniform(0.95, 1.05), 2),
            "med": mid if currency == "USD" else round(mid * scale, 2),
        }

    return stats(bids, "USD"), stats([round(b * scale, 2) for b in bids], "uakt")


def generate_offers(count: int, seed: int) -> list[dict[str, Any]]:
    """`count` model records as `/v1/gpu-prices` lists them (unique by vendor, model, ram and
    interface; after the real names, `<model>v<n>` variants), deterministic for a seed. About one
    in ten has had no bids (`price` null), as on the live network."""
    rng = random.Random(seed)
    akt_usd = rng.uniform(0.8, 3.0)
    models = []
    for i in range(count):
        vendor, model, ram, interface, level = _MODELS[i % len(_MODELS)]
        generation = i // len(_MODELS)
        if generation:
            model = f"{model}v{generation}"
        total = rng.choice((1, 2, 4, 8, 8, 16, 24, 48))
        providers = max(1, total // rng.choice((1, 2, 4, 8)))
        price, price_uakt = _prices(rng, level, 1_000_000 / akt_usd)
        unpriced = rng.random() < 0.1
        models.append(
            {
                "vendor": vendor,
                "model": model,
                "ram": ram,
                "interface": interface,
                "availability": {"total": total, "available": rng.randint(0, total)},
                "providerAvailability": {
                    "total": providers,
                    "available": rng.randint(0, providers),
                },
                "price": None if unpriced else price,
                "priceUakt": None if unpriced else price_uakt,
            }
        )
    return models


def _total(models: list[dict[str, Any]], key: str) -> int:
    total = 0
    for model in models:
        availability = model.get("availability")
        if isinstance(availability, dict) and isinstance(availability.get(key), int):
            total += availability[key]
    return total


def create_app(state: FakeState | None = None) -> FastAPI:
    """The fake Akash Console API app; `state` holds the model records and faults."""
    state = state or FakeState()
    app = FastAPI(title="Fake Akash Console API")
    default_models = generate_offers(40, 0)

    @app.get("/v1/gpu-prices")
    async def gpu_prices() -> Response:
        models = state.offers or default_models
        body = {
            "availability": {
                "total": _total(models, "total"),
                "available": _total(models, "available"),
            },
            "models": [state.strip(dict(m)) for m in models],
        }
        return json_response(state, body)

    kit.install(app, state, generate_offers, kit.routes(("GET", "/v1/gpu-prices", "offers")))
    return app

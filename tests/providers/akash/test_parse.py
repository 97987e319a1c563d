"""Akash Console gpu-prices parsing: one offer per priced GPU model, USD per GPU-hour."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from gp4u.catalog.normalise import normalise_gpu
from gp4u.fakes.akash import generate_offers
from gp4u.providers.akash.parse import parse_gpu_prices, ram_gb
from gp4u.providers.base import InvalidResponse, ProviderOffer
from tests.conftest import PROVIDER_API

FIXTURE = PROVIDER_API / "akash" / "console-api-v1-gpu-prices.response.test-fixture.json"


def model(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "vendor": "nvidia",
        "model": "h100",
        "ram": "80Gi",
        "interface": "sxm5",
        "availability": {"total": 16, "available": 5},
        "providerAvailability": {"total": 3, "available": 2},
        "price": {
            "currency": "USD",
            "min": 1.1,
            "max": 2.2,
            "avg": 1.6,
            "weightedAverage": 1.47,
            "med": 1.5,
        },
        "priceUakt": None,
    }
    return record | changes


def test_the_console_fixture_parses_exactly() -> None:
    report = parse_gpu_prices(json.loads(FIXTURE.read_text()))
    assert report.rows_read == 4
    assert report.skipped == Counter({"no_price": 2})  # gpu2 and gpu1 have had no bids
    assert report.offers == [
        ProviderOffer(
            provider="akash",
            instance_type="amd-gpu3-8192-sxm",
            gpu_name="amd gpu3 sxm",  # "8192" has no unit: not a memory size we can read
            gpu_count=1,
            price_per_hour=1_200_000,
            available=True,
            offer_ref="vendor/amd/model/gpu3/ram/8192/interface/sxm",
            available_count=8,
        ),
        ProviderOffer(
            provider="akash",
            instance_type="nvidia-gpu0-1024-pcie",
            gpu_name="nvidia gpu0 pcie",
            gpu_count=1,
            price_per_hour=600_000,
            available=True,
            offer_ref="vendor/nvidia/model/gpu0/ram/1024/interface/pcie",
            available_count=1,
        ),
    ]


def test_a_real_model_gets_memory_and_variant_into_its_name() -> None:
    [offer] = parse_gpu_prices({"models": [model()]}).offers
    assert (offer.gpu_name, offer.gpu_memory_gb, offer.instance_type) == (
        "nvidia h100 sxm5 80GB",
        80.0,
        "nvidia-h100-80Gi-sxm5",
    )
    assert offer.price_per_hour == 1_470_000  # weightedAverage, per GPU-hour, one GPU
    assert (offer.available, offer.available_count, offer.spot, offer.region) == (
        True,
        5,
        False,
        None,
    )
    gpu = normalise_gpu(offer.gpu_name)
    assert (gpu.gpu, gpu.variant, gpu.memory_gb) == ("H100", "SXM", 80)


def test_the_median_stands_in_when_the_weighted_average_is_missing_or_zero() -> None:
    prices = [
        {"currency": "USD", "min": 0.3, "max": 0.4, "avg": 0.35, "med": 0.33},
        {"currency": "USD", "min": 0.3, "max": 0.4, "avg": 0.35, "weightedAverage": 0, "med": 0.34},
    ]
    offers = parse_gpu_prices(
        {"models": [model(model=f"m{i}", price=p) for i, p in enumerate(prices)]}
    ).offers
    assert [o.price_per_hour for o in offers] == [330_000, 340_000]


def test_no_free_gpus_means_unavailable_but_still_listed() -> None:
    [offer] = parse_gpu_prices(
        {"models": [model(availability={"total": 8, "available": 0})]}
    ).offers
    assert (offer.available, offer.available_count) == (False, 0)


@pytest.mark.parametrize(
    ("text", "gb"),
    [
        ("80Gi", 80.0),
        ("24G", 24.0),
        ("48GiB", 48.0),
        ("512Mi", 0.5),
        ("1Ti", 1024.0),
        ("4096", None),
        ("", None),
    ],
)
def test_memory_sizes(text: str, gb: float | None) -> None:
    assert ram_gb(text) == gb


def test_malformed_models_are_skipped_and_counted_and_the_rest_kept() -> None:
    models = [
        model(),
        model(model="", price=None),
        {"vendor": "nvidia", "ram": "24Gi"},
        model(model="a", price=None),
        model(model="b", price="1.2"),
        model(model="c", price={"currency": "uakt", "weightedAverage": 1200000, "med": 1200000}),
        model(model="d", price={"currency": "USD", "weightedAverage": -1, "med": 0}),
        "junk",
        {k: v for k, v in model(model="e").items() if k != "price"},
        model(model="f", availability=None),
    ]
    report = parse_gpu_prices({"models": models})
    assert [o.instance_type for o in report.offers] == [
        "nvidia-h100-80Gi-sxm5",
        "nvidia-f-80Gi-sxm5",
    ]
    assert report.offers[1].available_count is None and report.offers[1].available
    assert report.rows_read == 10
    assert report.skipped == Counter(
        {
            "missing_model": 2,
            "no_price": 1,
            "bad_price": 2,
            "bad_currency": 1,
            "not_an_object": 1,
            "missing_price": 1,
        }
    )


@pytest.mark.parametrize("body", [None, [], {"availability": {}}, {"models": {}}])
def test_a_body_without_models_is_invalid(body: Any) -> None:
    with pytest.raises(InvalidResponse):
        parse_gpu_prices(body)


def test_generated_models_are_deterministic_unique_and_parsable() -> None:
    models = generate_offers(10_000, 7)
    assert models == generate_offers(10_000, 7) and models != generate_offers(10_000, 8)
    report = parse_gpu_prices({"models": models})
    assert report.rows_read == 10_000
    assert set(report.skipped) == {"no_price"} and 500 < report.skipped["no_price"] < 1500
    assert len({o.instance_type for o in report.offers}) == len(report.offers)
    real_names = parse_gpu_prices({"models": generate_offers(16, 0)}).offers
    assert real_names and all(normalise_gpu(o.gpu_name).known for o in real_names)

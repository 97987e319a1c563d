"""Lambda Cloud parsing: instance types into offers, instance records into instances."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from gp4u.catalog.normalise import normalise_gpu
from gp4u.fakes.lambda_cloud import generate_offers
from gp4u.providers.base import InvalidResponse, ProviderOffer
from gp4u.providers.interface import InstanceState, Tags
from gp4u.providers.lambda_cloud.parse import (
    error_of,
    parse_instance,
    parse_instance_types,
    parse_instances,
)
from tests.conftest import PROVIDER_API

SAMPLES = PROVIDER_API / "lambda"


def load(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def item(
    name: str, cents: Any = 249, regions: list[str] | None = None, **spec: Any
) -> dict[str, Any]:
    return {
        "instance_type": {
            "name": name,
            "description": "1x H100 (80 GB PCIe)",
            "gpu_description": "H100 (80 GB PCIe)",
            "price_cents_per_hour": cents,
            "specs": {"vcpus": 26, "memory_gib": 200, "storage_gib": 1024, "gpus": 1},
            **spec,
        },
        "regions_with_capacity_available": [{"name": r, "description": r} for r in regions or []],
    }


def test_the_documented_instance_types_sample_parses_exactly() -> None:
    report = parse_instance_types(load("instance-types.response.docs.json"))
    assert report.rows_read == 1 and not report.skipped
    assert report.offers == [
        ProviderOffer(
            provider="lambda",
            instance_type="gpu_1x_a100_sxm4",
            gpu_name="A100 SXM4 (40 GB)",  # the description without its "1x"
            gpu_count=1,  # from the description: this sample has no specs.gpus
            price_per_hour=1_100_000,  # 110 cents per hour for the whole instance
            region="us-tx-3",
            country="US",
            gpu_memory_gb=40.0,
            vcpus=24.0,
            memory_gb=85.0,
            disk_gb=512.0,
            available=True,
            offer_ref="gpu_1x_a100_sxm4",
            available_count=None,
        )
    ]
    gpu = normalise_gpu(report.offers[0].gpu_name)
    assert (gpu.gpu, gpu.variant, gpu.memory_gb) == ("A100", "SXM", 40)


def test_one_offer_per_region_with_capacity_and_the_whole_instance_price() -> None:
    body = {
        "data": {
            "gpu_8x_h100_sxm5": {
                "instance_type": {
                    "name": "gpu_8x_h100_sxm5",
                    "description": "8x H100 (80 GB SXM5)",
                    "gpu_description": "H100 (80 GB SXM5)",
                    "price_cents_per_hour": 2392,
                    "specs": {"vcpus": 208, "memory_gib": 1800, "storage_gib": 22528, "gpus": 8},
                },
                "regions_with_capacity_available": [
                    {"name": "us-east-1", "description": "Virginia, USA"},
                    {"name": "europe-central-1", "description": "Germany"},
                ],
            }
        }
    }
    offers = parse_instance_types(body).offers
    assert [(o.region, o.country, o.available) for o in offers] == [
        ("us-east-1", "US", True),
        ("europe-central-1", "DE", True),
    ]
    assert {(o.gpu_name, o.gpu_count, o.price_per_hour, o.gpu_memory_gb) for o in offers} == {
        ("H100 (80 GB SXM5)", 8, 23_920_000, 80.0)
    }
    assert normalise_gpu(offers[0].gpu_name).variant == "SXM"


def test_a_type_without_capacity_is_one_unavailable_offer_without_region() -> None:
    report = parse_instance_types(
        {"data": {"gpu_1x_h100_pcie": item("gpu_1x_h100_pcie", regions=[])}}
    )
    [offer] = report.offers
    assert (offer.region, offer.available, offer.available_count) == (None, False, 0)
    assert offer.price_per_hour == 2_490_000 and offer.offer_ref == "gpu_1x_h100_pcie"


def test_malformed_types_are_skipped_and_counted_and_the_rest_kept() -> None:
    data = {
        "good": item("gpu_1x_h100_pcie", regions=["us-west-1"]),
        "no_price": item("a", cents=None),
        "text_price": item("b", cents="2.49"),
        "free": item("c", cents=0),
        "cpu_only": item(
            "cpu_4x_general", specs={"vcpus": 4, "memory_gib": 16, "storage_gib": 100, "gpus": 0}
        ),
        "no_spec": {"regions_with_capacity_available": []},
        "no_regions": {"instance_type": item("d")["instance_type"]},
        "not_an_object": [1, 2],
        "no_gpu_name": item("e", description=None, gpu_description=None),
    }
    report = parse_instance_types({"data": data})
    assert [o.instance_type for o in report.offers] == ["gpu_1x_h100_pcie"]
    assert report.rows_read == 9
    assert report.skipped == Counter(
        {
            "missing_price": 1,
            "bad_price": 2,
            "no_gpu": 1,
            "missing_instance_type": 1,
            "missing_regions": 1,
            "not_an_object": 1,
            "missing_gpu_name": 1,
        }
    )


def test_gpu_count_falls_back_to_the_type_name() -> None:
    raw = item("gpu_4x_a6000", regions=["us-south-1"], description="RTX A6000", specs={})
    [offer] = parse_instance_types({"data": {"gpu_4x_a6000": raw}}).offers
    assert offer.gpu_count == 4 and offer.vcpus is None


@pytest.mark.parametrize("body", [[], {"error": {}}, {"data": []}, None])
def test_a_body_without_the_data_object_is_invalid(body: Any) -> None:
    with pytest.raises(InvalidResponse):
        parse_instance_types(body)


def test_the_documented_instances_sample_parses() -> None:
    [instance] = parse_instances(load("instances.response.docs.json"))
    assert instance.instance_id == "0920582c7ff041399e34823a0be62549"
    assert (instance.state, instance.provider_status) == (InstanceState.RUNNING, "active")
    assert (instance.instance_type, instance.region) == ("gpu_1x_a100_sxm4", "us-tx-3")
    assert (instance.public_ip, instance.ssh_host, instance.ssh_port, instance.ssh_user) == (
        "10.10.10.1",
        "10.10.10.1",
        22,
        "ubuntu",
    )
    assert instance.tags is None  # "training-node-1" is not one of ours


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("booting", InstanceState.BOOTING),
        ("active", InstanceState.RUNNING),
        ("unhealthy", InstanceState.FAILED),
        ("terminating", InstanceState.STOPPING),
        ("terminated", InstanceState.TERMINATED),
        ("preempted", InstanceState.TERMINATED),
        ("rebuilding", InstanceState.UNKNOWN),
    ],
)
def test_status_words_map_to_states_and_are_kept(word: str, state: InstanceState) -> None:
    instance = parse_instance({"id": "i1", "status": word})
    assert (instance.state, instance.provider_status) == (state, word)


def test_tags_come_from_key_value_tags_or_else_the_name() -> None:
    tagged = parse_instance(
        {
            "id": "i1",
            "status": "active",
            "name": "something else",
            "tags": [
                {"key": "gp4u-deployment", "value": "dep1"},
                {"key": "gp4u-session", "value": "sess42"},
                {"key": "gp4u-owner", "value": "alice"},
            ],
            "instance_type": {"name": "gpu_1x_a10", "price_cents_per_hour": 75},
        }
    )
    assert tagged.tags == Tags("dep1", "sess42", "alice")
    assert tagged.price_per_hour == 750_000
    named = parse_instance({"id": "i2", "status": "booting", "name": "gp4u-dep1-sess43"})
    assert named.tags == Tags("dep1", "sess43")
    assert named.public_ip is None  # no address while booting


def test_instance_records_without_an_id_are_dropped_from_lists() -> None:
    body = {"data": [{"status": "active"}, {"id": "i1", "status": "active"}, "junk"]}
    assert [i.instance_id for i in parse_instances(body)] == ["i1"]
    with pytest.raises(InvalidResponse):
        parse_instance({"status": "active"})


def test_error_bodies() -> None:
    body = {"error": {"code": "global/invalid-api-key", "message": "API key was invalid"}}
    assert error_of(body) == ("global/invalid-api-key", "API key was invalid")
    assert error_of({"detail": "Not Found"}) == (None, None)


def test_generated_inventory_is_deterministic_unique_and_fully_parsable() -> None:
    items = generate_offers(10_000, 3)
    assert items == generate_offers(10_000, 3) and items != generate_offers(10_000, 4)
    names = [i["instance_type"]["name"] for i in items]
    assert len(set(names)) == 10_000
    report = parse_instance_types({"data": dict(zip(names, items, strict=True))})
    assert report.rows_read == 10_000 and not report.skipped
    assert sum(not o.available for o in report.offers) > 1000  # many types are sold out
    assert {normalise_gpu(o.gpu_name).known for o in report.offers} == {True}

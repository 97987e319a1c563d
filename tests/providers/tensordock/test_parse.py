"""TensorDock parsers: the real samples into exact offers, skipped records, instance shapes."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from gp4u.fakes.tensordock import generate_offers
from gp4u.providers.base import InvalidResponse
from gp4u.providers.interface import InstanceState, Tags
from gp4u.providers.tensordock.parse import (
    OfferRef,
    country_code,
    instance_state,
    minimum_resources,
    parse_instance,
    parse_instance_list,
    parse_locations,
    parse_v0_hostnodes,
)
from tests.conftest import PROVIDER_API

SAMPLES = PROVIDER_API / "tensordock"
P = "tensordock"


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def by_count(offers: list[Any]) -> dict[int, Any]:
    return {offer.gpu_count: offer for offer in offers}


def test_v2_locations_sample_gives_one_offer_per_gpu_count() -> None:
    report = parse_locations(sample("v2-locations.response.docs-excerpt.json"), P)

    assert report.rows_read == 1
    assert not report.skipped
    offers = by_count(report.offers)
    assert sorted(offers) == [1, 2, 3, 4, 5, 6, 7, 8]
    one, eight = offers[1], offers[8]
    # $2.20/GPU + 2 vCPU x $0.003 + 8 GB x $0.002 + 100 GB x $0.00005 = $2.227
    assert one.price_per_hour == 2_227_000
    # 8 x $2.20 + 16 x $0.003 + 64 x $0.002 + 100 x $0.00005 = $17.781
    assert eight.price_per_hour == 17_781_000
    assert (one.instance_type, eight.instance_type) == ("h100-sxm5-80gb.1x", "h100-sxm5-80gb.8x")
    assert one.gpu_name == "H100 SXM5 80GB"
    assert one.gpu_memory_gb == 80.0
    assert (one.vcpus, one.memory_gb, one.disk_gb) == (2.0, 8.0, 100.0)
    assert (eight.vcpus, eight.memory_gb, eight.disk_gb) == (16.0, 64.0, 100.0)
    assert one.region == "Austin, Texas, US"
    assert one.country == "US"
    assert one.zone == "loc-uuid-12345"
    assert one.spot is False
    assert one.offer_ref == "location:loc-uuid-12345/h100-sxm5-80gb/1"
    assert [offers[k].available_count for k in (1, 2, 3, 4, 8)] == [8, 4, 2, 2, 1]
    assert len({(o.instance_type, o.region, o.zone, o.spot) for o in report.offers}) == 8


def test_v0_gpuhunt_specs_fixture_is_priced_with_its_unit_prices() -> None:
    specs = sample("v0-hostnode-specs.gpuhunt-fixture.json")
    report = parse_v0_hostnodes({"hostnodes": {"hn-1": {"specs": specs}}}, P)

    offers = by_count(report.offers)
    assert sorted(offers) == list(range(1, 9))
    # $1.05 + 2 x $0.003 + 8 x $0.002 + 100 x $0.00005
    assert offers[1].price_per_hour == 1_077_000
    assert offers[8].price_per_hour == 8_581_000
    assert offers[1].gpu_name == "l40-pcie-48gb"
    assert offers[1].gpu_memory_gb == 48.0
    assert offers[1].offer_ref == "hostnode:hn-1/l40-pcie-48gb/1"
    assert offers[1].region is None


def test_v0_hostnodes_exchange_reads_location_and_prices() -> None:
    body = sample("v0-hostnodes.exchange.third-party-example.json")["response"]["body"]
    report = parse_v0_hostnodes(body, P)

    offers = by_count(report.offers)
    assert sorted(offers) == [1, 2, 3, 4]
    # $0.32 + 2 x $0.014 + 8 x $0.0025 + 100 x $0.00015 = $0.383
    assert offers[1].price_per_hour == 383_000
    assert offers[4].price_per_hour == 1_487_000
    assert offers[1].region == "Ashburn, Virginia, US"
    assert offers[1].country == "US"
    assert offers[1].zone == "a3f9b4c1-2d1f-4e9b-9a7c-1b2cd3ef4567"
    assert offers[1].gpu_memory_gb == 24.0
    assert offers[2].available_count == 2


def test_counts_the_location_cannot_hold_are_not_offered() -> None:
    body = sample("v2-locations.response.docs-excerpt.json")
    body["data"]["locations"][0]["gpus"][0]["resources"]["max_vcpus"] = 5  # 2 per GPU

    assert sorted(by_count(parse_locations(body, P).offers)) == [1, 2]


def test_malformed_records_are_skipped_and_counted_the_rest_kept() -> None:
    good = sample("v2-locations.response.docs-excerpt.json")["data"]["locations"][0]
    gpu = good["gpus"][0]
    broken = [
        {k: v for k, v in gpu.items() if k != "v0Name"},
        {**gpu, "price_per_hr": "abc"},
        {**gpu, "price_per_hr": -1},
        {k: v for k, v in gpu.items() if k != "price_per_hr"},
        {**gpu, "max_count": 1.5},
        {k: v for k, v in gpu.items() if k != "pricing"},
        {**gpu, "max_count": 0},
        {**gpu, "network_features": {"dedicated_ip_available": False}},
        "not a gpu",
    ]
    body = {
        "data": {
            "locations": [
                {**copy.deepcopy(good), "gpus": [*broken, gpu]},
                {"city": "Nowhere", "gpus": [gpu]},
                {"id": "loc-2", "gpus": None},
            ]
        }
    }
    report = parse_locations(body, P)

    assert report.rows_read == len(broken) + 1 + 2
    assert report.skipped == {
        "missing_gpu_model": 1,
        "bad_price": 2,
        "missing_price": 1,
        "bad_gpu_count": 1,
        "missing_resource_pricing": 1,
        "sold_out": 1,
        "no_dedicated_ip": 1,
        "not_an_object": 1,
        "missing_location_id": 1,
        "missing_gpus": 1,
    }
    assert report.examples["bad_price"] == [1, 2]
    assert len(report.offers) == 8


@pytest.mark.parametrize("body", [{}, {"data": {}}, {"data": {"locations": {}}}, [], None])
def test_locations_without_the_envelope_are_invalid(body: Any) -> None:
    with pytest.raises(InvalidResponse):
        parse_locations(body, P)


def test_v0_without_hostnodes_is_invalid_and_offline_nodes_are_skipped() -> None:
    with pytest.raises(InvalidResponse):
        parse_v0_hostnodes({"success": False}, P)
    specs = sample("v0-hostnode-specs.gpuhunt-fixture.json")
    report = parse_v0_hostnodes(
        {
            "hostnodes": {
                "a": {"status": "offline", "specs": specs},
                "b": {"status": {"online": False}},
            }
        },
        P,
    )
    assert report.skipped == {"offline": 2}
    assert report.offers == []


@pytest.mark.parametrize(
    ("country", "code"),
    [("United States", "US"), ("United Kingdom", "GB"), ("Canada", "CA"), ("Finland", "FI")],
)
def test_country_names_become_iso_codes(country: str, code: str) -> None:
    assert country_code(country) == code


def test_minimum_resources_round_storage_up_to_steps_of_50() -> None:
    assert minimum_resources(1) == minimum_resources(1, 50)
    assert minimum_resources(1, 50).storage_gb == 100
    assert minimum_resources(3, 120) == minimum_resources(3, 150)
    assert (minimum_resources(3).vcpus, minimum_resources(3).ram_gb) == (6, 24)


def test_offer_ref_round_trips_and_rejects_other_text() -> None:
    ref = OfferRef("location", "loc-1", "h100-sxm5-80gb", 4)
    assert OfferRef.decode(ref.encode()) == ref
    for text in (
        "",
        "loc-1/h100/1",
        "location:loc-1/h100/0",
        "location:loc-1/h100/9",
        "zone:a/b/1",
    ):
        assert OfferRef.decode(text) is None


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("running", InstanceState.RUNNING),
        ("Running", InstanceState.RUNNING),
        ("starting", InstanceState.BOOTING),
        ("deploying", InstanceState.PENDING),
        ("creating", InstanceState.PENDING),
        ("stopping", InstanceState.STOPPING),
        ("deleting", InstanceState.STOPPING),
        ("stopped", InstanceState.STOPPED),
        ("StoppedDisassociated", InstanceState.STOPPED),
        ("deleted", InstanceState.TERMINATED),
        ("error", InstanceState.FAILED),
        ("hibernating", InstanceState.UNKNOWN),
        ("", InstanceState.UNKNOWN),
    ],
)
def test_status_words(word: str, state: InstanceState) -> None:
    assert instance_state(word) is state


def test_listed_instance_with_nested_attributes() -> None:
    body = {
        "data": {
            "instances": [
                {
                    "type": "virtualmachine",
                    "id": "8c2f",
                    "attributes": {
                        "name": "gp4u-dep1-sess42",
                        "status": "running",
                        "ipAddress": "203.0.113.42",
                        "rateHourly": 2.41,
                        "resources": {"gpus": [{"gpuV0Name": "h100-sxm5-80gb", "count": 1}]},
                    },
                },
                {"type": "VM", "attributes": {"name": "no id"}},
                {"type": "VM", "id": "1ab9", "attributes": {"name": "mine", "status": "stopped"}},
            ]
        }
    }
    first, second = parse_instance_list(body, P)

    assert first.instance_id == "8c2f"
    assert first.state is InstanceState.RUNNING
    assert first.provider_status == "running"
    assert first.tags == Tags("dep1", "sess42")
    assert first.instance_type == "h100-sxm5-80gb.1x"
    assert (first.public_ip, first.ssh_host, first.ssh_port, first.ssh_user) == (
        "203.0.113.42",
        "203.0.113.42",
        22,
        "user",
    )
    assert first.price_per_hour == 2_410_000
    assert second.tags is None
    assert second.state is InstanceState.STOPPED
    assert second.ssh_port is None


def test_flat_get_response_with_port_forwards_list() -> None:
    body = {
        "type": "instance",
        "id": "550e",
        "name": "gp4u-d-s",
        "status": "running",
        "ipAddress": "198.51.100.7",
        "portForwards": [
            {"internal_port": 80, "external_port": 20001},
            {"internal_port": 22, "external_port": 20000},
        ],
    }
    instance = parse_instance(body, P)

    assert instance is not None
    assert (instance.instance_id, instance.ssh_port) == ("550e", 20000)
    assert instance.tags == Tags("d", "s")


def test_create_response_and_other_shapes() -> None:
    created = parse_instance({"data": {"type": "virtualmachine", "id": "x1", "name": "n"}}, P)
    assert created is not None
    assert (created.instance_id, created.state, created.provider_status) == (
        "x1",
        InstanceState.UNKNOWN,
        "",
    )
    mapped = parse_instance(
        {
            "id": "x2",
            "status": "running",
            "ipAddress": "192.0.2.1",
            "portForwards": {"22": 20022},
            "resources": {"gpus": {"geforcertx4090-pcie-24gb": {"count": 2}}},
        },
        P,
    )
    assert mapped is not None
    assert (mapped.ssh_port, mapped.instance_type) == (20022, "geforcertx4090-pcie-24gb.2x")
    assert parse_instance({"data": {"name": "no id"}}, P) is None
    with pytest.raises(InvalidResponse):
        parse_instance_list({"instances": []}, P)


def test_generated_offers_are_deterministic_and_parse_cleanly() -> None:
    records = generate_offers(60, 7)

    assert records == generate_offers(60, 7)
    assert records != generate_offers(60, 8)
    report = parse_locations({"data": {"locations": records}}, P)
    assert report.rows_read == sum(len(r["gpus"]) for r in records)
    assert set(report.skipped) <= {"sold_out", "no_dedicated_ip"}
    assert report.offers
    keys = {(o.instance_type, o.region, o.zone, o.spot) for o in report.offers}
    assert len(keys) == len(report.offers)
    assert all(o.country for o in report.offers)

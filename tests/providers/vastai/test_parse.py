"""Vast.ai parsing against the real captures and documented examples in ../shared/data."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from gp4u.providers.base import (
    InvalidResponse,
    NoCapacity,
    ProviderAuthError,
    ProviderOffer,
    ProviderRejected,
)
from gp4u.providers.interface import Instance, InstanceState, Tags
from gp4u.providers.vastai.parse import (
    country_of_geolocation,
    instance_from_record,
    instance_of_show,
    instance_page,
    instance_state,
    is_missing,
    parse_offers,
    refusal,
)
from tests.conftest import PROVIDER_API

SAMPLES = PROVIDER_API / "vastai"
_DROP = object()  # a field to leave out of a record


def sample(name: str) -> Any:
    return orjson.loads((SAMPLES / name).read_bytes())


def rtx4090_guangxi(*, spot: bool, price: int) -> ProviderOffer:
    return ProviderOffer(
        provider="vastai",
        instance_type="vast-22990-1x",
        gpu_name="RTX 4090",
        gpu_count=1,
        price_per_hour=price,
        spot=spot,
        region="Guangxi, CN",
        country="CN",
        gpu_memory_gb=23.99,  # 24564 MB
        vcpus=24.0,
        memory_gb=15.72,  # a quarter (24 of 96 cores) of 64393 MB
        disk_gb=1607.875,
        reliability=0.9700835,
        offer_ref="11684738",
        available_count=1,
        dlperf=106.63705612622635,
        inet_down_mbps=105.9,
        inet_up_mbps=77.7,
    )


def test_real_capture_2024_on_demand_priced_from_dph_total() -> None:
    report = parse_offers(sample("bundles-search.offers.real-capture-2024.json"), "vastai")
    assert report.rows_read == 1 and not report.skipped and not report.fixed
    assert report.offers == [rtx4090_guangxi(spot=False, price=246_676)]  # $0.2466759…/h


def test_real_capture_2024_interruptible_priced_at_min_bid() -> None:
    payload = sample("bundles-search.offers.real-capture-2024.json")
    report = parse_offers(payload, "vastai", spot=True)
    assert report.offers == [rtx4090_guangxi(spot=True, price=200_000)]  # min_bid $0.20/h


def test_real_capture_2025_offers_are_not_rentable_and_skipped() -> None:
    payload = sample("bundles-search.offers.real-capture-2025.json")
    for spot in (False, True):
        report = parse_offers(payload, "vastai", spot=spot)
        assert report.offers == []
        assert report.rows_read == 2
        assert report.skipped == {"not_rentable": 2}
        assert report.examples == {"not_rentable": [0, 1]}


def test_real_capture_2025_without_dph_total_is_priced_from_the_search_breakdown() -> None:
    payload = sample("bundles-search.offers.real-capture-2025.json")
    for record in payload["offers"]:
        record["rentable"] = True
    report = parse_offers(payload, "vastai")
    assert report.fixed == {"price_from_search_total": 2}
    first, second = report.offers
    assert first == ProviderOffer(
        provider="vastai",
        instance_type="vast-37228-1x",
        gpu_name="RTX 5090",
        gpu_count=1,
        price_per_hour=115_704,  # search.totalHour 0.11570370…
        region="Ontario, CA",
        country="CA",
        gpu_memory_gb=31.84,  # 32607 MB
        vcpus=24.0,
        memory_gb=62.25,  # all 24 cores, so all of 63745 MB
        disk_gb=2973.7,
        reliability=0.9964528,
        offer_ref="21348645",
        available_count=1,
        dlperf=141.77061797795068,
        inet_down_mbps=2118.0,
        inet_up_mbps=2241.5,
    )
    assert (second.instance_type, second.region, second.country) == (
        "vast-37231-1x",
        "Texas, US",
        "US",
    )
    assert second.price_per_hour == 126_667
    spot = parse_offers(payload, "vastai", spot=True).offers
    assert [o.price_per_hour for o in spot] == [105_333, 120_000]  # min_bid 0.1053333, 0.12


def test_docs_example_with_offers_as_one_object() -> None:
    payload = sample("bundles-search.response.docs.json")
    assert isinstance(payload["offers"], dict)
    expected = ProviderOffer(
        provider="vastai",
        instance_type="vast-88888-4x",
        gpu_name="Imaginary RTX 9999",
        gpu_count=4,
        price_per_hour=234_567,  # dph_total is for all 4 GPUs
        region="Atlantis, AT",
        country="AT",
        gpu_memory_gb=24.0,  # gpu_ram 24576 MB is per GPU
        vcpus=32.0,
        memory_gb=32.0,  # half (32 of 64 cores) of 65536 MB
        disk_gb=2048.5,
        reliability=0.9999,
        offer_ref="12345678",
        available_count=1,
        dlperf=222.22,
        inet_down_mbps=9876.5,
        inet_up_mbps=8765.4,
    )
    assert parse_offers(payload, "vastai").offers == [expected]
    spot = parse_offers(payload, "vastai", spot=True).offers
    assert [(o.spot, o.price_per_hour) for o in spot] == [(True, 111_111)]


def test_malformed_records_are_skipped_and_counted_the_rest_kept() -> None:
    good = sample("bundles-search.response.docs.json")["offers"]

    def variant(**changes: Any) -> dict[str, Any]:
        record = copy.deepcopy(good)
        record.update(changes)
        return {k: v for k, v in record.items() if v is not _DROP}

    records = [
        "not a record",
        variant(rentable=False),
        variant(rented=True),
        variant(id=_DROP),
        variant(id="12345678"),
        variant(machine_id=None),
        variant(gpu_name="  "),
        variant(num_gpus=0),
        variant(num_gpus=1.5),
        variant(dph_total=_DROP, search=_DROP),
        variant(dph_total=0),
        variant(dph_total=-1.0),
        variant(dph_total="0.5"),
        variant(dph_total=True),
        good,
        variant(id=99),  # same machine and GPU count as `good`
        variant(id=100, machine_id=7, reliability2=1.7, reliability=_DROP, geolocation=None),
    ]
    report = parse_offers({"offers": records}, "vastai")
    assert report.rows_read == len(records)
    assert report.skipped == {
        "not_an_object": 1,
        "not_rentable": 1,
        "rented": 1,
        "missing_id": 2,
        "missing_machine_id": 1,
        "missing_gpu_name": 1,
        "bad_gpu_count": 2,
        "missing_price": 1,
        "bad_price": 4,
        "duplicate_offer": 1,
    }
    assert report.examples["bad_price"] == [10, 11, 12, 13]
    assert [o.offer_ref for o in report.offers] == ["12345678", "100"]
    odd = report.offers[1]
    assert (odd.reliability, odd.region, odd.country) == (None, None, None)
    spot = parse_offers({"offers": [variant(min_bid=None), good]}, "vastai", spot=True)
    assert spot.skipped == {"missing_bid_price": 1} and len(spot.offers) == 1


@pytest.mark.parametrize("payload", [{}, {"offers": None}, {"offers": 3}, "offers", None])
def test_an_unusable_search_answer_is_invalid_not_empty(payload: Any) -> None:
    with pytest.raises(InvalidResponse):
        parse_offers(payload, "vastai")


@pytest.mark.parametrize(
    ("geolocation", "country"),
    [
        ("Guangxi, CN", "CN"),
        ("Quebec, CA, North America", "CA"),
        ("California, United States", "US"),
        ("Sweden", "SE"),
        (None, None),
        ("", None),
    ],
)
def test_country_of_geolocation(geolocation: str | None, country: str | None) -> None:
    assert country_of_geolocation(geolocation) == country


def test_documented_instance_parses() -> None:
    instance = instance_of_show(sample("instance-show.response.docs.json"), "vastai")
    assert instance == Instance(
        provider="vastai",
        instance_id="883",
        state=InstanceState.RUNNING,
        provider_status="running",
        tags=None,  # its label is null
        instance_type="vast-178-1x",
        region="Washington, US",
        public_ip="63.135.50.11",
        ssh_host="ssh2281.vast.ai",
        ssh_port=10882,
        ssh_user="root",
        price_per_hour=1_002_074,  # dph_total 1.0020740…
        created_at=datetime.fromtimestamp(1761008618.225083, UTC),
    )


def test_our_label_becomes_tags() -> None:
    record = sample("instance-show.response.docs.json")["instances"]
    record["label"] = "gp4u-dep1-sess42"
    assert instance_from_record(record, "vastai").tags == Tags("dep1", "sess42")
    record["label"] = "ML Training Job"
    assert instance_from_record(record, "vastai").tags is None


@pytest.mark.parametrize("gone", [None, [], {}])
def test_a_destroyed_instance_shows_as_nothing(gone: Any) -> None:
    assert instance_of_show({"instances": gone}, "vastai") is None


@pytest.mark.parametrize("payload", [{}, [], {"instances": "x"}, {"instances": {"id": None}}])
def test_an_unusable_show_answer_is_invalid(payload: Any) -> None:
    with pytest.raises(InvalidResponse):
        instance_of_show(payload, "vastai")


@pytest.mark.parametrize(
    ("actual", "intended", "state", "word"),
    [
        (None, "running", InstanceState.PENDING, "provisioning"),
        ("loading", "running", InstanceState.BOOTING, "loading"),
        ("rebooting", "running", InstanceState.BOOTING, "rebooting"),
        ("running", "running", InstanceState.RUNNING, "running"),
        ("running", "stopped", InstanceState.STOPPING, "running"),
        ("stopped", "stopped", InstanceState.STOPPED, "stopped"),
        ("frozen", "frozen", InstanceState.STOPPED, "frozen"),
        ("exited", "running", InstanceState.FAILED, "exited"),
        ("offline", "running", InstanceState.UNKNOWN, "offline"),
        ("unknown", "running", InstanceState.UNKNOWN, "unknown"),
        ("something new", "running", InstanceState.UNKNOWN, "something new"),
    ],
)
def test_status_words(actual: str | None, intended: str, state: InstanceState, word: str) -> None:
    assert instance_state(actual, intended) == (state, word)


def test_documented_list_page() -> None:
    documented = sample("instances-list-v1.responses.docs.json")["200"]
    # The sample keeps only the top-level fields: 5 found but no array is not "no instances".
    with pytest.raises(InvalidResponse):
        instance_page(documented, "vastai")
    record = sample("instance-show.response.docs.json")["instances"]
    page = instance_page({**documented, "instances": [record]}, "vastai")
    assert [i.instance_id for i in page.instances] == ["883"]
    assert page.next_token == "eyJ2YWx1ZXMiOiB7ImlkIjogMTIzfX0="
    last = instance_page({"instances": [], "next_token": None}, "vastai")
    assert last.instances == [] and last.next_token is None
    assert instance_page({"success": True, "instances_found": 0}, "vastai").instances == []


def test_documented_create_errors() -> None:
    answers = sample("asks-create-instance.responses.docs.json")

    def error(status: str) -> Exception:
        return refusal(
            "vastai", "PUT /api/v0/asks/1234567/", int(status), answers[status], ask=True
        )

    assert type(error("400")) is ProviderRejected  # bad arguments
    assert type(error("403")) is ProviderRejected  # a host renting someone else's machine
    assert type(error("404")) is NoCapacity  # no_such_ask
    assert type(error("410")) is NoCapacity  # no longer available
    assert type(error("401")) is ProviderAuthError
    message = str(error("410"))
    assert message.startswith("vastai: PUT /api/v0/asks/1234567/: HTTP 410 no_such_ask")


def test_documented_destroy_errors() -> None:
    answers = sample("instance-destroy.responses.docs.json")["responses"]
    assert is_missing(404, answers["404"])
    assert not is_missing(400, answers["400"])
    revoked = {"success": False, "error": "auth_error", "msg": "Invalid user key"}
    assert not is_missing(404, revoked)  # a revoked key can come back as a 404
    assert isinstance(refusal("vastai", "GET x", 404, revoked), ProviderAuthError)
    assert type(refusal("vastai", "GET x", 400, answers["400"])) is ProviderRejected
    assert type(refusal("vastai", "GET x", 403, {"error": "forbidden"})) is ProviderAuthError


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({"success": False, "error": "not_found", "msg": "Instance not found"}, True),
        ({"success": False, "error": "no_such_instance"}, True),
        ({"instances": None}, True),
        ("<html><body><h1>404 Not Found</h1></body></html>", False),  # a proxy's page
        ("404 page not found", False),
        ({"detail": "Not Found"}, False),  # a framework's answer to a path it does not serve
        ({"error": "internal_error"}, False),  # no `success: false`: not Vast's envelope
        ({"success": False, "msg": "Instance not found"}, True),
        ({"success": False}, False),  # no words at all
        ({"success": True, "msg": "Instance destroyed successfully"}, False),
        (None, False),
    ],
)
def test_only_vasts_own_404_answer_is_missing(body: Any, missing: bool) -> None:
    assert is_missing(404, body) is missing

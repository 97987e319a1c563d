"""RunPod parsing: the real samples and hand-made gpuTypes/pod records, exact values."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from gp4u.providers.base import (
    InstanceNotFound,
    InvalidResponse,
    NoCapacity,
    ProviderAuthError,
    ProviderRejected,
)
from gp4u.providers.interface import InstanceState, Tags
from gp4u.providers.runpod.parse import (
    classify_error,
    graphql_data,
    instance_type,
    parse_gpu_types,
    parse_pod,
    parse_pods,
    split_instance_type,
)
from tests.conftest import PROVIDER_API

SAMPLES = PROVIDER_API / "runpod"


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


# A100 80GB PCIe as gpuTypes answers it with lowestPrice(input: {gpuCount: 1, secureCloud: ...}).
A100 = {
    "id": "NVIDIA A100 80GB PCIe",
    "displayName": "A100 80GB",
    "manufacturer": "Nvidia",
    "memoryInGb": 80,
    "maxGpuCount": 2,
    "securePrice": 1.64,
    "communityPrice": 1.19,
    "secureSpotPrice": 0.82,
    "communitySpotPrice": 0,
    "lowestPrice": {
        "minimumBidPrice": 0.6,
        "uninterruptablePrice": 1.64,
        "minVcpu": 8,
        "minMemory": 117,
        "stockStatus": "Medium",
        "maxUnreservedGpuCount": 1,
        "availableGpuCounts": [1],
    },
}


def test_the_real_gpu_types_sample_has_no_prices_and_is_skipped_with_a_reason() -> None:
    records = sample("graphql-GpuTypes.response.runpod-python-fixture.json")["data"]["gpuTypes"]
    for cloud in ("secure", "community"):
        report = parse_gpu_types(records, "runpod", cloud)
        assert report.offers == []
        assert report.rows_read == 1
        assert report.skipped == Counter({"missing_price": 1})


def test_secure_cloud_offers_per_gpu_count_with_spot_and_stock() -> None:
    report = parse_gpu_types([A100], "runpod", "secure")
    got = [
        (o.instance_type, o.gpu_count, o.spot, o.price_per_hour, o.available, o.available_count)
        for o in report.offers
    ]
    assert got == [
        ("runpod-secure-NVIDIA A100 80GB PCIe-1x", 1, False, 1_640_000, True, None),
        ("runpod-secure-NVIDIA A100 80GB PCIe-1x", 1, True, 820_000, True, None),
        ("runpod-secure-NVIDIA A100 80GB PCIe-2x", 2, False, 3_280_000, False, 0),
        ("runpod-secure-NVIDIA A100 80GB PCIe-2x", 2, True, 1_640_000, False, 0),
    ]
    one = report.offers[0]
    assert (one.provider, one.gpu_name, one.gpu_memory_gb, one.offer_ref) == (
        "runpod",
        "A100 80GB",
        80.0,
        "NVIDIA A100 80GB PCIe",
    )
    assert (one.vcpus, one.memory_gb) == (8.0, 117.0)  # lowestPrice was for one GPU
    assert (report.offers[2].vcpus, report.offers[2].memory_gb) == (None, None)
    assert (one.region, one.country, one.spot) == (None, None, False)
    assert report.rows_read == 1 and not report.skipped


def test_community_spot_falls_back_on_the_minimum_bid_and_null_stock_is_unavailable() -> None:
    record = A100 | {"lowestPrice": A100["lowestPrice"] | {"stockStatus": None}}
    report = parse_gpu_types([record], "runpod", "community")
    got = [(o.instance_type, o.spot, o.price_per_hour, o.available) for o in report.offers]
    assert got == [
        ("runpod-community-NVIDIA A100 80GB PCIe-1x", False, 1_190_000, False),
        ("runpod-community-NVIDIA A100 80GB PCIe-1x", True, 600_000, False),
        ("runpod-community-NVIDIA A100 80GB PCIe-2x", False, 2_380_000, False),
        ("runpod-community-NVIDIA A100 80GB PCIe-2x", True, 1_200_000, False),
    ]
    null_lowest = parse_gpu_types([A100 | {"lowestPrice": None}], "runpod", "secure")
    assert not any(o.available for o in null_lowest.offers)


def test_gpu_counts_stop_at_eight_and_default_to_one() -> None:
    big = A100 | {"maxGpuCount": 10}
    big.pop("lowestPrice")  # not asked for: availability unknown, so offered
    counts = [o.gpu_count for o in parse_gpu_types([big], "runpod", "secure").offers if not o.spot]
    assert counts == [1, 2, 3, 4, 5, 6, 7, 8]
    no_max = {k: v for k, v in big.items() if k != "maxGpuCount"}
    offers = parse_gpu_types([no_max], "runpod", "secure").offers
    assert [(o.gpu_count, o.available) for o in offers] == [(1, True), (1, True)]


def test_malformed_records_are_skipped_and_counted_and_the_rest_kept() -> None:
    records = [
        "not a record",
        A100 | {"id": ""},
        A100 | {"displayName": None},
        A100 | {"securePrice": "abc"},
        A100 | {"securePrice": -1.0},
        A100 | {"securePrice": True},
        A100 | {"maxGpuCount": "eight"},
        A100 | {"securePrice": 0, "secureSpotPrice": 0, "lowestPrice": None},
        A100,
    ]
    report = parse_gpu_types(records, "runpod", "secure")
    assert report.rows_read == 9
    assert report.skipped == Counter(
        {
            "not_an_object": 1,
            "missing_id": 1,
            "missing_name": 1,
            "bad_price": 3,
            "bad_gpu_count": 1,
            "not_offered": 1,
        }
    )
    assert report.examples["bad_price"] == [3, 4, 5]
    assert len(report.offers) == 4
    assert {o.offer_ref for o in report.offers} == {"NVIDIA A100 80GB PCIe"}


def test_a_gpu_types_answer_that_is_not_a_list_is_invalid() -> None:
    with pytest.raises(InvalidResponse):
        parse_gpu_types({"gpuTypes": []}, "runpod", "secure")


def test_instance_types_round_trip_even_with_spaces_in_the_gpu_id() -> None:
    name = instance_type("community", "NVIDIA GeForce RTX 4090", 4)
    assert name == "runpod-community-NVIDIA GeForce RTX 4090-4x"
    assert split_instance_type(name) == ("community", "NVIDIA GeForce RTX 4090", 4)
    assert split_instance_type("runpod-cheap-X-1x") is None
    assert split_instance_type(None) is None


def test_the_real_pod_sample() -> None:
    pod = sample("graphql-pod.response.runpod-python-fixture.json")["data"]["pod"]
    instance = parse_pod(pod, "runpod")
    assert instance.instance_id == "POD_ID"
    # desiredStatus RUNNING, runtime not asked for and uptimeSeconds 0: still booting
    assert (instance.state, instance.provider_status) == (InstanceState.BOOTING, "RUNNING")
    assert instance.price_per_hour == 340_000  # costPerHr is for the whole pod
    assert instance.tags is None  # "POD_NAME" is not one of ours
    assert (instance.public_ip, instance.ssh_port) == (None, None)


def test_the_real_myself_pods_sample() -> None:
    pods = sample("graphql-myself-pods.response.runpod-python-fixture.json")
    instances, bad = parse_pods(pods["data"]["myself"]["pods"], "runpod")
    assert bad == 0
    assert [(i.instance_id, i.state, i.price_per_hour) for i in instances] == [
        ("POD_ID", InstanceState.BOOTING, 340_000)
    ]


def test_pods_without_an_id_are_counted_not_fatal() -> None:
    instances, bad = parse_pods([{"name": "x"}, {"id": "abc", "desiredStatus": "EXITED"}], "rp")
    assert bad == 1 and [i.state for i in instances] == [InstanceState.STOPPED]
    with pytest.raises(InvalidResponse):
        parse_pods(None, "runpod")


@pytest.mark.parametrize(
    ("status", "runtime", "state"),
    [
        ("RUNNING", None, InstanceState.BOOTING),
        ("RUNNING", {"uptimeInSeconds": 12, "ports": []}, InstanceState.RUNNING),
        ("EXITED", None, InstanceState.STOPPED),
        ("TERMINATED", None, InstanceState.TERMINATED),
        ("CREATED", None, InstanceState.PENDING),
        ("DEAD", None, InstanceState.FAILED),
        ("SOMETHING_NEW", None, InstanceState.UNKNOWN),
        (None, None, InstanceState.UNKNOWN),
    ],
)
def test_pod_states(status: str | None, runtime: Any, state: InstanceState) -> None:
    pod = {"id": "p1", "desiredStatus": status, "runtime": runtime}
    instance = parse_pod(pod, "runpod")
    assert instance.state is state
    assert instance.provider_status == (status or "unknown")


def test_a_running_pod_gives_its_public_ssh_port_and_our_tags() -> None:
    pod = {
        "id": "wu5ekmn69oh1xr",
        "name": "gp4u-dep1-sess42",
        "desiredStatus": "RUNNING",
        "costPerHr": 1.38,
        "runtime": {
            "uptimeInSeconds": 40,
            "ports": [
                {"ip": "10.0.0.5", "isIpPublic": False, "privatePort": 22, "publicPort": 22},
                {"ip": "8.8.4.4", "isIpPublic": True, "privatePort": 8888, "publicPort": 8888},
                {
                    "ip": "194.68.245.9",
                    "isIpPublic": True,
                    "privatePort": 22,
                    "publicPort": 22047,
                    "type": "tcp",
                },
            ],
        },
    }
    instance = parse_pod(pod, "runpod")
    assert instance.state is InstanceState.RUNNING
    assert instance.tags == Tags("dep1", "sess42")
    assert (instance.public_ip, instance.ssh_host, instance.ssh_port, instance.ssh_user) == (
        "194.68.245.9",
        "194.68.245.9",
        22047,
        "root",
    )
    assert instance.price_per_hour == 1_380_000


def test_a_pod_without_an_id_is_invalid() -> None:
    with pytest.raises(InvalidResponse):
        parse_pod({"name": "x"}, "runpod")


def test_the_real_mutation_answers_and_error_envelope() -> None:
    answers = sample("graphql-pod-mutations.responses.runpod-python-fixture.json")
    data = graphql_data(answers["podFindAndDeployOnDemand"], "runpod", "deploy")
    assert data == {"podFindAndDeployOnDemand": {"id": "POD_ID"}}
    assert graphql_data(answers["podTerminate"], "runpod", "terminate")["podTerminate"] == {
        "id": "POD_ID"
    }
    with pytest.raises(ProviderRejected, match="deploy: Error Message") as caught:
        graphql_data(answers["error_envelope"], "runpod", "deploy")
    assert type(caught.value) is ProviderRejected


def test_error_messages_map_to_provider_errors() -> None:
    capacity = (
        "There are no longer any instances available with the requested specifications. "
        "Please refresh and try again."
    )
    assert isinstance(classify_error("runpod", capacity), NoCapacity)
    older = "There are no longer any instances available with enough disk space."
    assert isinstance(classify_error("runpod", older), NoCapacity)
    assert isinstance(classify_error("runpod", "Unauthorized"), ProviderAuthError)
    assert isinstance(classify_error("runpod", "Pod not found: abc"), InstanceNotFound)
    other = classify_error("runpod", "Something went wrong. Please try again later.", 200)
    assert type(other) is ProviderRejected and other.status == 200


def test_an_answer_without_data_is_invalid() -> None:
    with pytest.raises(InvalidResponse):
        graphql_data({"data": None}, "runpod", "pod")
    with pytest.raises(InvalidResponse):
        graphql_data([1, 2], "runpod", "pod")

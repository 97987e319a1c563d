"""The RunPod adapter against the fake RunPod GraphQL server, run for real on a local port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from gp4u.fakes import kit
from gp4u.fakes.runpod import NO_CAPACITY, create_app, generate_offers
from gp4u.providers.base import (
    InvalidResponse,
    NoCapacity,
    NotSupported,
    OutcomeUnknown,
    ProviderAuthError,
    ProviderRejected,
)
from gp4u.providers.gateway import Gateway, ProviderClient
from gp4u.providers.interface import Capability, InstanceState, LaunchRequest, Tags
from gp4u.providers.runpod.adapter import RunPodAdapter

BOOT = 0.2
# One GPU type with known prices and stock: 2 free GPUs in Secure Cloud, none in Community.
L40S = {
    "id": "NVIDIA L40S",
    "displayName": "L40S",
    "manufacturer": "Nvidia",
    "memoryInGb": 48,
    "maxGpuCount": 4,
    "securePrice": 0.86,
    "communityPrice": 0.79,
    "secureSpotPrice": 0.52,
    "communitySpotPrice": 0.4,
    "_stock": {
        "secure": {
            "stockStatus": "Low",
            "maxUnreservedGpuCount": 2,
            "minVcpu": 12,
            "minMemory": 62,
        },
        "community": {"stockStatus": None, "maxUnreservedGpuCount": 0},
    },
}
SECURE_1X = "runpod-secure-NVIDIA L40S-1x"


@pytest.fixture
def fake() -> Iterator[kit.RunningFake]:
    state = kit.FakeState(boot_seconds=BOOT, offers=[dict(L40S)])
    with kit.running(create_app(state)) as running:
        yield running


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    gateway = Gateway()
    yield gateway
    await gateway.aclose()


def adapter(gateway: Gateway, fake: kit.RunningFake, key: str | None = "test-key") -> RunPodAdapter:
    return RunPodAdapter.create("runpod", gateway, api_key=key, base_url=fake.url)


def request(session: str = "s1", **changes: Any) -> LaunchRequest:
    values: dict[str, Any] = {
        "offer_ref": "NVIDIA L40S",
        "client_token": f"token-{session}",
        "tags": Tags("dep1", session),
        "instance_type": SECURE_1X,
    }
    return LaunchRequest(**(values | changes))


def raw(gateway: Gateway, fake: kit.RunningFake, key: str | None = "test-key") -> ProviderClient:
    """A plain client of the fake, for what the adapter never sends."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return gateway.client("runpod-raw", base_url=fake.url, headers=headers)


async def test_offers_are_public_priced_per_gpu_count_and_carry_stock(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    report = await adapter(gateway, fake, key=None).list_offers()  # gpuTypes needs no key
    got = {
        (o.instance_type, o.spot): (o.price_per_hour, o.available, o.available_count)
        for o in report.offers
    }
    assert got == {
        (SECURE_1X, False): (860_000, True, None),
        (SECURE_1X, True): (520_000, True, None),
        ("runpod-secure-NVIDIA L40S-2x", False): (1_720_000, True, None),
        ("runpod-secure-NVIDIA L40S-2x", True): (1_040_000, True, None),
        ("runpod-secure-NVIDIA L40S-3x", False): (2_580_000, False, 0),
        ("runpod-secure-NVIDIA L40S-3x", True): (1_560_000, False, 0),
        ("runpod-secure-NVIDIA L40S-4x", False): (3_440_000, False, 0),
        ("runpod-secure-NVIDIA L40S-4x", True): (2_080_000, False, 0),
        ("runpod-community-NVIDIA L40S-1x", False): (790_000, False, 0),
        ("runpod-community-NVIDIA L40S-1x", True): (400_000, False, 0),
        ("runpod-community-NVIDIA L40S-2x", False): (1_580_000, False, 0),
        ("runpod-community-NVIDIA L40S-2x", True): (800_000, False, 0),
        ("runpod-community-NVIDIA L40S-3x", False): (2_370_000, False, 0),
        ("runpod-community-NVIDIA L40S-3x", True): (1_200_000, False, 0),
        ("runpod-community-NVIDIA L40S-4x", False): (3_160_000, False, 0),
        ("runpod-community-NVIDIA L40S-4x", True): (1_600_000, False, 0),
    }
    first = report.offers[0]
    assert (first.gpu_name, first.gpu_memory_gb, first.vcpus, first.memory_gb) == (
        "L40S",
        48.0,
        12.0,
        62.0,
    )
    assert report.rows_read == 2 and not report.skipped


async def test_the_default_inventory_parses_whole(fake: kit.RunningFake, gateway: Gateway) -> None:
    fake.state.offers = generate_offers(40, 0)
    report = await adapter(gateway, fake).list_offers()
    assert report.rows_read == 80
    # secure-only and community-only types are skipped in the other cloud, with that reason
    assert set(report.skipped) == {"not_offered"}
    assert len({o.offer_ref for o in report.offers}) == 40
    assert all(o.price_per_hour > 0 and 1 <= o.gpu_count <= 8 for o in report.offers)
    assert generate_offers(40, 0) == generate_offers(40, 0) != generate_offers(40, 1)
    assert len({r["id"] for r in generate_offers(500, 3)}) == 500


async def test_malformed_json_is_an_invalid_response(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    fake.state.faults.malformed_json = True
    with pytest.raises(InvalidResponse):
        await adapter(gateway, fake).list_offers()


async def test_fields_left_out_are_skipped_and_counted(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    fake.state.faults.missing_fields = ["displayName"]
    report = await adapter(gateway, fake).list_offers()
    assert report.offers == [] and dict(report.skipped) == {"missing_name": 2}


async def test_without_a_key_offers_work_but_launching_is_not_supported(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    runpod = adapter(gateway, fake, key=None)
    capabilities = runpod.capabilities()
    assert Capability.OFFERS in capabilities and Capability.LAUNCH not in capabilities
    assert capabilities.reason(Capability.LAUNCH) == "no API key: set GP4U_RUNPOD_API_KEY"
    with pytest.raises(NotSupported, match="GP4U_RUNPOD_API_KEY"):
        await runpod.launch(request())
    with pytest.raises(NotSupported):
        await runpod.list_tagged("dep1")
    check = await runpod.check_credentials()
    assert not check.ok and "GP4U_RUNPOD_API_KEY" in check.detail
    assert fake.state.instances == {}


async def test_a_wrong_key_is_an_auth_error(fake: kit.RunningFake, gateway: Gateway) -> None:
    runpod = adapter(gateway, fake, key="wrong-key")
    with pytest.raises(ProviderAuthError):
        await runpod.list_offers()
    with pytest.raises(ProviderAuthError):
        await runpod.launch(request())
    assert not (await runpod.check_credentials()).ok
    assert (await adapter(gateway, fake).check_credentials()).ok


async def test_launch_boots_runs_and_terminates(fake: kit.RunningFake, gateway: Gateway) -> None:
    runpod = adapter(gateway, fake)
    launched = await runpod.launch(request(ssh_public_key="ssh-ed25519 AAAA me", env={"A": "1"}))
    assert launched.state is InstanceState.BOOTING
    assert launched.tags == Tags("dep1", "s1")
    assert (launched.instance_type, launched.price_per_hour) == (SECURE_1X, 860_000)
    pod = fake.state.instances[launched.instance_id].attrs
    assert (pod["name"], pod["cloudType"], pod["gpuCount"], pod["podType"]) == (
        "gp4u-dep1-s1",
        "SECURE",
        1,
        "RESERVED",
    )
    assert {"key": "PUBLIC_KEY", "value": "ssh-ed25519 AAAA me"} in pod["env"]
    [booting] = await runpod.status([launched.instance_id])
    assert booting.state is InstanceState.BOOTING and booting.ssh_port is None
    await asyncio.sleep(BOOT + 0.05)
    [running] = await runpod.status([launched.instance_id])
    assert running.state is InstanceState.RUNNING
    assert running.ssh_host and running.ssh_port and running.ssh_user == "root"
    await runpod.terminate(launched.instance_id)
    await runpod.terminate(launched.instance_id)  # already gone: fine
    [gone] = await runpod.status([launched.instance_id])
    assert gone.state is InstanceState.TERMINATED
    assert await runpod.list_tagged("dep1") == []


async def test_unknown_pods_are_terminated_and_terminating_them_is_fine(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    runpod = adapter(gateway, fake)
    [unknown] = await runpod.status(["no-such-pod"])
    assert unknown.state is InstanceState.TERMINATED
    await runpod.terminate("no-such-pod")


async def test_launching_twice_with_the_same_tags_gives_the_same_pod(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    runpod = adapter(gateway, fake)
    first = await runpod.launch(request())
    again = await runpod.launch(request())
    assert again.instance_id == first.instance_id
    assert len(fake.state.instances) == 1
    other = await runpod.launch(request("s2"))
    assert other.instance_id != first.instance_id


async def test_list_tagged_finds_pods_made_elsewhere_and_only_ours(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    client = raw(gateway, fake)
    made: dict[str, str] = {}
    for name in ("gp4u-dep1-ext7", "my-notebook", "gp4u-dep2-s1", "gp4u-dep1-done"):
        answer = await client.json("POST", "/_fake/instances", json={"name": name})
        made[name] = answer["id"]
    fake.state.terminate(made["gp4u-dep1-done"])
    tagged = await adapter(gateway, fake).list_tagged("dep1")
    assert [(i.instance_id, i.tags) for i in tagged] == [
        (made["gp4u-dep1-ext7"], Tags("dep1", "ext7"))
    ]


async def test_a_create_that_answers_500_is_unknown_and_found_by_tag(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    fake.state.faults.lying_create = True
    runpod = adapter(gateway, fake)
    with pytest.raises(OutcomeUnknown):
        await runpod.launch(request())
    assert len(fake.state.instances) == 1  # never retried blindly
    fake.state.faults.lying_create = False
    [found] = await runpod.list_tagged("dep1")
    assert found.tags == Tags("dep1", "s1")
    assert (await runpod.launch(request())).instance_id == found.instance_id


async def test_a_lying_destroy_leaves_the_pod_running(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    runpod = adapter(gateway, fake)
    launched = await runpod.launch(request())
    fake.state.faults.lying_destroy = True
    await runpod.terminate(launched.instance_id)
    await asyncio.sleep(BOOT + 0.05)
    [still] = await runpod.status([launched.instance_id])
    assert still.state is InstanceState.RUNNING


async def test_a_429_on_a_read_is_retried(fake: kit.RunningFake, gateway: Gateway) -> None:
    fake.state.faults.rate_limit_next = 1
    fake.state.faults.retry_after = 0.2
    report = await adapter(gateway, fake).list_offers()
    assert len(report.offers) == 16
    assert len(fake.state.requests) == 3  # secure (429, then again) and community


async def test_no_capacity_comes_inside_http_200(fake: kit.RunningFake, gateway: Gateway) -> None:
    runpod = adapter(gateway, fake)
    with pytest.raises(NoCapacity, match="no longer any instances"):
        await runpod.launch(request(instance_type="runpod-community-NVIDIA L40S-1x"))
    with pytest.raises(NoCapacity):
        await runpod.launch(request(instance_type="runpod-secure-NVIDIA L40S-4x"))
    with pytest.raises(NoCapacity):
        await runpod.launch(request(offer_ref="NVIDIA H100 NVL", instance_type=None))
    assert fake.state.instances == {}


async def test_spot_bids_use_the_spot_price_and_refuse_low_bids(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    runpod = adapter(gateway, fake)
    spot = await runpod.launch(request(spot=True, instance_type="runpod-secure-NVIDIA L40S-2x"))
    pod = fake.state.instances[spot.instance_id].attrs
    assert (pod["podType"], pod["gpuCount"], spot.price_per_hour) == ("INTERRUPTABLE", 2, 1_040_000)
    with pytest.raises(ProviderRejected, match="below the current minimum bid") as low:
        await runpod.launch(request("s2", spot=True, bid_per_hour=400_000))
    assert not isinstance(low.value, NoCapacity)
    bid = await runpod.launch(request("s3", spot=True, bid_per_hour=600_000))
    assert bid.price_per_hour == 600_000


async def test_a_launch_that_contradicts_its_instance_type_is_refused(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    runpod = adapter(gateway, fake)
    with pytest.raises(ProviderRejected):
        await runpod.launch(request(gpu_count=2))
    with pytest.raises(ProviderRejected):
        await runpod.launch(request(offer_ref="NVIDIA L4"))


# ---- the fake itself: what the adapter never sends -----------------------------------------


async def test_the_fake_checks_documents_inputs_and_keys(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    client = raw(gateway, fake)
    anonymous = raw(gateway, fake, key=None)

    async def post(c: ProviderClient, query: str, variables: Any = None) -> tuple[int, Any]:
        answer = await c.request("POST", "/graphql", json={"query": query, "variables": variables})
        return answer.status, answer.json()

    status, body = await post(client, "{ gpuTypes { id price } }")
    assert status == 400 and 'Cannot query field "price"' in body["errors"][0]["message"]
    status, body = await post(client, "{ gpuTypes { id lowestPrice } }")
    assert status == 400 and "must have a selection" in body["errors"][0]["message"]
    status, _ = await post(client, "{ gpuTypes { id ")
    assert status == 400
    status, _ = await post(anonymous, "query { myself { id } }")
    assert status == 401
    mutation = "mutation D($input: PodFindAndDeployOnDemandInput!) { podFindAndDeployOnDemand(input: $input) { id } }"
    status, body = await post(client, mutation)
    assert status == 400 and "$input" in body["errors"][0]["message"]
    status, body = await post(client, mutation, {"input": {"gpuTypeId": "NVIDIA L40S"}})
    assert status == 400 and '"imageName"' in body["errors"][0]["message"]
    status, body = await post(anonymous, mutation, {"input": {"gpuTypeId": "NVIDIA L40S"}})
    assert status == 401
    # runpod-python style: inline literals, an enum, the key as ?api_key=
    inline = (
        'mutation { podFindAndDeployOnDemand(input: {name: "nb", imageName: "runpod/base", '
        'gpuTypeId: "NVIDIA L40S", cloudType: SECURE, gpuCount: 1, env: [{key: "A", value: "b"}]}) '
        "{ id desiredStatus runtime { uptimeInSeconds } machine { gpuDisplayName } } }"
    )
    answer = await anonymous.request("POST", "/graphql?api_key=test-key", json={"query": inline})
    pod = answer.json()["data"]["podFindAndDeployOnDemand"]
    assert pod["desiredStatus"] == "RUNNING" and pod["runtime"] is None
    assert set(pod) == {"id", "desiredStatus", "runtime", "machine"}  # only what was asked
    status, body = await post(client, 'mutation { podTerminate(input: {podId: "nope"}) }')
    assert status == 200 and body["data"] is None and body["errors"][0]["path"] == ["podTerminate"]
    status, body = await post(client, 'mutation { podTerminate(input: {podId: "nope"}) { id } }')
    assert status == 400


async def test_the_fake_answers_lowest_price_per_input(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    query = (
        'query Q($a: GpuLowestPriceInput, $b: GpuLowestPriceInput) { gpuTypes(input: {id: "NVIDIA L40S"}) '
        "{ two: lowestPrice(input: $a) { stockStatus availableGpuCounts uninterruptablePrice } "
        "three: lowestPrice(input: $b) { stockStatus } __typename } }"
    )
    variables = {"a": {"gpuCount": 2, "secureCloud": True}, "b": {"gpuCount": 3}}
    answer = await raw(gateway, fake, key=None).json(
        "POST", "/graphql", json={"query": query, "variables": variables}
    )
    assert answer == {
        "data": {
            "gpuTypes": [
                {
                    "two": {
                        "stockStatus": "Low",
                        "availableGpuCounts": [1, 2],
                        "uninterruptablePrice": 0.86,
                    },
                    "three": {"stockStatus": None},
                    "__typename": "GpuType",
                }
            ]
        }
    }
    assert NO_CAPACITY.startswith("There are no longer any instances available")

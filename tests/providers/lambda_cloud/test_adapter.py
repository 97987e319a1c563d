"""The Lambda Cloud adapter against the fake Lambda API, served for real on a local port."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi import FastAPI

from gp4u.fakes import kit
from gp4u.fakes.kit import FakeState, Faults, RunningFake
from gp4u.fakes.lambda_cloud import create_app
from gp4u.providers.base import (
    InstanceNotFound,
    InvalidResponse,
    NoCapacity,
    NotSupported,
    OutcomeUnknown,
    ProviderAuthError,
    ProviderRejected,
)
from gp4u.providers.gateway import Gateway
from gp4u.providers.interface import Capability, Instance, InstanceState, LaunchRequest, Tags
from gp4u.providers.lambda_cloud.adapter import LambdaAdapter, key_name
from gp4u.providers.ratelimit import RatePolicy
from tests.providers.support import ArmBefore

PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGp4dXRlc3RrZXlmb3JsYW1iZGE test@gp4u"


def item(name: str, gpu: str, gpus: int, cents: int, regions: list[str]) -> dict[str, Any]:
    return {
        "instance_type": {
            "name": name,
            "description": f"{gpus}x {gpu}",
            "gpu_description": gpu,
            "price_cents_per_hour": cents,
            "specs": {
                "vcpus": 26 * gpus,
                "memory_gib": 200 * gpus,
                "storage_gib": 1024,
                "gpus": gpus,
            },
        },
        "regions_with_capacity_available": [{"name": r, "description": r} for r in regions],
    }


INVENTORY = [
    item("gpu_1x_h100_pcie", "H100 (80 GB PCIe)", 1, 249, ["us-east-1", "us-west-1"]),
    item("gpu_8x_h100_sxm5", "H100 (80 GB SXM5)", 8, 2392, []),
]
Adapter = Callable[..., LambdaAdapter]


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[RunningFake, FastAPI]]:
    app = create_app(FakeState(boot_seconds=0.3))
    with kit.running(app) as running:
        yield running, app


@pytest.fixture
def fake(server: tuple[RunningFake, FastAPI], monkeypatch: pytest.MonkeyPatch) -> RunningFake:
    running, app = server
    running.state.reset()
    running.state.offers = list(INVENTORY)
    app.state.ssh_keys.clear()
    # Lambda allows about one request per second; the tests would crawl at that pace.
    fast = replace(
        LambdaAdapter.call_policy, rate=RatePolicy(per_second=1000), backoff_seconds=0.01
    )
    monkeypatch.setattr(LambdaAdapter, "call_policy", fast)
    return running


@pytest.fixture
async def make(fake: RunningFake) -> AsyncIterator[Adapter]:
    gateway = Gateway()

    def build(
        api_key: str | None = "test-key", base_url: str = fake.url, **options: str
    ) -> LambdaAdapter:
        return LambdaAdapter.create(
            "lambda", gateway, api_key=api_key, base_url=base_url, options=options
        )

    yield build
    await gateway.aclose()


@pytest.fixture
def lam(make: Adapter) -> LambdaAdapter:
    return make()


def launch_request(session: str, deployment: str = "dep1", **changes: Any) -> LaunchRequest:
    fields: dict[str, Any] = {
        "offer_ref": "gpu_1x_h100_pcie",
        "client_token": f"token-{session}",
        "tags": Tags(deployment, session, "alice"),
        "region": "us-east-1",
        "ssh_public_key": PUBLIC_KEY,
    }
    return LaunchRequest(**(fields | changes))


def calls(fake: RunningFake, method: str, path: str) -> int:
    return sum(r["method"] == method and r["path"] == path for r in fake.state.requests)


async def until(check: Callable[[], Awaitable[Instance]], state: InstanceState) -> Instance:
    for _ in range(60):
        instance = await check()
        if instance.state is state:
            return instance
        await asyncio.sleep(0.05)
    raise AssertionError(f"never reached {state}: {instance}")


async def test_offers_come_from_instance_types_one_per_region_with_capacity(
    lam: LambdaAdapter,
) -> None:
    report = await lam.list_offers()
    assert [(o.instance_type, o.region, o.available, o.price_per_hour) for o in report.offers] == [
        ("gpu_1x_h100_pcie", "us-east-1", True, 2_490_000),
        ("gpu_1x_h100_pcie", "us-west-1", True, 2_490_000),
        ("gpu_8x_h100_sxm5", None, False, 23_920_000),
    ]
    assert report.rows_read == 2 and not report.skipped


async def test_the_default_inventory_is_served_when_none_is_set(
    fake: RunningFake, lam: LambdaAdapter
) -> None:
    fake.state.offers = []
    report = await lam.list_offers()
    assert report.rows_read == 40 and not report.skipped


async def test_malformed_json_is_an_invalid_response(fake: RunningFake, lam: LambdaAdapter) -> None:
    fake.state.faults.malformed_json = True
    with pytest.raises(InvalidResponse):
        await lam.list_offers()


async def test_records_with_missing_fields_are_skipped_and_counted(
    fake: RunningFake, lam: LambdaAdapter
) -> None:
    fake.state.faults.missing_fields = ["price_cents_per_hour"]
    report = await lam.list_offers()
    assert report.offers == [] and report.skipped == {"missing_price": 2}


async def test_without_a_key_nothing_is_called_and_the_reason_is_given(
    fake: RunningFake, make: Adapter
) -> None:
    adapter = make(api_key=None)
    capabilities = adapter.capabilities()
    assert capabilities.supported == frozenset()
    assert "GP4U_LAMBDA_API_KEY" in (capabilities.reason(Capability.OFFERS) or "")
    assert "public catalog" in (capabilities.reason(Capability.OFFERS) or "")
    assert "GP4U_LAMBDA_API_KEY" in (capabilities.reason(Capability.LAUNCH) or "")
    with pytest.raises(NotSupported, match="GP4U_LAMBDA_API_KEY"):
        await adapter.list_offers()
    with pytest.raises(NotSupported, match="GP4U_LAMBDA_API_KEY"):
        await adapter.launch(launch_request("s1"))
    assert not (await adapter.check_credentials()).ok
    assert fake.state.requests == []


async def test_a_wrong_key_is_an_auth_error_and_is_never_echoed(make: Adapter) -> None:
    adapter = make(api_key="wrong-secret-key")
    with pytest.raises(ProviderAuthError) as raised:
        await adapter.list_offers()
    assert "global/invalid-api-key" in str(raised.value) and "wrong-secret-key" not in str(
        raised.value
    )
    check = await adapter.check_credentials()
    assert not check.ok and "wrong-secret-key" not in check.detail
    assert (await make().check_credentials()).ok


async def test_the_fake_accepts_basic_auth_with_the_key_as_user(make: Adapter) -> None:
    anonymous = make(api_key=None)
    for token in (base64.b64encode(b"test-key:").decode(), "test-key"):
        response = await anonymous.client.request(
            "GET", "/instance-types", headers={"Authorization": f"Basic {token}"}
        )
        assert response.ok
    refused = await anonymous.client.request("GET", "/instance-types")
    assert refused.status == 401


async def test_create_boot_run_terminate(fake: RunningFake, lam: LambdaAdapter) -> None:
    launched = await lam.launch(launch_request("s1"))
    assert (launched.state, launched.tags, launched.region) == (
        InstanceState.BOOTING,
        Tags("dep1", "s1", "alice"),
        "us-east-1",
    )
    [booting] = await lam.status([launched.instance_id])
    assert (booting.state, booting.provider_status, booting.public_ip) == (
        InstanceState.BOOTING,
        "booting",
        None,
    )
    running = await until(lambda: one(lam, launched.instance_id), InstanceState.RUNNING)
    assert (
        running.provider_status == "active" and running.public_ip and running.ssh_user == "ubuntu"
    )
    assert running.price_per_hour == 2_490_000 and running.tags == Tags("dep1", "s1", "alice")

    await lam.terminate(launched.instance_id)
    [stopping] = await lam.status([launched.instance_id])
    assert (stopping.state, stopping.provider_status) == (InstanceState.STOPPING, "terminating")
    gone = await until(lambda: one(lam, launched.instance_id), InstanceState.TERMINATED)
    assert gone.provider_status == "not found"
    await lam.terminate(launched.instance_id)  # twice is fine
    assert await lam.list_tagged("dep1") == []


async def one(adapter: LambdaAdapter, instance_id: str) -> Instance:
    [instance] = await adapter.status([instance_id])
    return instance


async def test_the_label_is_the_name_and_the_tags_are_key_values(
    fake: RunningFake, lam: LambdaAdapter
) -> None:
    launched = await lam.launch(launch_request("s1"))
    attrs = fake.state.instances[launched.instance_id].attrs
    assert attrs["name"] == "gp4u-dep1-s1"
    assert attrs["tags"] == [
        {"key": "gp4u-deployment", "value": "dep1"},
        {"key": "gp4u-session", "value": "s1"},
        {"key": "gp4u-owner", "value": "alice"},
    ]


async def test_launch_is_idempotent_per_session_tag_whatever_the_client_token(
    fake: RunningFake, lam: LambdaAdapter
) -> None:
    """Lambda has no client tokens: the session tag is the idempotency key, so a second launch
    for the session returns the live instance already carrying its label."""
    first = await lam.launch(launch_request("s1"))
    second = await lam.launch(launch_request("s1", client_token="another-token"))
    assert second.instance_id == first.instance_id
    assert len(fake.state.instances) == 1
    assert calls(fake, "POST", "/instance-operations/launch") == 1


async def test_the_public_key_is_registered_once_then_reused(
    fake: RunningFake, lam: LambdaAdapter
) -> None:
    first = await lam.launch(launch_request("s1"))
    second = await lam.launch(
        launch_request("s2", ssh_public_key=PUBLIC_KEY.replace("test@gp4u", "other"))
    )
    assert calls(fake, "POST", "/ssh-keys") == 1
    names = {
        tuple(fake.state.instances[i.instance_id].attrs["ssh_key_names"]) for i in (first, second)
    }
    assert names == {(key_name(PUBLIC_KEY),)}


async def test_a_configured_key_name_is_used_as_is(fake: RunningFake, make: Adapter) -> None:
    adapter = make(ssh_key_name="team-key")
    await adapter.client.json(
        "POST", "/ssh-keys", json={"name": "team-key", "public_key": PUBLIC_KEY}
    )
    launched = await adapter.launch(launch_request("s1", ssh_public_key=None))
    assert fake.state.instances[launched.instance_id].attrs["ssh_key_names"] == ["team-key"]
    assert calls(fake, "GET", "/ssh-keys") == 0


async def test_a_launch_without_any_ssh_key_is_refused_before_calling(
    fake: RunningFake, lam: LambdaAdapter
) -> None:
    with pytest.raises(ProviderRejected, match="SSH key"):
        await lam.launch(launch_request("s1", ssh_public_key=None))
    assert calls(fake, "POST", "/instance-operations/launch") == 0


@pytest.mark.parametrize(
    ("offer", "region"), [("gpu_8x_h100_sxm5", "us-east-1"), ("gpu_1x_h100_pcie", "us-south-1")]
)
async def test_insufficient_capacity_is_no_capacity(
    lam: LambdaAdapter, offer: str, region: str
) -> None:
    with pytest.raises(NoCapacity, match="insufficient-capacity"):
        await lam.launch(launch_request("s1", offer_ref=offer, region=region))


async def test_an_unknown_type_is_rejected(lam: LambdaAdapter) -> None:
    with pytest.raises(ProviderRejected) as raised:
        await lam.launch(launch_request("s1", offer_ref="gpu_1x_nonexistent"))
    assert raised.type is ProviderRejected and raised.value.status == 404


async def test_spot_and_regionless_launches_are_refused(lam: LambdaAdapter) -> None:
    with pytest.raises(NotSupported, match="spot"):
        await lam.launch(launch_request("s1", spot=True))
    with pytest.raises(ProviderRejected, match="region"):
        await lam.launch(launch_request("s1", region=None))


async def test_list_tagged_finds_instances_made_outside_gp4u(
    fake: RunningFake, lam: LambdaAdapter
) -> None:
    ours = await lam.launch(launch_request("s1"))
    for attrs in (
        {"name": "gp4u-dep1-ext1", "instance_type": "gpu_1x_h100_pcie", "region": "us-west-1"},
        {
            "name": "My box",
            "tags": [
                {"key": "gp4u-deployment", "value": "dep1"},
                {"key": "gp4u-session", "value": "ext2"},
            ],
        },
        {"name": "gp4u-dep2-other"},
        {"name": "training-node-1"},
        {},
    ):
        await lam.client.json("POST", "/_fake/instances", json=attrs)
    found = {i.tags.session: i for i in await lam.list_tagged("dep1") if i.tags}
    assert set(found) == {"s1", "ext1", "ext2"}
    assert found["s1"].instance_id == ours.instance_id
    assert (found["ext1"].instance_type, found["ext1"].region) == ("gpu_1x_h100_pcie", "us-west-1")


async def test_a_lying_create_is_outcome_unknown_and_found_by_tag(
    fake: RunningFake, lam: LambdaAdapter
) -> None:
    fake.state.faults.lying_create = True
    with pytest.raises(OutcomeUnknown):
        await lam.launch(launch_request("s1"))
    assert calls(fake, "POST", "/instance-operations/launch") == 1  # never repeated blindly
    [found] = await lam.list_tagged("dep1")
    assert found.tags == Tags("dep1", "s1", "alice")
    fake.state.faults.lying_create = False
    again = await lam.launch(launch_request("s1"))
    assert again.instance_id == found.instance_id


@pytest.mark.parametrize(
    "faults",
    [{"malformed_json": True}, {"missing_fields": ["instance_ids"]}],
    ids=["malformed-json", "no-instance-id"],
)
async def test_an_unreadable_2xx_launch_answer_is_outcome_unknown_and_found_by_tag(
    fake: RunningFake, faults: dict[str, Any]
) -> None:
    """Lambda accepted the launch, so the instance probably exists: never InvalidResponse."""
    armed = ArmBefore(fake.state, "POST", "/instance-operations/launch", faults)
    gateway = Gateway(transport=armed)
    try:
        lam = LambdaAdapter.create("lambda", gateway, api_key="test-key", base_url=fake.url)
        with pytest.raises(OutcomeUnknown, match="launch"):
            await lam.launch(launch_request("s1"))
        assert calls(fake, "GET", "/instances") == 1  # the lookup before it was read fine
        assert calls(fake, "POST", "/instance-operations/launch") == 1  # never repeated
        fake.state.faults = Faults()
        [found] = await lam.list_tagged("dep1")
        assert found.tags == Tags("dep1", "s1", "alice")
        assert (await lam.launch(launch_request("s1"))).instance_id == found.instance_id
        assert calls(fake, "POST", "/instance-operations/launch") == 1
    finally:
        await gateway.aclose()


async def test_a_lying_destroy_returns_but_the_instance_keeps_running(
    fake: RunningFake, lam: LambdaAdapter
) -> None:
    launched = await lam.launch(launch_request("s1"))
    await until(lambda: one(lam, launched.instance_id), InstanceState.RUNNING)
    fake.state.faults.lying_destroy = True
    await lam.terminate(launched.instance_id)
    [still] = await lam.status([launched.instance_id])
    assert still.state is InstanceState.RUNNING


async def test_a_429_with_retry_after_on_a_read_is_retried(
    fake: RunningFake, lam: LambdaAdapter
) -> None:
    fake.state.faults.rate_limit_next = 1
    fake.state.faults.retry_after = 0.05
    report = await lam.list_offers()
    assert len(report.offers) == 3
    assert calls(fake, "GET", "/instance-types") == 2


async def test_status_of_several_ids_uses_one_list_and_unknown_ids_are_terminated(
    fake: RunningFake, lam: LambdaAdapter
) -> None:
    first = await lam.launch(launch_request("s1"))
    second = await lam.launch(launch_request("s2"))
    before = len(fake.state.requests)
    states = await lam.status([first.instance_id, "does-not-exist", second.instance_id])
    assert [(i.instance_id, i.state) for i in states] == [
        (first.instance_id, InstanceState.BOOTING),
        ("does-not-exist", InstanceState.TERMINATED),
        (second.instance_id, InstanceState.BOOTING),
    ]
    paths = [r["path"] for r in fake.state.requests[before:]]
    assert paths == ["/instances", "/instances/does-not-exist"]
    await lam.terminate("does-not-exist")


async def test_the_real_api_prefix_works_and_a_wrong_base_url_is_not_read_as_gone(
    fake: RunningFake, make: Adapter
) -> None:
    prefixed = make(base_url=f"{fake.url}/api/v1")
    assert len((await prefixed.list_offers()).offers) == 3
    launched = await make().launch(launch_request("s1"))
    wrong = make(base_url=f"{fake.url}/api/v2")  # 404 {"detail": "Not Found"}, not Lambda's
    with pytest.raises(ProviderRejected) as raised:
        await wrong.status([launched.instance_id])
    assert raised.value.status == 404 and not isinstance(raised.value, InstanceNotFound)
    with pytest.raises(ProviderRejected) as raised:
        await wrong.terminate(launched.instance_id)
    assert raised.value.status == 404 and not isinstance(raised.value, InstanceNotFound)
    [still] = await make().status([launched.instance_id])
    assert still.state is InstanceState.BOOTING


def test_the_documented_rate_limit_is_the_call_policy() -> None:
    rate = LambdaAdapter.call_policy.rate
    assert rate is not None and rate.per_second <= 1.0
    assert LambdaAdapter.default_base_url == "https://cloud.lambda.ai/api/v1"


async def test_the_rate_limit_keeps_us_under_one_request_per_second() -> None:
    state = FakeState(offers=list(INVENTORY))
    state.faults.max_per_second = 1
    gateway = Gateway()
    with kit.running(create_app(state)) as fake:
        adapter = LambdaAdapter.create("lambda", gateway, api_key="test-key", base_url=fake.url)
        for _ in range(2):
            await adapter.list_offers()
    await gateway.aclose()
    assert kit.max_in_window([r["at"] for r in state.requests]) == 1
    assert len(state.requests) == 2  # no 429, no retry

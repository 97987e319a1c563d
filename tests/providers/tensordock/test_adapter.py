"""The TensorDock adapter against the fake TensorDock v2 server, run for real on a local port."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from gp4u.fakes import kit
from gp4u.fakes.kit import FakeState, Faults
from gp4u.fakes.tensordock import create_app
from gp4u.providers.base import (
    InvalidResponse,
    NoCapacity,
    NotSupported,
    OutcomeUnknown,
    ProviderAuthError,
    ProviderRejected,
)
from gp4u.providers.gateway import Gateway, ProviderResponse
from gp4u.providers.interface import Capability, Instance, InstanceState, LaunchRequest, Tags
from gp4u.providers.tensordock.adapter import NO_KEY, TensorDockAdapter, _gone
from tests.conftest import PROVIDER_API
from tests.providers.support import ArmBefore

LOCATION = json.loads(
    (PROVIDER_API / "tensordock" / "v2-locations.response.docs-excerpt.json").read_text()
)["data"]["locations"][0]
OFFER_1X = "location:loc-uuid-12345/h100-sxm5-80gb/1"
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAItest gp4u"


class FastAdapter(TensorDockAdapter):
    """The real adapter without the 100/min pacing, so tests stay fast."""

    call_policy = dataclasses.replace(
        TensorDockAdapter.call_policy, rate=None, backoff_seconds=0.01
    )


@pytest.fixture(scope="module")
def server() -> Iterator[kit.RunningFake]:
    with kit.running(create_app(kit.FakeState())) as running:
        yield running


@pytest.fixture
def fake(server: kit.RunningFake) -> kit.RunningFake:
    """The module's fake server, reset: the sample location only, 0.3 s boots."""
    server.state.reset()
    server.state.offers = [LOCATION]
    server.state.boot_seconds = 0.3
    return server


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    gateway = Gateway()
    yield gateway
    await gateway.aclose()


def adapter(
    gateway: Gateway, fake: kit.RunningFake, api_key: str | None = "test-key"
) -> TensorDockAdapter:
    return FastAdapter.create("tensordock", gateway, api_key=api_key, base_url=fake.url)


@pytest.fixture(scope="module")
def proxy() -> Iterator[kit.RunningFake]:
    """A server that answers every path with an HTML 404 page, as a proxy or a wrong host does."""
    app = FastAPI()
    app.state.fake = FakeState()

    @app.api_route("/{path:path}", methods=["GET", "POST", "DELETE"])
    async def not_found(path: str) -> HTMLResponse:
        return HTMLResponse(f"<html><body><h1>404 Not Found</h1>/{path}</body></html>", 404)

    with kit.running(app) as running:
        yield running


def request(session: str = "sess1", deployment: str = "dep1", **changes: Any) -> LaunchRequest:
    base = LaunchRequest(
        offer_ref=OFFER_1X,
        client_token=f"token-{session}",
        tags=Tags(deployment, session),
        ssh_public_key=SSH_KEY,
    )
    return dataclasses.replace(base, **changes)


async def wait_running(td: TensorDockAdapter, instance_id: str) -> Instance:
    for _ in range(50):
        [instance] = await td.status([instance_id])
        if instance.state is InstanceState.RUNNING:
            return instance
        await asyncio.sleep(0.05)
    raise AssertionError("instance never ran")


async def external(gateway: Gateway, fake: kit.RunningFake, name: str) -> str:
    control = gateway.client("control", base_url=fake.url)
    created = await control.json("POST", "/_fake/instances", json={"name": name})
    return str(created["id"])


def test_policy_matches_the_documented_rate_limit() -> None:
    rate = TensorDockAdapter.call_policy.rate
    assert rate is not None
    assert rate.per_second == pytest.approx(100 / 60)
    assert TensorDockAdapter.default_base_url == "https://dashboard.tensordock.com"


async def test_offers_from_the_fake_match_the_sample(
    gateway: Gateway, fake: kit.RunningFake
) -> None:
    report = await adapter(gateway, fake).list_offers()

    assert len(report.offers) == 8
    one = next(o for o in report.offers if o.gpu_count == 1)
    assert (one.price_per_hour, one.offer_ref, one.available_count) == (2_227_000, OFFER_1X, 8)
    assert fake.state.requests[-1]["path"] == "/api/v2/locations"


async def test_default_inventory_when_no_offers_are_set(gateway: Gateway) -> None:
    with kit.running(create_app()) as running:
        report = await adapter(gateway, running).list_offers()
    assert report.rows_read > 40
    assert len(report.offers) > 100


async def test_without_a_key_offers_work_but_launch_is_not_supported(
    gateway: Gateway, fake: kit.RunningFake
) -> None:
    td = adapter(gateway, fake, api_key=None)

    capabilities = td.capabilities()
    assert Capability.OFFERS in capabilities
    assert capabilities.reason(Capability.LAUNCH) == NO_KEY
    assert "GP4U_TENSORDOCK_API_KEY" in NO_KEY
    assert capabilities.reason(Capability.SPOT) == "no spot market in TensorDock's v2 API"
    assert len((await td.list_offers()).offers) == 8
    with pytest.raises(NotSupported, match="GP4U_TENSORDOCK_API_KEY"):
        await td.launch(request())
    with pytest.raises(NotSupported):
        await td.list_tagged("dep1")
    assert not (await td.check_credentials()).ok
    assert not any(r["path"].startswith("/api/v2/instances") for r in fake.state.requests)


async def test_wrong_key_is_an_auth_error_without_the_key_in_it(
    gateway: Gateway, fake: kit.RunningFake
) -> None:
    td = adapter(gateway, fake, api_key="wrong-secret-123")

    with pytest.raises(ProviderAuthError) as raised:
        await td.list_tagged("dep1")
    assert "wrong-secret-123" not in str(raised.value)
    with pytest.raises(ProviderAuthError):
        await td.launch(request())
    check = await td.check_credentials()
    assert not check.ok
    assert "wrong-secret-123" not in check.detail
    assert (await adapter(gateway, fake).check_credentials()).ok


async def test_the_fake_answers_403_without_a_token_and_400_for_a_bad_body(
    gateway: Gateway, fake: kit.RunningFake
) -> None:
    anonymous = gateway.client("anon", base_url=fake.url)
    assert (await anonymous.request("GET", "/api/v2/instances")).status == 403
    keyed = gateway.client("keyed", base_url=fake.url, headers={"Authorization": "Bearer test-key"})
    body = {"data": {"type": "virtualmachine", "attributes": {"name": "x", "image": "ubuntu2404"}}}
    answer = await keyed.request("POST", "/api/v2/instances", json=body, idempotent=False)
    assert answer.status == 400
    assert answer.json()["errors"][0]["detail"] == "resources is required"


async def test_create_status_terminate_lifecycle(gateway: Gateway, fake: kit.RunningFake) -> None:
    td = adapter(gateway, fake)

    launched = await td.launch(request())
    assert launched.state is InstanceState.BOOTING
    assert launched.provider_status == "starting"
    assert launched.tags == Tags("dep1", "sess1")
    assert launched.instance_type == "h100-sxm5-80gb.1x"
    [booting] = await td.status([launched.instance_id])
    assert booting.state is InstanceState.BOOTING

    running = await wait_running(td, launched.instance_id)
    assert running.public_ip is not None
    assert (running.ssh_host, running.ssh_port, running.ssh_user) == (running.public_ip, 22, "user")
    assert running.price_per_hour == 2_227_000
    assert running.instance_type == "h100-sxm5-80gb.1x"

    await td.terminate(launched.instance_id)
    [gone] = await td.status([launched.instance_id])
    assert gone.state is InstanceState.TERMINATED
    await td.terminate(launched.instance_id)
    await td.terminate("no-such-instance")


async def test_create_body_follows_the_v2_shape(gateway: Gateway, fake: kit.RunningFake) -> None:
    td = adapter(gateway, fake)
    launched = await td.launch(
        request(
            offer_ref="location:loc-uuid-12345/h100-sxm5-80gb/2",
            disk_gb=120,
            env={"HF_TOKEN": "abc"},
            startup_command="python serve.py",
        )
    )

    attrs = fake.state.instances[launched.instance_id].attrs
    assert attrs["name"] == "gp4u-dep1-sess1"
    assert (attrs["location_id"], attrs["gpu_model"], attrs["gpu_count"]) == (
        "loc-uuid-12345",
        "h100-sxm5-80gb",
        2,
    )
    assert (attrs["vcpu_count"], attrs["ram_gb"], attrs["storage_gb"]) == (4, 16, 150)
    assert attrs["image"] == "ubuntu2404"
    assert attrs["use_dedicated_ip"] is True
    assert attrs["ssh_key"] == SSH_KEY
    [command] = attrs["cloud_init"]["runcmd"]
    assert command.startswith("docker run -d --restart unless-stopped --gpus all -e HF_TOKEN=abc ")
    assert command.endswith("nvidia/cuda:12.4.1-runtime-ubuntu22.04 sh -c 'python serve.py'")


async def test_an_os_image_is_used_as_the_vm_image(gateway: Gateway, fake: kit.RunningFake) -> None:
    launched = await adapter(gateway, fake).launch(request(image="ubuntu2204"))
    attrs = fake.state.instances[launched.instance_id].attrs
    assert (attrs["image"], attrs["cloud_init"]) == ("ubuntu2204", None)


async def test_launch_is_idempotent_per_session_tag_whatever_the_client_token(
    gateway: Gateway, fake: kit.RunningFake
) -> None:
    """TensorDock has no idempotency key: the session tag is, so a second launch for the
    session returns the live VM already named with its label."""
    td = adapter(gateway, fake)

    first = await td.launch(request())
    second = await td.launch(request(client_token="another-token"))

    assert second.instance_id == first.instance_id
    assert len(fake.state.instances) == 1


async def test_a_full_location_is_no_capacity_and_leaves_the_offers(
    gateway: Gateway, fake: kit.RunningFake
) -> None:
    td = adapter(gateway, fake)
    await td.launch(request("big", offer_ref="location:loc-uuid-12345/h100-sxm5-80gb/6"))

    report = await td.list_offers()
    assert sorted(o.gpu_count for o in report.offers) == [1, 2]
    with pytest.raises(NoCapacity, match="Insufficient GPU availability"):
        await td.launch(request("more", offer_ref="location:loc-uuid-12345/h100-sxm5-80gb/3"))
    with pytest.raises(NoCapacity, match="Location not found"):
        await td.launch(request("gone", offer_ref="location:loc-gone/h100-sxm5-80gb/1"))
    with pytest.raises(NoCapacity, match="not available at location"):
        await td.launch(request("model", offer_ref="location:loc-uuid-12345/a100-pcie-80gb/1"))


async def test_launch_refusals_before_any_call(gateway: Gateway, fake: kit.RunningFake) -> None:
    td = adapter(gateway, fake)

    with pytest.raises(ProviderRejected, match="SSH public key"):
        await td.launch(request(ssh_public_key=None))
    with pytest.raises(ProviderRejected, match="not a TensorDock offer"):
        await td.launch(request(offer_ref="h100.1x"))
    assert fake.state.requests == []


async def test_oversized_disk_is_a_refusal_not_no_capacity(
    gateway: Gateway, fake: kit.RunningFake
) -> None:
    with pytest.raises(ProviderRejected, match="storage_gb exceeds") as raised:
        await adapter(gateway, fake).launch(request(disk_gb=5000))
    assert not isinstance(raised.value, NoCapacity)
    assert raised.value.status == 400


async def test_list_tagged_finds_outside_instances_with_our_tag_only(
    gateway: Gateway, fake: kit.RunningFake
) -> None:
    td = adapter(gateway, fake)
    ours = await td.launch(request())
    outside = await external(gateway, fake, "gp4u-dep1-ext7")
    await external(gateway, fake, "someones-training-box")
    await external(gateway, fake, "gp4u-other-sess1")
    finished = await external(gateway, fake, "gp4u-dep1-done")
    await td.terminate(finished)

    tagged = await td.list_tagged("dep1")

    assert {i.instance_id for i in tagged} == {ours.instance_id, outside}
    assert {i.tags for i in tagged} == {Tags("dep1", "sess1"), Tags("dep1", "ext7")}


async def test_lying_create_is_outcome_unknown_then_found_by_tag(
    gateway: Gateway, fake: kit.RunningFake
) -> None:
    td = adapter(gateway, fake)
    fake.state.faults.lying_create = True

    with pytest.raises(OutcomeUnknown):
        await td.launch(request())
    assert [r["method"] for r in fake.state.requests].count("POST") == 1

    fake.state.faults.lying_create = False
    [found] = await td.list_tagged("dep1")
    assert found.tags == Tags("dep1", "sess1")
    again = await td.launch(request())
    assert again.instance_id == found.instance_id


@pytest.mark.parametrize(
    "faults",
    [{"malformed_json": True}, {"missing_fields": ["id"]}],
    ids=["malformed-json", "no-instance-id"],
)
async def test_an_unreadable_2xx_create_answer_is_outcome_unknown_then_found_by_tag(
    fake: kit.RunningFake, faults: dict[str, Any]
) -> None:
    """TensorDock accepted the create, so the VM probably exists: never InvalidResponse."""
    armed = ArmBefore(fake.state, "POST", "/api/v2/instances", faults)
    gateway = Gateway(transport=armed)
    try:
        td = adapter(gateway, fake)
        with pytest.raises(OutcomeUnknown, match="create"):
            await td.launch(request())
        methods = [r["method"] for r in fake.state.requests]
        assert methods == ["GET", "POST"]  # the lookup was read fine; the create never repeated
        fake.state.faults = Faults()
        [found] = await td.list_tagged("dep1")
        assert found.tags == Tags("dep1", "sess1")
        assert (await td.launch(request())).instance_id == found.instance_id
        assert len(fake.state.instances) == 1
    finally:
        await gateway.aclose()


async def test_a_404_that_is_not_tensordocks_is_not_gone(
    gateway: Gateway, fake: kit.RunningFake, proxy: kit.RunningFake
) -> None:
    """A wrong base URL or a proxy's page must not make a live VM look terminated, nor a
    terminate look done: only TensorDock's own JSON:API not-found answer means gone."""
    launched = await adapter(gateway, fake).launch(request())
    elsewhere = [
        FastAdapter.create("td", gateway, api_key="test-key", base_url=f"{fake.url}/v1"),
        FastAdapter.create("td", gateway, api_key="test-key", base_url=proxy.url),
    ]
    fake.state.faults.fail_all, fake.state.faults.fail_status = True, 404
    fake.state.faults.paths = ["/api/v2/instances/"]  # the fake's generic, non-JSON:API 404
    for td in [*elsewhere, adapter(gateway, fake)]:
        with pytest.raises(ProviderRejected) as raised:
            await td.status([launched.instance_id])
        assert raised.value.status == 404
        with pytest.raises(ProviderRejected) as raised:
            await td.terminate(launched.instance_id)
        assert raised.value.status == 404

    fake.state.faults = Faults()
    [live] = await adapter(gateway, fake).status([launched.instance_id])
    assert live.state is not InstanceState.TERMINATED
    assert fake.state.instances[launched.instance_id].terminated is None


@pytest.mark.parametrize(
    ("status", "body", "gone"),
    [
        (404, b'{"errors": [{"status": "404", "title": "Not Found", "detail": "x"}]}', True),
        (410, b'{"errors": [{"status": "410", "title": "Gone"}]}', True),
        (400, b'{"errors": [{"status": "400", "detail": "Instance not found"}]}', True),
        (400, b'{"errors": [{"status": "400", "detail": "Minimum storage is 100GB"}]}', False),
        (400, b"instance not found", False),
        (404, b"<html><h1>404 Not Found</h1></html>", False),
        (404, b'{"detail": "Not Found"}', False),
        (404, b'{"message": "Not Found"}', False),
        (404, b'{"errors": []}', False),
        (404, b"", False),
    ],
)
def test_only_tensordocks_own_not_found_answer_means_gone(
    status: int, body: bytes, gone: bool
) -> None:
    answer = ProviderResponse("tensordock", "GET", "/api/v2/instances/x", status, {}, body)
    assert _gone(answer) is gone


async def test_lying_destroy_returns_but_the_instance_keeps_running(
    gateway: Gateway, fake: kit.RunningFake
) -> None:
    td = adapter(gateway, fake)
    launched = await td.launch(request())
    await wait_running(td, launched.instance_id)
    fake.state.faults.lying_destroy = True

    await td.terminate(launched.instance_id)

    [still] = await td.status([launched.instance_id])
    assert still.state is InstanceState.RUNNING


async def test_unknown_instances_are_terminated(gateway: Gateway, fake: kit.RunningFake) -> None:
    [instance] = await adapter(gateway, fake).status(["4242"])
    assert (instance.instance_id, instance.state) == ("4242", InstanceState.TERMINATED)


async def test_rate_limited_read_is_retried(gateway: Gateway, fake: kit.RunningFake) -> None:
    fake.state.faults.rate_limit_next = 1
    fake.state.faults.retry_after = 0.1

    report = await adapter(gateway, fake).list_offers()

    assert len(report.offers) == 8
    assert [r["path"] for r in fake.state.requests] == ["/api/v2/locations"] * 2


async def test_malformed_json_is_invalid_response(gateway: Gateway, fake: kit.RunningFake) -> None:
    td = adapter(gateway, fake)
    fake.state.faults.malformed_json = True

    with pytest.raises(InvalidResponse):
        await td.list_offers()
    with pytest.raises(InvalidResponse):
        await td.list_tagged("dep1")


async def test_missing_fields_skip_offers_and_untag_instances(
    gateway: Gateway, fake: kit.RunningFake
) -> None:
    td = adapter(gateway, fake)
    await td.launch(request())
    fake.state.faults.missing_fields = ["price_per_hr", "name"]

    report = await td.list_offers()
    assert report.offers == []
    assert report.skipped == {"missing_price": 1}
    assert await td.list_tagged("dep1") == []


async def test_the_real_policy_paces_calls_at_100_per_minute(
    gateway: Gateway, fake: kit.RunningFake
) -> None:
    td = TensorDockAdapter.create("tensordock", gateway, api_key="test-key", base_url=fake.url)

    for _ in range(3):
        await td.list_offers()

    times = [r["at"] for r in fake.state.requests]
    assert kit.max_in_window(times, 1.0) == 2

"""The Vast.ai adapter against the fake Vast.ai API, served for real on a local port."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from gp4u.fakes import kit
from gp4u.fakes.kit import FakeState, Faults, RunningFake
from gp4u.fakes.vastai import create_app, generate_offers
from gp4u.providers.base import (
    InvalidResponse,
    NoCapacity,
    NotSupported,
    OutcomeUnknown,
    ProviderAuthError,
    ProviderRejected,
)
from gp4u.providers.gateway import CallPolicy, Gateway
from gp4u.providers.interface import Capability, Instance, InstanceState, LaunchRequest, Tags
from gp4u.providers.vastai.adapter import NO_KEY, VastaiAdapter
from tests.providers.support import ArmBefore

INSTANCES = "/api/v1/instances/"


class FastVastai(VastaiAdapter):
    """The adapter without its pacing, so the tests run fast (one test checks the pacing)."""

    call_policy: ClassVar[CallPolicy] = dataclasses.replace(
        VastaiAdapter.call_policy, rate=None, backoff_seconds=0.01
    )


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(FakeState())


@pytest.fixture(scope="module")
def fake(app: FastAPI) -> Iterator[RunningFake]:
    with kit.running(app) as running:
        yield running


@pytest.fixture
def state(fake: RunningFake, app: FastAPI) -> FakeState:
    fake.state.reset()
    fake.state._second = (0, 0)  # reset() keeps max_per_second's count: clear it (kit issue)
    fake.state.offers = []
    fake.state.boot_seconds = 0.3
    app.state.searches.clear()
    return fake.state


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    gateway = Gateway()
    yield gateway
    await gateway.aclose()


@pytest.fixture
def vast(gateway: Gateway, fake: RunningFake, state: FakeState) -> VastaiAdapter:
    return FastVastai.create("vastai", gateway, api_key="test-key", base_url=fake.url)


@pytest.fixture(scope="module")
def proxy() -> Iterator[RunningFake]:
    """A server that answers every path with a plain-text 404, as a proxy or a wrong host does."""
    app = FastAPI()
    app.state.fake = FakeState()

    @app.api_route("/{path:path}", methods=["GET", "PUT", "POST", "DELETE"])
    async def not_found(path: str) -> PlainTextResponse:
        return PlainTextResponse(f"404 page not found: /{path}", 404)

    with kit.running(app) as running:
        yield running


def request(offer_ref: str, session: str = "s1", **changes: Any) -> LaunchRequest:
    return LaunchRequest(
        offer_ref=offer_ref, client_token=f"token-{session}", tags=Tags("dep1", session), **changes
    )


def calls(state: FakeState, method: str, path: str) -> int:
    return sum(1 for r in state.requests if r["method"] == method and r["path"] == path)


def first_ask(state: FakeState) -> str:
    state.offers = generate_offers(5, 3)
    return str(state.offers[0]["id"])


async def eventually(vast: VastaiAdapter, instance_id: str, wanted: InstanceState) -> Instance:
    deadline = time.monotonic() + 3
    while True:
        (instance,) = await vast.status([instance_id])
        if instance.state is wanted or time.monotonic() > deadline:
            return instance
        await asyncio.sleep(0.05)


async def test_offers_come_from_one_on_demand_and_one_bid_search(
    vast: VastaiAdapter, app: FastAPI, state: FakeState
) -> None:
    report = await vast.list_offers()
    assert report.rows_read == 80 and not report.skipped  # the default 40 offers, twice
    on_demand = [o for o in report.offers if not o.spot]
    spot = [o for o in report.offers if o.spot]
    assert len(on_demand) == len(spot) == 40
    assert len({(o.instance_type, o.region, o.spot) for o in report.offers}) == 80
    record = next(r for r in generate_offers(40, 0) if str(r["id"]) == on_demand[0].offer_ref)
    offer = on_demand[0]
    assert offer.instance_type == f"vast-{record['machine_id']}-{record['num_gpus']}x"
    assert offer.gpu_name == record["gpu_name"] and offer.gpu_count == record["num_gpus"]
    assert offer.price_per_hour == round(record["dph_total"] * 1_000_000)
    matching_spot = next(o for o in spot if o.offer_ref == offer.offer_ref)
    assert matching_spot.price_per_hour == round(record["min_bid"] * 1_000_000)
    assert offer.available_count == 1 and offer.region == record["geolocation"]
    assert [(q["type"], q["limit"], q["rentable"], q["rented"]) for q in app.state.searches] == [
        ("on-demand", 10_000, {"eq": True}, {"eq": False}),
        ("bid", 10_000, {"eq": True}, {"eq": False}),
    ]


async def test_search_limit_option_caps_each_search(
    gateway: Gateway, fake: RunningFake, app: FastAPI, state: FakeState
) -> None:
    vast = FastVastai.create("vastai", gateway, base_url=fake.url, options={"search_limit": "7"})
    report = await vast.list_offers()
    assert len(report.offers) == 14
    assert [q["limit"] for q in app.state.searches] == [7, 7]


async def test_offers_need_no_key_and_rented_asks_leave_the_search(
    gateway: Gateway, fake: RunningFake, vast: VastaiAdapter, state: FakeState
) -> None:
    ask = first_ask(state)
    await vast.launch(request(ask))
    anonymous = FastVastai.create("vastai", gateway, base_url=fake.url)
    offers = (await anonymous.list_offers()).offers
    assert len(offers) == 8 and ask not in {o.offer_ref for o in offers}


async def test_missing_fields_are_skipped_or_fixed_and_counted(
    vast: VastaiAdapter, state: FakeState
) -> None:
    state.faults.missing_fields = ["gpu_name"]
    report = await vast.list_offers()
    assert report.offers == [] and report.skipped == {"missing_gpu_name": 80}
    state.faults.missing_fields = ["dph_total", "min_bid"]
    report = await vast.list_offers()
    assert len(report.offers) == 40 and report.fixed == {"price_from_search_total": 40}
    assert report.skipped == {"missing_bid_price": 40}


async def test_malformed_json_is_invalid_response(vast: VastaiAdapter, state: FakeState) -> None:
    state.faults.malformed_json = True
    with pytest.raises(InvalidResponse):
        await vast.list_offers()
    with pytest.raises(InvalidResponse):
        await vast.list_tagged("dep1")


async def test_without_a_key_launch_is_missing_with_its_reason(
    gateway: Gateway, fake: RunningFake, state: FakeState
) -> None:
    vast = FastVastai.create("vastai", gateway, base_url=fake.url)
    capabilities = vast.capabilities()
    assert Capability.OFFERS in capabilities and Capability.SPOT in capabilities
    assert capabilities.reason(Capability.LAUNCH) == "no API key: set GP4U_VASTAI_API_KEY"
    assert capabilities.reason(Capability.CREDENTIALS) == NO_KEY
    with pytest.raises(NotSupported, match="GP4U_VASTAI_API_KEY"):
        await vast.launch(request(first_ask(state)))
    with pytest.raises(NotSupported):
        await vast.status(["1000"])
    check = await vast.check_credentials()
    assert not check.ok and check.detail == NO_KEY
    assert state.requests == []  # nothing was even tried


async def test_a_wrong_key_is_an_auth_error(
    gateway: Gateway, fake: RunningFake, state: FakeState
) -> None:
    vast = FastVastai.create("vastai", gateway, api_key="wrong-key", base_url=fake.url)
    with pytest.raises(ProviderAuthError) as raised:
        await vast.launch(request(first_ask(state)))
    assert "wrong-key" not in str(raised.value)
    with pytest.raises(ProviderAuthError):
        await vast.status(["1000"])
    with pytest.raises(ProviderAuthError):
        await vast.terminate("1000")
    assert not (await vast.check_credentials()).ok
    assert len((await vast.list_offers()).offers) == 10  # the search is anonymous


async def test_check_credentials_with_the_right_key(vast: VastaiAdapter, state: FakeState) -> None:
    check = await vast.check_credentials()
    assert check.ok and "31337" in check.detail


async def test_launch_boot_run_terminate(vast: VastaiAdapter, state: FakeState) -> None:
    ask = first_ask(state)
    offer = state.offers[0]
    launched = await vast.launch(
        request(
            ask,
            instance_type="vast-x",
            startup_command="echo hi",
            env={"HF_TOKEN": "abc"},
            ssh_public_key="ssh-ed25519 AAAA test",
            disk_gb=40,
        )
    )
    assert launched.state is InstanceState.PENDING and launched.tags == Tags("dep1", "s1")
    created = state.instances[launched.instance_id].attrs
    assert created["label"] == "gp4u-dep1-s1" and created["disk"] == 40
    assert created["onstart"] == "echo hi" and created["env"] == {"HF_TOKEN": "abc"}
    assert created["ssh_keys"] == ["ssh-ed25519 AAAA test"] and not created["is_bid"]

    (booting,) = await vast.status([launched.instance_id])
    assert (booting.state, booting.provider_status) == (InstanceState.BOOTING, "loading")
    running = await eventually(vast, launched.instance_id, InstanceState.RUNNING)
    assert running.state is InstanceState.RUNNING and running.tags == Tags("dep1", "s1")
    assert running.instance_type == f"vast-{offer['machine_id']}-{offer['num_gpus']}x"
    assert running.ssh_host and running.ssh_port and running.ssh_user == "root"
    assert running.price_per_hour == round(offer["dph_total"] * 1_000_000)

    await vast.terminate(launched.instance_id)
    (gone,) = await vast.status([launched.instance_id])  # Vast: {"instances": null}
    assert gone.state is InstanceState.TERMINATED
    await vast.terminate(launched.instance_id)  # a 404 now: already gone is fine
    never, odd = await vast.status(["987654", "not-a-vast-id"])  # a 404; no call at all
    assert never.state is odd.state is InstanceState.TERMINATED
    assert calls(state, "DELETE", f"/api/v0/instances/{launched.instance_id}/") == 2


async def test_launch_is_idempotent_per_session_tag(vast: VastaiAdapter, state: FakeState) -> None:
    """Vast has no idempotency key: the session tag is, so a second launch for the session
    (whatever its client token, even for another offer) returns the live instance already
    labelled with it, and rents nothing."""
    ask = first_ask(state)
    first = await vast.launch(request(ask))
    again = dataclasses.replace(request(str(state.offers[1]["id"])), client_token="another-token")
    second = await vast.launch(again)
    assert second.instance_id == first.instance_id
    assert calls(state, "PUT", f"/api/v0/asks/{ask}/") == 1 and len(state.instances) == 1
    await vast.terminate(first.instance_id)
    third = await vast.launch(request(ask))  # the tagged one is gone: rent again
    assert third.instance_id != first.instance_id


async def test_list_tagged_finds_our_instances_only(
    vast: VastaiAdapter, fake: RunningFake, state: FakeState
) -> None:
    async with httpx.AsyncClient(base_url=fake.url) as control:
        outside = await control.post("/_fake/instances", json={"label": "gp4u-dep1-outside"})
        for attrs in ({"label": "gp4u-dep2-x"}, {"label": "my training job"}, {}):
            (await control.post("/_fake/instances", json=attrs)).raise_for_status()
    ours = await vast.launch(request(first_ask(state), "mine"))
    dead = await vast.launch(request(str(state.offers[1]["id"]), "dead"))
    await vast.terminate(dead.instance_id)
    tagged = await vast.list_tagged("dep1")
    assert sorted(i.instance_id for i in tagged) == sorted(
        [str(outside.json()["id"]), ours.instance_id]
    )
    assert {i.tags for i in tagged} == {Tags("dep1", "outside"), Tags("dep1", "mine")}


async def test_list_tagged_follows_next_token(vast: VastaiAdapter, state: FakeState) -> None:
    for n in range(30):
        state.create_instance({"label": f"gp4u-dep1-n{n}"}, external=True)
    state.create_instance({"label": "gp4u-dep3-n1"}, external=True)
    tagged = await vast.list_tagged("dep1")
    assert len(tagged) == 30 and len({i.instance_id for i in tagged}) == 30
    assert calls(state, "GET", INSTANCES) == 2  # 25 + 6 instances


async def test_lying_create_is_outcome_unknown_then_found_by_tag(
    vast: VastaiAdapter, state: FakeState
) -> None:
    ask = first_ask(state)
    state.faults.lying_create = True
    with pytest.raises(OutcomeUnknown):
        await vast.launch(request(ask, "lost"))
    assert calls(state, "PUT", f"/api/v0/asks/{ask}/") == 1  # never repeated blindly
    state.faults = Faults()
    (found,) = await vast.list_tagged("dep1")
    assert found.tags == Tags("dep1", "lost")
    assert (await vast.launch(request(ask, "lost"))).instance_id == found.instance_id


@pytest.mark.parametrize(
    "faults",
    [{"malformed_json": True}, {"missing_fields": ["new_contract"]}],
    ids=["malformed-json", "no-instance-id"],
)
async def test_an_unreadable_2xx_create_answer_is_outcome_unknown_then_found_by_tag(
    fake: RunningFake, state: FakeState, faults: dict[str, Any]
) -> None:
    """Vast rented the ask, so the instance probably exists: never InvalidResponse."""
    ask = first_ask(state)
    gateway = Gateway(transport=ArmBefore(state, "PUT", f"/api/v0/asks/{ask}/", faults))
    try:
        vast = FastVastai.create("vastai", gateway, api_key="test-key", base_url=fake.url)
        with pytest.raises(OutcomeUnknown, match="create"):
            await vast.launch(request(ask, "lost"))
        assert calls(state, "GET", INSTANCES) == 1  # the lookup before it was read fine
        assert calls(state, "PUT", f"/api/v0/asks/{ask}/") == 1  # never repeated blindly
        state.faults = Faults()
        (found,) = await vast.list_tagged("dep1")
        assert found.tags == Tags("dep1", "lost")
        assert (await vast.launch(request(ask, "lost"))).instance_id == found.instance_id
        assert len(state.instances) == 1
    finally:
        await gateway.aclose()


async def test_a_404_that_is_not_vasts_is_not_gone(
    gateway: Gateway, fake: RunningFake, proxy: RunningFake, vast: VastaiAdapter, state: FakeState
) -> None:
    """A wrong base URL or a proxy's page must not make a live instance look terminated, nor a
    destroy look done: only Vast's own not-found answer means gone."""
    launched = await vast.launch(request(first_ask(state)))
    path = f"/api/v0/instances/{launched.instance_id}/"
    elsewhere = [
        FastVastai.create("vastai", gateway, api_key="test-key", base_url=f"{fake.url}/v1"),
        FastVastai.create("vastai", gateway, api_key="test-key", base_url=proxy.url),
    ]
    state.faults.fail_all, state.faults.fail_status, state.faults.paths = True, 404, [path]
    for adapter in [*elsewhere, vast]:  # FastAPI's {"detail": …}, plain text, a bare "error"
        with pytest.raises(ProviderRejected) as raised:
            await adapter.status([launched.instance_id])
        assert raised.value.status == 404
        with pytest.raises(ProviderRejected) as raised:
            await adapter.terminate(launched.instance_id)
        assert raised.value.status == 404

    state.faults = Faults()
    (live,) = await vast.status([launched.instance_id])
    assert live.state is not InstanceState.TERMINATED
    assert state.instances[launched.instance_id].terminated is None
    (never,) = await vast.status(["987654"])  # Vast's own 404 envelope: gone
    assert never.state is InstanceState.TERMINATED
    await vast.terminate("987654")


async def test_lying_destroy_leaves_it_running(vast: VastaiAdapter, state: FakeState) -> None:
    launched = await vast.launch(request(first_ask(state)))
    await eventually(vast, launched.instance_id, InstanceState.RUNNING)
    state.faults.lying_destroy = True
    assert await vast.terminate(launched.instance_id) is None
    (still,) = await vast.status([launched.instance_id])
    assert still.state is InstanceState.RUNNING


async def test_a_429_on_a_read_is_retried(vast: VastaiAdapter, state: FakeState) -> None:
    state.faults.rate_limit_next = 1
    state.faults.retry_after = 0.1
    started = time.monotonic()
    (instance,) = await vast.status(["4242"])
    assert instance.state is InstanceState.TERMINATED
    assert calls(state, "GET", "/api/v0/instances/4242/") == 2
    assert time.monotonic() - started >= 0.1  # Retry-After honoured


async def test_gone_or_taken_offers_are_no_capacity(vast: VastaiAdapter, state: FakeState) -> None:
    ask = first_ask(state)
    with pytest.raises(NoCapacity, match="no_such_ask"):
        await vast.launch(request("1"))  # 404: no such ask
    await vast.launch(request(ask, "a"))
    with pytest.raises(NoCapacity, match="HTTP 410"):
        await vast.launch(request(ask, "b"))  # rented by the first launch
    with pytest.raises(ProviderRejected, match="not an ask id"):
        await vast.launch(request("vast-123-1x"))
    with pytest.raises(ProviderRejected, match="HTTP 400"):
        await vast.launch(request(str(state.offers[1]["id"]), "c", disk_gb=2))


async def test_interruptible_launch_bids(vast: VastaiAdapter, state: FakeState) -> None:
    first_ask(state)
    low, given, floor = (state.offers[i] for i in range(3))
    with pytest.raises(ProviderRejected, match="invalid_price"):
        await vast.launch(request(str(low["id"]), "low", spot=True, bid_per_hour=2_000))
    bid = round(given["min_bid"] * 1_000_000) + 5_000
    launched = await vast.launch(request(str(given["id"]), "bid", spot=True, bid_per_hour=bid))
    assert launched.price_per_hour == bid
    assert state.instances[launched.instance_id].attrs["price"] == bid / 1_000_000
    at_floor = await vast.launch(request(str(floor["id"]), "floor", spot=True))
    assert state.instances[at_floor.instance_id].attrs["price"] == floor["min_bid"]
    (running,) = await vast.status([launched.instance_id])
    assert running.price_per_hour == bid


async def test_the_real_policy_paces_calls_under_vasts_limit(
    gateway: Gateway, fake: RunningFake, state: FakeState
) -> None:
    state.faults.max_per_second = 2
    vast = VastaiAdapter.create("vastai", gateway, api_key="test-key", base_url=fake.url)
    await vast.status(["11", "12", "13", "14"])
    times = [r["at"] for r in state.requests]
    assert len(times) == 4  # no 429, so no retry
    assert kit.max_in_window(times) <= 2


async def test_a_failed_ssh_key_attach_still_returns_the_rented_instance(
    vast: VastaiAdapter, state: FakeState
) -> None:
    ask = first_ask(state)
    state.faults.fail_all = True
    state.faults.paths = ["/api/v0/instances/"]  # only the key attach fails
    launched = await vast.launch(request(ask, ssh_public_key="ssh-ed25519 AAAA test"))
    assert launched.instance_id in state.instances
    assert "ssh_keys" not in state.instances[launched.instance_id].attrs


async def test_a_launch_retried_after_an_unclear_create_puts_the_key_on_the_instance(
    vast: VastaiAdapter, state: FakeState
) -> None:
    ask = first_ask(state)
    state.faults.lying_create = True  # rented, but the answer is a 500
    with pytest.raises(OutcomeUnknown):
        await vast.launch(request(ask, ssh_public_key="ssh-ed25519 AAAA test"))
    state.faults.lying_create = False
    again = await vast.launch(request(ask, ssh_public_key="ssh-ed25519 AAAA test"))
    assert len(state.instances) == 1
    assert state.instances[again.instance_id].attrs["ssh_keys"] == ["ssh-ed25519 AAAA test"]

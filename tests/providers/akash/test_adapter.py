"""The Akash adapter against the fake Akash Console API, served for real on a local port."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from gp4u.fakes import kit
from gp4u.fakes.akash import create_app, fixture_models
from gp4u.fakes.kit import FakeState, RunningFake
from gp4u.providers.akash.adapter import AkashAdapter
from gp4u.providers.akash.parse import parse_gpu_prices
from gp4u.providers.base import InvalidResponse, NotSupported
from gp4u.providers.gateway import Gateway
from gp4u.providers.interface import Capability, LaunchRequest, Tags
from gp4u.providers.ratelimit import RatePolicy
from tests.conftest import PROVIDER_API

FIXTURE = PROVIDER_API / "akash" / "console-api-v1-gpu-prices.response.test-fixture.json"


@pytest.fixture(scope="module")
def server() -> Iterator[RunningFake]:
    with kit.running(create_app(FakeState())) as running:
        yield running


@pytest.fixture
def fake(server: RunningFake, monkeypatch: pytest.MonkeyPatch) -> RunningFake:
    server.state.reset()
    server.state.offers = fixture_models(FIXTURE)
    fast = replace(AkashAdapter.call_policy, rate=RatePolicy(per_second=1000), backoff_seconds=0.01)
    monkeypatch.setattr(AkashAdapter, "call_policy", fast)
    return server


@pytest.fixture
async def akash(fake: RunningFake) -> AsyncIterator[AkashAdapter]:
    gateway = Gateway()
    yield AkashAdapter.create("akash", gateway, api_key="test-key", base_url=fake.url)
    await gateway.aclose()


async def test_offers_are_the_console_models_with_a_price(akash: AkashAdapter) -> None:
    report = await akash.list_offers()
    assert report == parse_gpu_prices(json.loads(FIXTURE.read_text()))
    assert [(o.instance_type, o.price_per_hour, o.available_count) for o in report.offers] == [
        ("amd-gpu3-8192-sxm", 1_200_000, 8),
        ("nvidia-gpu0-1024-pcie", 600_000, 1),
    ]
    assert report.skipped == {"no_price": 2}


async def test_the_fake_totals_its_models(fake: RunningFake, akash: AkashAdapter) -> None:
    body = await akash.client.json("GET", "/v1/gpu-prices")
    assert body["availability"] == {"total": 30, "available": 15}  # as in the real fixture


async def test_the_default_inventory_is_generated(fake: RunningFake, akash: AkashAdapter) -> None:
    fake.state.offers = []
    report = await akash.list_offers()
    assert report.rows_read == 40 and len(report.offers) + report.skipped["no_price"] == 40


async def test_malformed_json_is_an_invalid_response(
    fake: RunningFake, akash: AkashAdapter
) -> None:
    fake.state.faults.malformed_json = True
    with pytest.raises(InvalidResponse):
        await akash.list_offers()


async def test_models_with_missing_fields_are_skipped_and_counted(
    fake: RunningFake, akash: AkashAdapter
) -> None:
    fake.state.faults.missing_fields = ["model"]
    report = await akash.list_offers()
    assert report.offers == [] and report.skipped == {"missing_model": 4}


async def test_a_429_with_retry_after_is_retried(fake: RunningFake, akash: AkashAdapter) -> None:
    fake.state.faults.rate_limit_next = 1
    fake.state.faults.retry_after = 0.05
    assert len((await akash.list_offers()).offers) == 2
    assert [r["path"] for r in fake.state.requests] == ["/v1/gpu-prices"] * 2


async def test_catalog_only_launch_and_friends_are_not_supported(akash: AkashAdapter) -> None:
    capabilities = akash.capabilities()
    assert capabilities.supported == frozenset({Capability.OFFERS, Capability.LIVE_AVAILABILITY})
    assert "catalog only" in (capabilities.reason(Capability.LAUNCH) or "")
    assert "wallet" in (capabilities.reason(Capability.LAUNCH) or "")
    request = LaunchRequest(
        offer_ref="vendor/nvidia/model/h100", client_token="t", tags=Tags("dep1", "s1")
    )
    with pytest.raises(NotSupported, match="catalog only"):
        await akash.launch(request)
    for call in (akash.status(["x"]), akash.list_tagged("dep1"), akash.terminate("x")):
        with pytest.raises(NotSupported, match="catalog only"):
            await call
    assert not (await akash.check_credentials()).ok


async def test_no_key_is_needed_and_none_is_ever_sent(fake: RunningFake) -> None:
    assert AkashAdapter.auth_headers("a-key-configured-by-mistake") == {}
    gateway = Gateway()
    anonymous = AkashAdapter.create("akash", gateway, base_url=fake.url)
    assert len((await anonymous.list_offers()).offers) == 2
    await gateway.aclose()


def test_the_real_endpoint_and_a_polite_rate() -> None:
    assert AkashAdapter.default_base_url == "https://console-api.akash.network"
    rate = AkashAdapter.call_policy.rate
    assert rate is not None and rate.per_second <= 1.0


async def test_offers_carry_the_market_provider_id(fake: RunningFake) -> None:
    gateway = Gateway()
    adapter = AkashAdapter.create(
        "akash", gateway, base_url=fake.url, options={"provider": "akash-net"}
    )
    assert {o.provider for o in (await adapter.list_offers()).offers} == {"akash-net"}
    await gateway.aclose()

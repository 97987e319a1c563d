"""The gateway: retries, timeouts, non-idempotent safety, the circuit breaker and shared state,
against a real local server with fault switches."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from gp4u.fakes import generic, kit
from gp4u.kit.clock import FrozenClock
from gp4u.providers.base import (
    BreakerOpen,
    OutcomeUnknown,
    ProviderAuthError,
    ProviderRejected,
    ProviderUnavailable,
)
from gp4u.providers.breaker import BreakerPolicy, BreakerState
from gp4u.providers.gateway import CallPolicy, Gateway, ProviderClient
from tests.conftest import T0

FAST = CallPolicy(
    timeout=0.5,
    connect_timeout=0.5,
    attempts=3,
    max_seconds=5,
    backoff_seconds=0.01,
    breaker=BreakerPolicy(failures=100),
)


@pytest.fixture
def fake() -> Iterator[kit.RunningFake]:
    with kit.running(generic.create_app()) as running:
        yield running


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    gw = Gateway()
    yield gw
    await gw.aclose()


def _client(gw: Gateway, fake: kit.RunningFake, policy: CallPolicy = FAST) -> ProviderClient:
    return gw.client(f"p-{uuid.uuid4().hex[:6]}", base_url=fake.url, policy=policy)


async def test_transient_failures_are_retried_within_the_attempt_budget(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    client = _client(gateway, fake)
    fake.state.faults.fail_next = 2
    assert await client.json("GET", "/items") == {"items": [1, 2, 3]}
    assert len(fake.state.requests) == 3

    fake.state.requests.clear()
    fake.state.faults.fail_all = True
    with pytest.raises(ProviderUnavailable, match="HTTP 500"):
        await client.json("GET", "/items")
    assert len(fake.state.requests) == 3  # attempts=3, never more


async def test_retry_after_is_honoured_and_a_wait_past_the_budget_is_not_taken(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    client = _client(gateway, fake)
    fake.state.faults.rate_limit_next, fake.state.faults.retry_after = 1, 0.05
    assert await client.json("GET", "/items") == {"items": [1, 2, 3]}
    assert len(fake.state.requests) == 2

    fake.state.requests.clear()
    budget = CallPolicy(**{**FAST.__dict__, "max_seconds": 1.0})
    client = _client(gateway, fake, budget)
    fake.state.faults.rate_limit_next, fake.state.faults.retry_after = 5, 20
    with pytest.raises(ProviderUnavailable, match="429"):
        await client.json("GET", "/items")
    assert len(fake.state.requests) == 1  # waiting 20 s would break the 1 s budget


async def test_a_timed_out_create_is_never_repeated(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    client = _client(gateway, fake)
    fake.state.faults.hang_seconds = 2
    with pytest.raises(OutcomeUnknown, match="timed out"):
        await client.request("POST", "/create", json={"n": 1})
    assert [r["method"] for r in fake.state.requests] == ["POST"]

    fake.state.faults.hang_seconds = 0
    fake.state.faults.lying_create = True
    with pytest.raises(OutcomeUnknown, match="may have taken effect"):
        await client.request("POST", "/create", json={"n": 2})
    assert len(fake.state.requests) == 2
    assert len(fake.state.instances) == 2  # both creates happened once each: reconcile by tag


async def test_a_rate_limited_create_is_retried_because_it_was_refused_unprocessed(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    client = _client(gateway, fake)
    fake.state.faults.rate_limit_next, fake.state.faults.retry_after = 1, 0.01
    response = await client.request("POST", "/create", json={})
    assert response.status == 201
    assert len(fake.state.instances) == 1 and len(fake.state.requests) == 2


async def test_a_refused_connection_is_unavailable_after_the_attempts(gateway: Gateway) -> None:
    client = gateway.client("nowhere", base_url="http://127.0.0.1:9", policy=FAST)
    with pytest.raises(ProviderUnavailable, match="cannot connect"):
        await client.json("GET", "/items")
    calls = gateway.stats("nowhere").summary(time.time())
    assert (calls["calls"], calls["success_rate"]) == (3, 0.0)


async def test_client_errors_are_answers_not_failures(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    client = _client(gateway, fake)
    with pytest.raises(ProviderAuthError):
        await client.json("GET", "/secret")
    with pytest.raises(ProviderRejected, match="404") as caught:
        await client.json("GET", "/missing")
    assert caught.value.status == 404
    record = await client.breaker.record()
    assert record.state is BreakerState.CLOSED and record.failures == 0
    assert len(fake.state.requests) == 2  # 4xx are not retried


async def test_malformed_json_is_an_invalid_response(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    fake.state.faults.malformed_json = True
    with pytest.raises(Exception, match="malformed JSON") as caught:
        await _client(gateway, fake).json("GET", "/items")
    assert type(caught.value).__name__ == "InvalidResponse"


async def test_the_breaker_opens_fails_fast_and_lets_one_probe_through(
    fake: kit.RunningFake,
) -> None:
    clock = FrozenClock(T0)
    gateway = Gateway(clock=clock)
    policy = CallPolicy(
        **{**FAST.__dict__, "attempts": 1, "breaker": BreakerPolicy(failures=3, reset_seconds=30)}
    )
    client = gateway.client("flaky", base_url=fake.url, policy=policy)
    fake.state.faults.fail_all = True
    for _ in range(3):
        with pytest.raises(ProviderUnavailable):
            await client.json("GET", "/items")
    assert (await client.breaker.record()).state is BreakerState.OPEN
    reached = len(fake.state.requests)
    for _ in range(20):
        with pytest.raises(BreakerOpen):
            await client.json("GET", "/items")
    assert len(fake.state.requests) == reached  # failing fast, the fake never saw them

    clock.advance(timedelta(seconds=29))
    with pytest.raises(BreakerOpen):
        await client.json("GET", "/items")
    clock.advance(timedelta(seconds=2))
    fake.state.faults.fail_all = False
    fake.state.faults.latency_ms = 100  # keep the probe in flight while others try
    results = await asyncio.gather(
        *(client.json("GET", "/items") for _ in range(5)), return_exceptions=True
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, BreakerOpen) for r in results if isinstance(r, Exception))
    assert len(fake.state.requests) == reached + 1
    assert (await client.breaker.record()).state is BreakerState.CLOSED
    await gateway.aclose()


async def test_a_failed_probe_reopens_the_breaker(fake: kit.RunningFake) -> None:
    clock = FrozenClock(T0)
    gateway = Gateway(clock=clock)
    policy = CallPolicy(
        **{**FAST.__dict__, "attempts": 1, "breaker": BreakerPolicy(failures=1, reset_seconds=10)}
    )
    client = gateway.client("flaky2", base_url=fake.url, policy=policy)
    fake.state.faults.fail_all = True
    with pytest.raises(ProviderUnavailable):
        await client.json("GET", "/items")
    clock.advance(timedelta(seconds=11))
    with pytest.raises(ProviderUnavailable):  # the probe reached the fake and failed
        await client.json("GET", "/items")
    with pytest.raises(BreakerOpen):
        await client.json("GET", "/items")
    await client.breaker.reset()
    fake.state.faults.fail_all = False
    assert await client.json("GET", "/items") == {"items": [1, 2, 3]}
    await gateway.aclose()


async def test_one_call_never_outlives_its_total_budget(
    fake: kit.RunningFake, gateway: Gateway
) -> None:
    policy = CallPolicy(**{**FAST.__dict__, "timeout": 1.0, "attempts": 5, "max_seconds": 1.5})
    client = _client(gateway, fake, policy)
    fake.state.faults.latency_ms, fake.state.faults.fail_all = 900, True
    with pytest.raises(ProviderUnavailable, match=r"no answer within 1\.5s"):
        await client.json("GET", "/items")
    assert len(fake.state.requests) == 2  # the second attempt was cut off by the budget

"""The fakes' injectable time, their own per-second billing and their fault switches, checked
through each provider's real HTTP API with the fake's clock frozen (no sleeps, no wall clock)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gp4u.fakes import generic, kit
from gp4u.fakes.kit import FakeInstance, FakeState
from gp4u.kit.clock import FrozenClock
from tests.fakes.drivers import DRIVERS, LABEL, Driver

T0 = datetime(2026, 11, 1, 12, 0, 0, 123457, tzinfo=UTC)  # not a round epoch float on purpose


@pytest.fixture
def frozen() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture(params=DRIVERS, ids=str)
def driver(request: pytest.FixtureRequest) -> Driver:
    driver: Driver = request.param
    return driver


@pytest.fixture
def fake(driver: Driver, frozen: FrozenClock) -> Iterator[kit.RunningFake]:
    state = FakeState(
        boot_seconds=30, offers=driver.offers(), clock=lambda: frozen.now().timestamp()
    )
    with kit.running(driver.create_app(state)) as running:
        yield running


@pytest.fixture
def client(fake: kit.RunningFake) -> Iterator[httpx.Client]:
    headers = {"Authorization": "Bearer test-key"}
    with httpx.Client(base_url=fake.url, headers=headers, timeout=10) as client:
        yield client


def seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def billing(client: httpx.Client) -> dict[str, dict[str, Any]]:
    rows = client.get("/_fake/billing").raise_for_status().json()
    return {row["id"]: row for row in rows}


# -- the kit alone


def test_billing_is_per_whole_second_until_terminated() -> None:
    start = T0.timestamp()
    instance = FakeInstance("1", start, 0.0, price_per_hour=3_600_000, clock=lambda: start)
    assert instance.billed_micros(start + 90.9) == 90 * 1_000
    assert instance.billed_micros(start + 3600) == 3_600_000
    noisy = FakeInstance("2", 100.0, 0.0, price_per_hour=3_600_000)
    assert noisy.billed_micros(100.0 + 3599.9999999) == 3_600_000  # float noise, not a second less
    instance.terminated = start + 60
    assert instance.billed_micros(start + 7200) == 60_000
    assert instance.billed_micros(start + 30) == 30_000
    assert instance.billed_micros() == 0


def test_micros_rounds_dollars_half_up_and_ignores_non_numbers() -> None:
    assert kit.micros(0.351234) == 351_234
    assert kit.micros("1.0000005") == 1_000_001
    assert kit.micros(2) == 2_000_000
    assert [kit.micros(v) for v in (None, True, "n/a", float("nan"))] == [0, 0, 0, 0]


def test_the_state_reads_its_clock_and_offset(frozen: FrozenClock) -> None:
    state = FakeState(boot_seconds=10, clock=lambda: frozen.now().timestamp())
    instance = state.create_instance({"name": "a"}, price_per_hour=7_200_000)
    assert instance.created == T0.timestamp()
    assert instance.state() == "booting"
    frozen.advance(seconds(10))
    assert instance.state() == "running"
    assert state.advance(50) == T0.timestamp() + 60
    assert state.billing()[0]["billed_micros"] == 120_000
    with pytest.raises(ValueError, match="forward"):
        state.advance(-1)
    state.reset()
    assert state.now() == (T0 + seconds(10)).timestamp()


def test_a_clock_can_be_set_on_an_app_built_elsewhere(frozen: FrozenClock) -> None:
    app = generic.create_app()
    app.state.fake.clock = lambda: frozen.now().timestamp()
    with kit.running(app) as fake, httpx.Client(base_url=fake.url) as client:
        client.post("/create", json={"price_per_hour": 1_800_000})
        frozen.advance(seconds(100))
        (row,) = client.get("/_fake/billing").json()
        assert (row["created"], row["billed_micros"]) == (T0.timestamp(), 50_000)
        assert fake.state.requests[0]["at"] == T0.timestamp()
        assert fake.state.requests[0]["operations"] == ["create"]


def test_the_clock_control_endpoints_move_a_fake_run_on_the_real_clock() -> None:
    """As a fake in its own process is driven: no in-process clock, only `/_fake/clock`."""
    with (
        kit.running(generic.create_app(FakeState(boot_seconds=10**6))) as fake,
        httpx.Client(base_url=fake.url) as client,
    ):
        made = client.post("/_fake/instances", json={"label": "x", "price_per_hour": 3_600})
        assert made.json()["state"] == "booting"
        before = client.get("/_fake/clock").json()["now"]
        after = client.post("/_fake/clock", json={"advance_seconds": 2 * 10**6}).json()["now"]
        assert after >= before + 2 * 10**6
        (instance,) = client.get("/_fake/instances").json()
        assert instance["state"] == "running"
        (row,) = client.get("/_fake/billing").json()
        assert row["billed_micros"] >= 2_000_000 and row["label"] == "x" and row["external"]
        assert client.post("/_fake/clock", json={"advance_seconds": -1}).status_code == 422
        assert client.post("/_fake/clock", json={"seconds": 1}).status_code == 422
        client.post("/_fake/reset")
        assert client.get("/_fake/clock").json()["now"] < after


def test_clock_endpoints_with_a_frozen_clock(frozen: FrozenClock) -> None:
    state = FakeState(clock=lambda: frozen.now().timestamp())
    with kit.running(generic.create_app(state)) as fake, httpx.Client(base_url=fake.url) as client:
        assert client.get("/_fake/clock").json() == {"now": T0.timestamp()}
        moved = client.post("/_fake/clock", json={"advance_seconds": 1.5}).json()
        assert moved == {"now": T0.timestamp() + 1.5}
        frozen.advance(seconds(1))
        assert client.get("/_fake/clock").json() == {"now": T0.timestamp() + 2.5}
        client.post("/_fake/reset")
        assert client.get("/_fake/clock").json() == {"now": T0.timestamp() + 1}


def test_external_instances_take_a_price_and_refuse_a_bad_one(frozen: FrozenClock) -> None:
    state = FakeState(clock=lambda: frozen.now().timestamp())
    with kit.running(generic.create_app(state)) as fake, httpx.Client(base_url=fake.url) as client:
        client.post("/_fake/instances", json={"name": "theirs", "price_per_hour": 720_000})
        client.post("/_fake/instances", json={})
        for bad in ({"price_per_hour": 1.5}, {"price_per_hour": -1}, {"price_per_hour": True}):
            assert client.post("/_fake/instances", json=bad).status_code == 400
        frozen.advance(seconds(3600))
        rows = client.get("/_fake/billing").json()
        assert rows == state.billing()
        assert [(r["label"], r["price_per_hour"], r["billed_micros"]) for r in rows] == [
            ("theirs", 720_000, 720_000),
            (None, 0, 0),
        ]
        assert "price_per_hour" not in state.instances[rows[0]["id"]].attrs


def test_the_rate_limit_counts_seconds_of_the_fakes_clock(frozen: FrozenClock) -> None:
    state = FakeState(clock=lambda: frozen.now().timestamp())
    state.faults.max_per_second = 2
    with kit.running(generic.create_app(state)) as fake, httpx.Client(base_url=fake.url) as client:
        assert [client.get("/items").status_code for _ in range(3)] == [200, 200, 429]
        frozen.advance(seconds(1))
        assert client.get("/items").status_code == 200


# -- every instance-capable fake, through its own API


def test_time_moves_an_instance_from_booting_to_running(
    driver: Driver, client: httpx.Client, frozen: FrozenClock
) -> None:
    instance_id = driver.created_id(driver.create(client))
    booting, running = driver.words
    assert driver.status(client, instance_id) == booting
    frozen.advance(seconds(29.999))
    assert driver.status(client, instance_id) == booting
    frozen.advance(seconds(0.001))
    assert driver.status(client, instance_id) == running


def test_time_also_moves_by_the_control_endpoint(driver: Driver, client: httpx.Client) -> None:
    instance_id = driver.created_id(driver.create(client))
    client.post("/_fake/clock", json={"advance_seconds": 30})
    assert driver.status(client, instance_id) == driver.words[1]
    assert billing(client)[instance_id]["billed_micros"] == driver.price * 30 // 3600


def test_billing_is_exact_per_second_at_the_price_the_api_reports(
    driver: Driver, fake: kit.RunningFake, client: httpx.Client, frozen: FrozenClock
) -> None:
    instance_id = driver.created_id(driver.create(client))
    assert driver.reported_price(client, instance_id) == driver.price
    frozen.advance(seconds(1234.9))
    row = billing(client)[instance_id]
    assert row == {
        "id": instance_id,
        "external": False,
        "label": LABEL,
        "price_per_hour": driver.price,
        "created": T0.timestamp(),
        "terminated": None,
        "billed_micros": driver.price * 1234 // 3600,
    }
    assert fake.state.billing() == list(billing(client).values())

    frozen.advance(seconds(0.1))
    assert driver.destroy(client, instance_id).status_code == 200
    frozen.advance(seconds(7200))
    row = billing(client)[instance_id]
    assert row["terminated"] == (T0 + seconds(1235)).timestamp()
    assert row["billed_micros"] == driver.price * 1235 // 3600


def test_a_lying_destroy_keeps_billing(
    driver: Driver, fake: kit.RunningFake, client: httpx.Client, frozen: FrozenClock
) -> None:
    instance_id = driver.created_id(driver.create(client))
    frozen.advance(seconds(600))
    fake.state.faults.lying_destroy = True
    assert driver.destroy(client, instance_id).status_code == 200
    frozen.advance(seconds(3000))
    row = billing(client)[instance_id]
    assert row["terminated"] is None
    assert row["billed_micros"] == driver.price * 3600 // 3600
    assert driver.status(client, instance_id) == driver.words[1]


def test_a_lying_create_bills_the_instance_it_made(
    driver: Driver, fake: kit.RunningFake, client: httpx.Client, frozen: FrozenClock
) -> None:
    fake.state.faults.lying_create = True
    assert driver.create(client).status_code == 500
    frozen.advance(seconds(60))
    (row,) = billing(client).values()
    assert (row["label"], row["billed_micros"]) == (LABEL, driver.price * 60 // 3600)
    assert driver.listing(client).status_code == 200  # and it shows in the account's list
    assert row["id"] in driver.listing(client).text


def test_fail_next_restricted_to_destroy(
    driver: Driver, fake: kit.RunningFake, client: httpx.Client
) -> None:
    instance_id = driver.created_id(driver.create(client))
    client.post("/_fake/faults", json={"fail_next": 1, "operations": ["destroy"]})
    assert driver.listing(client).status_code == 200
    assert driver.status(client, instance_id) == driver.words[0]
    assert driver.destroy(client, instance_id).status_code == 500
    assert fake.state.instances[instance_id].terminated is None
    assert driver.destroy(client, instance_id).status_code == 200
    assert fake.state.instances[instance_id].terminated is not None


def test_fail_restricted_to_the_listing(
    driver: Driver, fake: kit.RunningFake, client: httpx.Client
) -> None:
    instance_id = driver.created_id(driver.create(client))
    client.post("/_fake/faults", json={"fail_all": True, "operations": ["list"]})
    assert driver.listing(client).status_code == 500
    assert driver.status(client, instance_id) == driver.words[0]  # one instance is not a list
    assert driver.destroy(client, instance_id).status_code == 200
    assert driver.create(client).status_code < 300
    client.post("/_fake/faults", json={"fail_all": False})
    assert driver.listing(client).status_code == 200
    logged = {tuple(r["operations"]) for r in fake.state.requests}
    assert {("create",), ("destroy",), ("list",), ("show",)} <= logged


def test_fail_all_fails_every_provider_call_but_not_the_control_api(
    driver: Driver, fake: kit.RunningFake, client: httpx.Client
) -> None:
    client.post("/_fake/faults", json={"fail_all": True, "fail_status": 503})
    assert driver.create(client).status_code == 503
    assert driver.listing(client).status_code == 503
    assert fake.state.instances == {}
    assert client.get("/_fake/billing").json() == []

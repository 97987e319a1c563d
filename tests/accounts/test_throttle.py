"""Login throttling, in memory and through the machine's Redis; time moves on a FrozenClock."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from gp4u.accounts.throttle import (
    ACCOUNT_LIMIT,
    ADDRESS_LIMIT,
    WINDOW_SECONDS,
    Decision,
    LoginThrottle,
    MemoryThrottleStore,
    RedisThrottleStore,
    ThrottleStore,
    Window,
    address_key,
    retry_after,
)
from gp4u.kit.clock import FrozenClock
from tests.conftest import T0

REDIS_URL = "redis://127.0.0.1:6379/13"
ALICE, BOB = "alice@example.com", "bob@example.com"
HOME, OFFICE = "198.51.100.7", "203.0.113.9"


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis: Redis) -> AsyncIterator[str]:
    name = f"test:login:{uuid.uuid4().hex}"
    yield name
    async for key in redis.scan_iter(match=f"{name}:*"):
        await redis.delete(key)


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> ThrottleStore:
    if request.param == "memory":
        return MemoryThrottleStore()
    redis: Redis = request.getfixturevalue("redis")
    return RedisThrottleStore(redis, prefix=request.getfixturevalue("prefix"))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def throttle(store: ThrottleStore, clock: FrozenClock) -> LoginThrottle:
    return LoginThrottle(store, clock)


async def fail(throttle: LoginThrottle, account: str = ALICE, address: str = HOME) -> Decision:
    decision = await throttle.check(account, address)
    assert decision.allowed, decision
    await throttle.record_failure(account, address, decision.attempt)
    return decision


def test_documented_limits() -> None:
    assert (ACCOUNT_LIMIT, ADDRESS_LIMIT, WINDOW_SECONDS) == (5, 20, 900)


async def test_five_failures_lock_the_account_until_the_first_leaves_the_window(
    throttle: LoginThrottle, clock: FrozenClock
) -> None:
    for _ in range(ACCOUNT_LIMIT):
        await fail(throttle)
        clock.advance(timedelta(minutes=1))
    # now T0+5min: the oldest failure (T0) leaves the window at T0+15min
    assert await throttle.check(ALICE, HOME) == Decision(False, 600)
    assert await throttle.check(ALICE, OFFICE) == Decision(False, 600)  # per account, any address
    clock.advance(timedelta(seconds=599))
    assert await throttle.check(ALICE, HOME) == Decision(False, 1)
    clock.advance(timedelta(seconds=1))
    assert (await throttle.check(ALICE, HOME)).allowed
    # that attempt filled the window again: the next failure to leave is T0+1min's
    assert await throttle.check(ALICE, HOME) == Decision(False, 60)


async def test_other_accounts_are_not_affected(throttle: LoginThrottle) -> None:
    for _ in range(ACCOUNT_LIMIT):
        await fail(throttle)
    assert not (await throttle.check(ALICE, HOME)).allowed
    assert (await throttle.check(BOB, HOME)).allowed


async def test_denied_attempts_do_not_extend_the_lockout(
    throttle: LoginThrottle, clock: FrozenClock
) -> None:
    for _ in range(ACCOUNT_LIMIT):
        await fail(throttle)
    for _ in range(50):
        clock.advance(timedelta(seconds=10))
        assert not (await throttle.check(ALICE, HOME)).allowed
    clock.advance(timedelta(seconds=WINDOW_SECONDS - 500))
    assert (await throttle.check(ALICE, HOME)).allowed


async def test_the_address_limit_spans_accounts(throttle: LoginThrottle) -> None:
    for n in range(ADDRESS_LIMIT):
        await fail(throttle, account=f"user{n}@example.com")
    decision = await throttle.check("fresh@example.com", HOME)
    assert decision == Decision(False, WINDOW_SECONDS)
    assert (await throttle.check("fresh@example.com", OFFICE)).allowed


async def test_success_resets_the_account(throttle: LoginThrottle) -> None:
    for _ in range(ACCOUNT_LIMIT - 1):
        await fail(throttle)
    decision = await throttle.check(ALICE, HOME)
    await throttle.record_success(ALICE, HOME, decision.attempt)
    for _ in range(ACCOUNT_LIMIT):
        await fail(throttle)
    assert not (await throttle.check(ALICE, HOME)).allowed


async def test_successful_logins_do_not_count_against_the_address(throttle: LoginThrottle) -> None:
    for n in range(3 * ADDRESS_LIMIT):
        account = f"user{n}@example.com"
        decision = await throttle.check(account, OFFICE)
        assert decision.allowed, n
        await throttle.record_success(account, OFFICE, decision.attempt)


async def test_an_unresolved_attempt_counts_as_a_failure(throttle: LoginThrottle) -> None:
    for _ in range(ACCOUNT_LIMIT):
        assert (await throttle.check(ALICE, HOME)).allowed
    assert not (await throttle.check(ALICE, HOME)).allowed


async def test_a_failure_recorded_without_a_check_counts(
    throttle: LoginThrottle, clock: FrozenClock
) -> None:
    for _ in range(ACCOUNT_LIMIT):
        await throttle.record_failure(ALICE, HOME)
    assert await throttle.check(ALICE, HOME) == Decision(False, WINDOW_SECONDS)
    clock.advance(timedelta(seconds=WINDOW_SECONDS))
    assert (await throttle.check(ALICE, HOME)).allowed


async def test_a_failure_counts_from_when_it_is_recorded(
    throttle: LoginThrottle, clock: FrozenClock
) -> None:
    for _ in range(ACCOUNT_LIMIT):
        decision = await throttle.check(ALICE, HOME)
        clock.advance(timedelta(seconds=30))  # a slow password check
        await throttle.record_failure(ALICE, HOME, decision.attempt)
    # the last failure was recorded just now; the first at T0+30s: free at T0+30s+15min
    assert await throttle.check(ALICE, HOME) == Decision(False, WINDOW_SECONDS + 30 - 150)


async def test_concurrent_attempts_cannot_pass_together(throttle: LoginThrottle) -> None:
    decisions = await asyncio.gather(*(throttle.check(ALICE, HOME) for _ in range(40)))
    assert sum(decision.allowed for decision in decisions) == ACCOUNT_LIMIT
    assert all(d.retry_after_seconds == WINDOW_SECONDS for d in decisions if not d.allowed)


async def test_account_names_are_case_folded(throttle: LoginThrottle) -> None:
    for spelling in ["Alice@Example.com", " alice@example.com", "ALICE@EXAMPLE.COM", ALICE, ALICE]:
        await fail(throttle, account=spelling)
    assert not (await throttle.check("aLiCe@example.com", OFFICE)).allowed


async def test_an_ipv6_subscriber_is_one_address(throttle: LoginThrottle) -> None:
    for n in range(ADDRESS_LIMIT):
        await fail(throttle, account=f"user{n}@example.com", address=f"2001:db8:1:2::{n + 1:x}")
    assert not (await throttle.check("fresh@example.com", "2001:db8:1:2:ffff::1")).allowed
    assert (await throttle.check("fresh@example.com", "2001:db8:1:3::1")).allowed


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        (" 198.51.100.7 ", "198.51.100.7"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::9", "2001:db8:1:2::/64"),
        ("testclient", "testclient"),
        ("Unix-Socket", "unix-socket"),
    ],
)
def test_address_keys(raw: str, key: str) -> None:
    assert address_key(raw) == key


def test_retry_after_is_when_enough_entries_leave() -> None:
    window = Window("k", limit=3, seconds=100)
    assert retry_after([], window, 50) == 0
    assert retry_after([10, 20], window, 50) == 0
    assert retry_after([10, 20, 30], window, 50) == 60
    assert retry_after([10, 20, 30, 40], window, 50) == 70


async def test_the_memory_store_sweeps_idle_windows(clock: FrozenClock) -> None:
    store = MemoryThrottleStore()
    store.SWEEP_AT = 10
    throttle = LoginThrottle(store, clock)
    for n in range(5):
        await fail(throttle, account=f"user{n}@example.com", address=f"192.0.2.{n}")
    assert len(store._entries) == 10
    clock.advance(timedelta(seconds=WINDOW_SECONDS))
    await fail(throttle)
    assert len(store._entries) == 2


async def test_processes_share_windows_through_redis(redis: Redis, prefix: str) -> None:
    clock = FrozenClock(T0)
    other_client = Redis.from_url(REDIS_URL)
    try:
        first = LoginThrottle(RedisThrottleStore(redis, prefix=prefix), clock)
        second = LoginThrottle(RedisThrottleStore(other_client, prefix=prefix), clock)
        for n in range(ACCOUNT_LIMIT):
            await fail(first if n % 2 else second)
        assert not (await first.check(ALICE, HOME)).allowed
        assert not (await second.check(ALICE, HOME)).allowed
    finally:
        await other_client.aclose()


async def test_redis_keys_expire_and_do_not_name_the_account(redis: Redis, prefix: str) -> None:
    throttle = LoginThrottle(RedisThrottleStore(redis, prefix=prefix), FrozenClock(T0))
    await fail(throttle)
    keys = [key.decode() async for key in redis.scan_iter(match=f"{prefix}:*")]
    assert len(keys) == 2
    for key in keys:
        assert "alice" not in key and HOME not in key
        assert 0 < await redis.pttl(key) <= WINDOW_SECONDS * 1000

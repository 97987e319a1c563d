"""Login throttling per account and per client address: a sliding-window log.

Limits (`ThrottlePolicy`): at most 5 failed logins per account and 20 per client address in any
15 minutes. NIST SP 800-63B (Rev. 3, §5.2.2) caps consecutive failures at 100 per account; we are
far stricter, since a web login needs no more than a few typos, and 20 per address leaves room for
several people behind one NAT. A denied attempt is not counted, so a locked-out user may try again
once the oldest counted failure is 15 minutes old. The account key is the login name as typed
(case-folded), whether or not such an account exists, so throttling reveals nothing about which
accounts exist. IPv6 clients are keyed by their /64, the block one subscriber usually holds.

An allowed attempt is counted at once, as if it had failed, so concurrent attempts cannot all pass
the check before the first failure is recorded (the Redis store admits atomically in Lua).
`record_success` clears the account's window and takes the attempt back from the address's window;
`record_failure` stamps it with the failure time; an attempt never resolved stays counted.

Two stores: in memory (embedded mode) and Redis (distributed mode: every process shares it).
Time comes from the injected clock, so tests move a `FrozenClock` instead of sleeping.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from redis.asyncio import Redis

from gp4u.kit.clock import Clock

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW_SECONDS = 15 * 60
IPV6_PREFIX = 64


@dataclass(frozen=True)
class ThrottlePolicy:
    account_limit: int = ACCOUNT_LIMIT
    address_limit: int = ADDRESS_LIMIT
    window_seconds: float = WINDOW_SECONDS


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_seconds: int  # 0 when allowed; else the Retry-After header's value
    attempt: str | None = None  # when allowed: pass to record_failure / record_success


@dataclass(frozen=True)
class Window:
    key: str
    limit: int
    seconds: float


class ThrottleStore(Protocol):
    async def admit(self, windows: Sequence[Window], now: float, attempt: str) -> float:
        """Atomically: if every window has room, count `attempt` in each and return 0; else
        return the seconds until all of them have room, counting nothing."""
        ...

    async def stamp(self, window: Window, attempt: str, now: float) -> None:
        """Count `attempt` in the window at `now` (again, if already counted)."""
        ...

    async def forget(self, key: str, attempt: str) -> None: ...

    async def clear(self, key: str) -> None: ...


def retry_after(scores: Sequence[float], window: Window, now: float) -> float:
    """Seconds until the window (its live entries' times, ascending) has room for one more."""
    excess = len(scores) - window.limit
    return 0.0 if excess < 0 else scores[excess] + window.seconds - now


class LoginThrottle:
    def __init__(
        self, store: ThrottleStore, clock: Clock, policy: ThrottlePolicy | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self.policy = policy or ThrottlePolicy()

    async def check(self, account: str, address: str) -> Decision:
        """Whether a login may be attempted now; if so the attempt is counted until resolved."""
        attempt = secrets.token_hex(8)
        wait = await self._store.admit(self._windows(account, address), self._now(), attempt)
        if wait > 0:
            return Decision(allowed=False, retry_after_seconds=max(1, math.ceil(wait)))
        return Decision(allowed=True, retry_after_seconds=0, attempt=attempt)

    async def record_failure(self, account: str, address: str, attempt: str | None = None) -> None:
        """A failed login: the attempt (or a new one, without a prior check) counts from now."""
        now, attempt = self._now(), attempt or secrets.token_hex(8)
        for window in self._windows(account, address):
            await self._store.stamp(window, attempt, now)

    async def record_success(self, account: str, address: str, attempt: str | None = None) -> None:
        """A successful login: the account starts afresh; the address no longer counts it."""
        account_window, address_window = self._windows(account, address)
        await self._store.clear(account_window.key)
        if attempt is not None:
            await self._store.forget(address_window.key, attempt)

    def _windows(self, account: str, address: str) -> tuple[Window, Window]:
        policy = self.policy
        return (
            Window(
                _key("account", account_key(account)), policy.account_limit, policy.window_seconds
            ),
            Window(
                _key("address", address_key(address)), policy.address_limit, policy.window_seconds
            ),
        )

    def _now(self) -> float:
        return self._clock.now().timestamp()


def account_key(account: str) -> str:
    return account.strip().casefold()


def address_key(address: str) -> str:
    """The client's address, IPv6 reduced to its /64 (IPv4-mapped IPv6 to the IPv4 address)."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip().lower()
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False).with_prefixlen
    return str(parsed)


def _key(kind: str, name: str) -> str:
    """A fixed-length, non-identifying store key (e-mail addresses do not land in Redis)."""
    return f"{kind}:{hashlib.sha256(name.encode()).hexdigest()[:32]}"


class MemoryThrottleStore:
    """One process's windows (embedded mode). Idle windows are swept once there are many."""

    SWEEP_AT = 10_000

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, float]] = {}
        self._expires: dict[str, float] = {}

    async def admit(self, windows: Sequence[Window], now: float, attempt: str) -> float:
        wait = max(retry_after(self._live(window, now), window, now) for window in windows)
        if wait > 0:
            return wait
        for window in windows:
            self._put(window, attempt, now)
        return 0.0

    async def stamp(self, window: Window, attempt: str, now: float) -> None:
        self._put(window, attempt, now)

    async def forget(self, key: str, attempt: str) -> None:
        self._entries.get(key, {}).pop(attempt, None)

    async def clear(self, key: str) -> None:
        self._entries.pop(key, None)
        self._expires.pop(key, None)

    def _put(self, window: Window, attempt: str, now: float) -> None:
        if len(self._entries) >= self.SWEEP_AT:
            self._sweep(now)
        self._entries.setdefault(window.key, {})[attempt] = now
        self._expires[window.key] = now + window.seconds

    def _live(self, window: Window, now: float) -> list[float]:
        entries = self._entries.get(window.key, {})
        cutoff = now - window.seconds
        for attempt in [name for name, at in entries.items() if at <= cutoff]:
            del entries[attempt]
        return sorted(entries.values())

    def _sweep(self, now: float) -> None:
        for key in [key for key, expires in self._expires.items() if expires <= now]:
            self._entries.pop(key, None)
            del self._expires[key]


# Atomic admission: drop entries that left each window; if any window is full, return the time of
# the entry whose expiry frees it (one per window, "" when it has room) and count nothing; else
# count the attempt everywhere. ARGV: attempt, now, then (cutoff, limit, ttl ms) per key.
_ADMIT = """
local blocking = {}
local full = false
for i = 1, #KEYS do
  local cutoff, limit = ARGV[3 * i], tonumber(ARGV[3 * i + 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', cutoff)
  local count = redis.call('ZCARD', KEYS[i])
  blocking[i] = ''
  if count >= limit then
    full = true
    blocking[i] = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')[2]
  end
end
if not full then
  for i = 1, #KEYS do
    redis.call('ZADD', KEYS[i], ARGV[2], ARGV[1])
    redis.call('PEXPIRE', KEYS[i], ARGV[3 * i + 2])
  end
end
return blocking
"""


class RedisThrottleStore:
    """Windows shared by every process: one sorted set per key, scored by attempt time."""

    def __init__(self, redis: Redis, prefix: str = "gp4u:login") -> None:
        self._redis = redis
        self._prefix = prefix

    async def admit(self, windows: Sequence[Window], now: float, attempt: str) -> float:
        args: list[str] = [attempt, repr(now)]
        for window in windows:
            args += [repr(now - window.seconds), str(window.limit), str(_ttl_ms(window))]
        keys = [self._name(window.key) for window in windows]
        blocking = cast("list[bytes]", await self._redis.eval(_ADMIT, len(keys), *keys, *args))
        waits = [
            float(score) + window.seconds - now
            for score, window in zip(blocking, windows, strict=True)
            if score
        ]
        return max(waits, default=0.0)

    async def stamp(self, window: Window, attempt: str, now: float) -> None:
        name = self._name(window.key)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(name, {attempt: now})
            pipe.pexpire(name, _ttl_ms(window))
            await pipe.execute()

    async def forget(self, key: str, attempt: str) -> None:
        await self._redis.zrem(self._name(key), attempt)

    async def clear(self, key: str) -> None:
        await self._redis.delete(self._name(key))

    def _name(self, key: str) -> str:
        return f"{self._prefix}:{key}"


def _ttl_ms(window: Window) -> int:
    return math.ceil(window.seconds * 1000)

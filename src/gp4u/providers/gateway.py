"""The one gateway for every outbound call to a provider.

Each call passes the provider's circuit breaker (fails fast while open), waits for its rate limit
(token bucket per provider account), and runs with connect and total timeouts. Transient failures
(connection errors, timeouts, 5xx, 429) are retried with exponential backoff and jitter, honouring
Retry-After, within a bounded number of attempts and a total time budget. A non-idempotent
request (a create) is retried only when it certainly did not reach the provider (connection
refused, 429); otherwise the failure is `OutcomeUnknown` and the caller reconciles by tag.

Adapters get a `ProviderClient` and never import the HTTP library; a test enforces that only this
module does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from gp4u.kit.clock import Clock, SystemClock
from gp4u.kit.logging import get_logger
from gp4u.providers import metrics
from gp4u.providers.base import (
    BreakerOpen,
    InvalidResponse,
    OutcomeUnknown,
    ProviderAuthError,
    ProviderRejected,
    ProviderUnavailable,
)
from gp4u.providers.breaker import BreakerPolicy, BreakerState, CircuitBreaker
from gp4u.providers.health import CallStats
from gp4u.providers.ratelimit import RateLimiter, RatePolicy, account_id

log = get_logger(__name__)

Transport = httpx.AsyncBaseTransport  # injectable, so tests and sandboxes can route calls
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_MAX_RETRY_AFTER = 30.0


@dataclass(frozen=True)
class CallPolicy:
    """How calls to one provider behave. Defaults suit a public marketplace API."""

    timeout: float = 20.0
    connect_timeout: float = 5.0
    attempts: int = 3
    max_seconds: float = 30.0  # total budget for one logical call, retries included
    backoff_seconds: float = 0.25  # first backoff; doubles, with full jitter, up to 8 s
    rate: RatePolicy | None = None
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)


@dataclass(frozen=True)
class ProviderResponse:
    """A provider's answer, read in full. `json()` raises InvalidResponse on malformed JSON."""

    provider: str
    method: str
    path: str
    status: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError as exc:
            raise InvalidResponse(
                self.provider, f"malformed JSON from {self.method} {self.path}: {exc}"
            ) from exc

    def raise_for_status(self) -> ProviderResponse:
        """401/403 → ProviderAuthError; other 4xx → ProviderRejected (with a body excerpt)."""
        if self.ok:
            return self
        where = f"{self.method} {self.path}: HTTP {self.status}"
        if self.status in (401, 403):
            raise ProviderAuthError(self.provider, f"{where} (credentials refused)")
        excerpt = " ".join(self.text.split())[:200]
        raise ProviderRejected(self.provider, f"{where} {excerpt}".strip(), self.status)


class _Retryable(Exception):
    """One failed attempt that may be tried again; `error` is what to raise when we stop."""

    def __init__(self, error: ProviderUnavailable, retry_after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after = retry_after


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after", "").strip()
    try:
        return min(max(float(value), 0.0), _MAX_RETRY_AFTER)
    except ValueError:
        return None


@dataclass
class _Budget:
    """When one logical call must be over (event-loop time), extended by rate-limit queueing."""

    deadline: float


class ProviderClient:
    """Calls one provider's API through its breaker, rate limit, timeouts and retries."""

    def __init__(
        self,
        provider: str,
        http: httpx.AsyncClient,
        policy: CallPolicy,
        breaker: CircuitBreaker,
        limiter: RateLimiter | None,
        stats: CallStats,
        clock: Clock,
    ) -> None:
        self.provider = provider
        self.policy = policy
        self.breaker = breaker
        self.limiter = limiter
        self.stats = stats
        self._http = http
        self._clock = clock

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send, require a 2xx, and parse the JSON body."""
        response = await self.request(method, path, **kwargs)
        return response.raise_for_status().json()

    async def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - an HTTP timeout, not a cancel scope
    ) -> ProviderResponse:
        """One logical call. Non-transient answers (2xx-4xx except 429) are returned as they are;
        transient failures are retried within the policy and end as ProviderUnavailable (or
        OutcomeUnknown for a non-idempotent call that may have taken effect)."""
        method = method.upper()
        safe = method in _IDEMPOTENT if idempotent is None else idempotent
        policy = self.policy
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(policy.attempts) | stop_before_delay(policy.max_seconds),
            wait=self._wait,
            reraise=True,
        )
        request_timeout = httpx.Timeout(
            timeout or policy.timeout, connect=min(policy.connect_timeout, timeout or 1e9)
        )
        budget = _Budget(asyncio.get_running_loop().time() + policy.max_seconds)
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(
                        method,
                        path,
                        safe,
                        budget,
                        params=params,
                        json=json,
                        data=data,
                        content=content,
                        headers=headers,
                        timeout=request_timeout,
                    )
        except _Retryable as exc:
            raise exc.error from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_random_exponential(multiplier=self.policy.backoff_seconds, max=8)(state)
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return max(backoff, exc.retry_after)
        return backoff

    async def _attempt(
        self, method: str, path: str, safe: bool, budget: _Budget, **kwargs: Any
    ) -> ProviderResponse:
        try:
            budget.deadline += await self._admit()  # queueing for the rate limit is not lateness
        except RedisError as exc:  # fail closed: never exceed a limit we cannot see
            raise ProviderUnavailable(
                self.provider, f"shared breaker/rate-limit state unavailable: {exc!r}"
            ) from exc
        where = f"{method} {path}"
        started = time.perf_counter()
        try:
            async with asyncio.timeout_at(budget.deadline):
                raw = await self._http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:  # never reached the provider: safe to retry
            await self._failed("transport", None)
            raise _Retryable(
                ProviderUnavailable(self.provider, f"{where}: cannot connect")
            ) from exc
        except TimeoutError as exc:  # the call's whole budget is spent: no more attempts
            await self._failed("timeout", time.perf_counter() - started)
            seconds = self.policy.max_seconds
            raise self._unavailable(safe, f"{where}: no answer within {seconds:g}s") from exc
        except httpx.TimeoutException as exc:
            await self._failed("timeout", time.perf_counter() - started)
            error = self._unavailable(safe, f"{where}: timed out")
            if safe or isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
                raise _Retryable(error) from exc
            raise error from exc
        except httpx.TransportError as exc:
            await self._failed("transport", time.perf_counter() - started)
            error = self._unavailable(safe, f"{where}: connection failed ({type(exc).__name__})")
            if safe:
                raise _Retryable(error) from exc
            raise error from exc
        seconds = time.perf_counter() - started
        response = ProviderResponse(
            self.provider, method, path, raw.status_code, raw.headers, raw.content
        )
        if raw.status_code == 429:  # refused before processing: safe to retry even a create
            self._count("rate_limited", seconds)
            await self.breaker.success()  # it answered; being throttled is not being down
            raise _Retryable(
                ProviderUnavailable(self.provider, f"{where}: rate limited (HTTP 429)"),
                _retry_after(raw.headers),
            )
        if raw.status_code >= 500:
            await self._failed("server_error", seconds)
            error = self._unavailable(safe, f"{where}: HTTP {raw.status_code}")
            if safe:
                raise _Retryable(error, _retry_after(raw.headers))
            raise error
        await self.breaker.success()
        self._count("ok" if raw.status_code < 400 else "client_error", seconds)
        log.debug("provider call", provider=self.provider, call=where, status=raw.status_code)
        return response

    async def _admit(self) -> float:
        """Pass the breaker (or fail fast) and wait for a rate-limit slot; a caller that had to
        wait asks the breaker again, which may have opened meanwhile. Returns seconds waited."""
        await self._pass_breaker()
        waited = 0.0
        if self.limiter is not None:
            waited = await self.limiter.acquire()
            if waited:
                metrics.RATE_LIMIT_WAITS.labels(self.provider).inc()
                metrics.RATE_LIMIT_WAIT.labels(self.provider).inc(waited)
                await self._pass_breaker()
        return waited

    async def _pass_breaker(self) -> None:
        verdict = await self.breaker.allow()
        if not verdict.allowed:
            self._count("breaker_open", None)
            raise BreakerOpen(
                self.provider, f"circuit breaker open; next probe in {verdict.retry_in:.0f}s"
            )

    def _unavailable(self, safe: bool, message: str) -> ProviderUnavailable:
        if safe:
            return ProviderUnavailable(self.provider, message)
        return OutcomeUnknown(self.provider, f"{message}; the request may have taken effect")

    async def _failed(self, outcome: str, seconds: float | None) -> None:
        await self.breaker.failure()
        self._count(outcome, seconds)

    def _count(self, outcome: str, seconds: float | None) -> None:
        ok = outcome in ("ok", "client_error")  # throttled calls failed, though the API is up
        self.stats.record(self._clock.now().timestamp(), ok, seconds)
        metrics.REQUESTS.labels(self.provider, outcome).inc()
        if seconds is not None:
            metrics.LATENCY.labels(self.provider).observe(seconds)


class Gateway:
    """Owns the breakers, rate limiters, call statistics and HTTP connections of every
    provider. With Redis, breakers and rate limits are shared by every process."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        redis: Redis | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.redis = redis
        self._transport = transport
        self._breakers: dict[str, CircuitBreaker] = {}
        self._limiters: dict[str, RateLimiter] = {}
        self._stats: dict[str, CallStats] = {}
        self._http: list[httpx.AsyncClient] = []

    def client(
        self,
        provider: str,
        *,
        base_url: str = "",
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        policy: CallPolicy | None = None,
        api_key: str | None = None,
    ) -> ProviderClient:
        """A client for one provider (and account: `api_key` only names the rate bucket)."""
        policy = policy or CallPolicy()
        http = httpx.AsyncClient(
            base_url=base_url,
            headers=dict(headers or {}),
            auth=auth,
            timeout=httpx.Timeout(policy.timeout, connect=policy.connect_timeout),
            transport=self._transport,
            follow_redirects=True,
        )
        self._http.append(http)
        limiter = None
        if policy.rate is not None:
            key = f"{provider}:{account_id(api_key)}"
            limiter = self._limiters.get(key)
            if limiter is None:
                limiter = self._limiters[key] = RateLimiter(
                    key, policy.rate, SystemClock(), self.redis
                )
        return ProviderClient(
            provider,
            http,
            policy,
            self.breaker(provider, policy.breaker),
            limiter,
            self.stats(provider),
            self.clock,
        )

    def breaker(self, provider: str, policy: BreakerPolicy | None = None) -> CircuitBreaker:
        breaker = self._breakers.get(provider)
        if breaker is None:
            breaker = self._breakers[provider] = CircuitBreaker(
                provider, policy or BreakerPolicy(), self.clock, self.redis, _count_transition
            )
        return breaker

    def stats(self, provider: str) -> CallStats:
        return self._stats.setdefault(provider, CallStats())

    def limiters(self, provider: str) -> list[RateLimiter]:
        return [lim for key, lim in self._limiters.items() if key.startswith(f"{provider}:")]

    async def aclose(self) -> None:
        for http in self._http:
            await http.aclose()
        self._http.clear()


def _count_transition(provider: str, before: BreakerState, after: BreakerState) -> None:
    metrics.BREAKER_TRANSITIONS.labels(provider, before.value, after.value).inc()
    log.warning("breaker transition", provider=provider, before=before, after=after)

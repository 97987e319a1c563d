"""The one gateway for outbound HTTP to providers: timeouts on every call, and bounded retries
with exponential backoff and jitter for transient failures (connection errors, 5xx, 429 with
Retry-After honoured). Only idempotent requests are retried."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from gp4u.providers.base import ProviderError

Transport = httpx.AsyncBaseTransport  # injectable, so tests and sandboxes can route calls

_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class _Transient(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _Transient | httpx.TransportError)


def _wait(state: RetryCallState) -> float:
    backoff = wait_random_exponential(multiplier=0.25, max=8)(state)
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None else None
    if isinstance(exc, _Transient):
        retry_after = exc.response.headers.get("Retry-After", "")
        if retry_after.isdigit():
            return max(backoff, min(float(retry_after), 30.0))
    return backoff


class ProviderHttp:
    """An HTTP client for one provider. Use as an async context manager."""

    def __init__(
        self,
        provider: str,
        *,
        base_url: str = "",
        timeout: float = 20.0,
        connect_timeout: float = 5.0,
        attempts: int = 3,
        max_seconds: float = 60.0,
        headers: Mapping[str, str] | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.provider = provider
        self.attempts = attempts
        self.max_seconds = max_seconds
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            headers=dict(headers or {}),
            transport=transport,
            follow_redirects=True,
        )

    async def __aenter__(self) -> ProviderHttp:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._client.aclose()

    async def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        """Send one request; retried only when idempotent. Non-2xx raises ProviderError."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(_is_transient),
            stop=stop_after_attempt(self.attempts if method.upper() in _IDEMPOTENT else 1)
            | stop_after_delay(self.max_seconds),
            wait=_wait,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._client.request(method, url, **kwargs)  # type: ignore[arg-type]
                    if response.status_code in _TRANSIENT_STATUS:
                        raise _Transient(response)
        except _Transient as exc:
            raise ProviderError(
                self.provider, f"{method} {url} failed: HTTP {exc.response.status_code}"
            ) from exc
        except httpx.TransportError as exc:
            raise ProviderError(self.provider, f"{method} {url} failed: {exc!r}") from exc
        if response.is_error:
            raise ProviderError(
                self.provider, f"{method} {url} failed: HTTP {response.status_code}"
            )
        return response

    async def get_text(self, url: str) -> str:
        response = await self.request("GET", url)
        return response.text

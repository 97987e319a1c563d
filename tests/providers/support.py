"""Helpers shared by the provider adapter tests."""

from __future__ import annotations

from typing import Any

import httpx

from gp4u.fakes.kit import FakeState


class ArmBefore(httpx.AsyncBaseTransport):
    """The real network, but arming fake faults just as one request goes out: the adapter's
    lookups before it are answered normally, that request's answer is not."""

    def __init__(self, state: FakeState, method: str, path: str, faults: dict[str, Any]) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._state, self._call, self._faults = state, (method, path), faults

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if (request.method, request.url.path) == self._call:
            for name, value in self._faults.items():
                setattr(self._state.faults, name, value)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()

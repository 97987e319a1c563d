"""The agent's HTTP client to the broker's `/api/v1/agent/*` endpoints. It keeps the agent secret
to itself; neither the token nor the secret ever goes into an exception message or a log line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from gp4u.agent.config import parse_time

PREFIX = "/api/v1/agent"


class BrokerUnavailable(Exception):
    """No usable answer (network error, timeout, 5xx, unexpected body): worth retrying."""


class Unauthorized(Exception):
    """401: the token is unknown or used, or the secret no longer names a session."""


@dataclass(frozen=True)
class Registration:
    session_id: int
    agent_secret: str = field(repr=False)
    heartbeat_seconds: float | None
    broker_timeout_seconds: float | None
    hard_deadline: datetime | None
    ends_at: datetime | None


@dataclass(frozen=True)
class Beat:
    action: str
    state: str | None
    hard_deadline: datetime | None
    ends_at: datetime | None


def _time(body: dict[str, Any], key: str) -> datetime | None:
    value = body.get(key)
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


def _seconds(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)


class BrokerClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + PREFIX, timeout=timeout, transport=transport
        )
        self._secret: str | None = None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, body: dict[str, Any], *, auth: bool) -> dict[str, Any]:
        headers = {}
        if auth:
            if self._secret is None:
                raise RuntimeError("not registered")
            headers["Authorization"] = f"Bearer {self._secret}"
        try:
            response = await self._http.post(path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise BrokerUnavailable(f"{type(exc).__name__}: {exc}") from None
        if response.status_code == 401:
            raise Unauthorized(_error_text(response))
        if response.status_code != 200:
            raise BrokerUnavailable(f"HTTP {response.status_code}: {_error_text(response)}")
        try:
            data = response.json()
        except ValueError:
            raise BrokerUnavailable("the answer is not JSON") from None
        if not isinstance(data, dict):
            raise BrokerUnavailable("the answer is not a JSON object")
        return data

    async def register(self, token: str, facts: dict[str, Any] | None) -> Registration:
        data = await self._post("/register", {"token": token, "facts": facts}, auth=False)
        session_id, secret = data.get("session_id"), data.get("agent_secret")
        if isinstance(session_id, bool) or not isinstance(session_id, int):
            raise BrokerUnavailable("registration answer without a session_id")
        if not isinstance(secret, str) or not secret:
            raise BrokerUnavailable("registration answer without an agent_secret")
        self._secret = secret
        return Registration(
            session_id=session_id,
            agent_secret=secret,
            heartbeat_seconds=_seconds(data, "heartbeat_seconds"),
            broker_timeout_seconds=_seconds(data, "broker_timeout_seconds"),
            hard_deadline=_time(data, "hard_deadline"),
            ends_at=_time(data, "ends_at"),
        )

    async def heartbeat(self, facts: dict[str, Any] | None) -> Beat:
        data = await self._post("/heartbeat", {"facts": facts}, auth=True)
        action = data.get("action")
        if not isinstance(action, str):
            raise BrokerUnavailable("heartbeat answer without an action")
        state = data.get("state")
        return Beat(
            action=action,
            state=state if isinstance(state, str) else None,
            hard_deadline=_time(data, "hard_deadline"),
            ends_at=_time(data, "ends_at"),
        )

    async def done(self, exit_code: int | None, message: str | None) -> str | None:
        """Tell the broker the workload finished; returns the session's state."""
        data = await self._post("/done", {"exit_code": exit_code, "message": message}, auth=True)
        state = data.get("state")
        return state if isinstance(state, str) else None


def _error_text(response: httpx.Response) -> str:
    """The broker's `{"error", "detail"}` envelope as one short line."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and "error" in body:
        return f"{body.get('error')}: {body.get('detail')}"[:200]
    return str(body)[:200]

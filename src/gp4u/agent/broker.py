"""The agent's HTTP clients to the broker: `BrokerClient` for a launched session's
`/api/v1/agent/*` endpoints and `HostBrokerClient` for a host machine's
`/api/v1/hosts/agent/*` endpoints. Both keep the agent secret to themselves; neither the token
nor the secret ever goes into an exception message or a log line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from gp4u.agent.config import parse_time

PREFIX = "/api/v1/agent"
HOST_PREFIX = "/api/v1/hosts/agent"


class BrokerUnavailable(Exception):
    """No usable answer (network error, timeout, 5xx, unexpected body): worth retrying."""


class Rejected(BrokerUnavailable):
    """A 4xx other than 401, 408 and 429: the broker refused the request itself (a mistyped
    token, say). Sending it again will not help; callers that only retry treat it as
    unavailable."""


class Unauthorized(Exception):
    """401: the token is unknown or used, or the secret no longer names a session (machine)."""


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


@dataclass(frozen=True)
class HostRegistration:
    machine_id: int
    agent_secret: str = field(repr=False)
    heartbeat_seconds: float | None


@dataclass(frozen=True)
class HostBeat:
    machine_id: int | None
    status: str | None  # "listed" | "paused" | "retired"
    action: str  # "continue" | "stop"
    heartbeat_seconds: float | None


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


def _int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    return None if isinstance(value, bool) or not isinstance(value, int) else value


def _str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    return value if isinstance(value, str) else None


def _secret(body: dict[str, Any]) -> str:
    secret = body.get("agent_secret")
    if not isinstance(secret, str) or not secret:
        raise BrokerUnavailable("registration answer without an agent_secret")
    return secret


class _JsonBroker:
    """POSTs JSON objects under one URL prefix of the broker and maps the answers: 200 with a JSON
    object is the answer, 401 raises `Unauthorized`, another refusal `Rejected`, anything else
    `BrokerUnavailable`."""

    def __init__(
        self,
        base_url: str,
        prefix: str,
        *,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + prefix, timeout=timeout, transport=transport
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
        if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
            raise Rejected(f"HTTP {response.status_code}: {_error_text(response)}")
        if response.status_code != 200:
            raise BrokerUnavailable(f"HTTP {response.status_code}: {_error_text(response)}")
        try:
            data = response.json()
        except ValueError:
            raise BrokerUnavailable("the answer is not JSON") from None
        if not isinstance(data, dict):
            raise BrokerUnavailable("the answer is not a JSON object")
        return data


class BrokerClient(_JsonBroker):
    """A launched machine's session: register, heartbeat, done."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, PREFIX, timeout=timeout, transport=transport)

    async def register(self, token: str, facts: dict[str, Any] | None) -> Registration:
        data = await self._post("/register", {"token": token, "facts": facts}, auth=False)
        session_id = _int(data, "session_id")
        if session_id is None:
            raise BrokerUnavailable("registration answer without a session_id")
        self._secret = _secret(data)
        return Registration(
            session_id=session_id,
            agent_secret=self._secret,
            heartbeat_seconds=_seconds(data, "heartbeat_seconds"),
            broker_timeout_seconds=_seconds(data, "broker_timeout_seconds"),
            hard_deadline=_time(data, "hard_deadline"),
            ends_at=_time(data, "ends_at"),
        )

    async def heartbeat(self, facts: dict[str, Any] | None) -> Beat:
        data = await self._post("/heartbeat", {"facts": facts}, auth=True)
        action = _str(data, "action")
        if action is None:
            raise BrokerUnavailable("heartbeat answer without an action")
        return Beat(
            action=action,
            state=_str(data, "state"),
            hard_deadline=_time(data, "hard_deadline"),
            ends_at=_time(data, "ends_at"),
        )

    async def done(self, exit_code: int | None, message: str | None) -> str | None:
        """Tell the broker the workload finished; returns the session's state."""
        data = await self._post("/done", {"exit_code": exit_code, "message": message}, auth=True)
        return _str(data, "state")


class HostBrokerClient(_JsonBroker):
    """A host's own machine on the marketplace: register once with the one-time machine token,
    then heartbeat with the agent secret (from the registration or a saved one)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        agent_secret: str | None = None,
    ) -> None:
        super().__init__(base_url, HOST_PREFIX, timeout=timeout, transport=transport)
        self._secret = agent_secret or None

    @property
    def registered(self) -> bool:
        return self._secret is not None

    async def register(self, token: str, facts: dict[str, Any] | None) -> HostRegistration:
        data = await self._post("/register", {"token": token, "facts": facts}, auth=False)
        machine_id = _int(data, "machine_id")
        if machine_id is None:
            raise BrokerUnavailable("registration answer without a machine_id")
        self._secret = _secret(data)
        return HostRegistration(
            machine_id=machine_id,
            agent_secret=self._secret,
            heartbeat_seconds=_seconds(data, "heartbeat_seconds"),
        )

    async def heartbeat(self, facts: dict[str, Any] | None) -> HostBeat:
        data = await self._post("/heartbeat", {"facts": facts}, auth=True)
        action = _str(data, "action")
        if action is None:
            raise BrokerUnavailable("heartbeat answer without an action")
        return HostBeat(
            machine_id=_int(data, "machine_id"),
            status=_str(data, "status"),
            action=action,
            heartbeat_seconds=_seconds(data, "heartbeat_seconds"),
        )


def _error_text(response: httpx.Response) -> str:
    """The broker's `{"error", "detail"}` envelope as one short line."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and "error" in body:
        return f"{body.get('error')}: {body.get('detail')}"[:200]
    return str(body)[:200]

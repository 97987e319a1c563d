"""The agent's HTTP clients to the broker: `BrokerClient` for a launched session's
`/api/v1/agent/*` endpoints and `HostBrokerClient` for a host machine's
`/api/v1/hosts/agent/*` endpoints. Both keep the agent secret to themselves; neither the token
nor the secret ever goes into an exception message or a log line.

A host heartbeat reports the machine's runs (`RunReport`) and its answer may order runs
(`RunOrders`, parsed by `parse_runs`): see `gp4u.agent.hostruns`."""

from __future__ import annotations

import re
from collections.abc import Sequence
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


RUN_ID = re.compile(r"[0-9a-f]{12}")
RUN_ACTIONS = ("run", "stop")


@dataclass(frozen=True)
class RunReport:
    """One run this machine has a record of, as a heartbeat reports it."""

    id: str
    state: str  # "running" (booting counts) | "exited"
    exit_code: int | None  # once exited, when the process could write it

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "exit_code": self.exit_code}


@dataclass(frozen=True)
class RunOrder:
    """A run the broker wants on this machine: started ("run") or stopped ("stop"). `env` is
    the run's whole environment; it holds the session agent's token and is never shown."""

    id: str
    action: str  # "run" | "stop"
    command: str | None
    env: dict[str, str] | None = field(repr=False)


@dataclass(frozen=True)
class RunOrders:
    """A heartbeat answer's `runs` list. `listed` holds every well-formed id the list names,
    those of skipped entries too (a run named in a malformed entry is still wanted); `skipped`
    says why each skipped entry was skipped, never with its env."""

    orders: tuple[RunOrder, ...]
    listed: frozenset[str]
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class HostBeat:
    machine_id: int | None
    status: str | None  # "listed" | "paused" | "retired"
    action: str  # "continue" | "stop"
    heartbeat_seconds: float | None
    # None: the answer has no usable `runs` (an older broker): the runs stay as they are.
    runs: RunOrders | None = None
    runs_problem: str | None = None  # `runs` was there but not a list


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


def parse_runs(entries: list[Any]) -> RunOrders:
    """Validate a heartbeat answer's `runs` list entry by entry: a malformed entry is skipped
    (with the reason in `skipped`), never fatal."""
    orders: list[RunOrder] = []
    listed: set[str] = set()
    skipped: list[str] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            skipped.append(f"runs[{index}]: not an object")
            continue
        run_id = entry.get("id")
        if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id):
            skipped.append(f"runs[{index}]: no id of 12 lowercase hex characters")
            continue
        name = f"runs[{index}] ({run_id})"
        if run_id in listed:
            skipped.append(f"{name}: the id is listed twice")
            continue
        listed.add(run_id)
        action, command, env = entry.get("action"), entry.get("command"), entry.get("env")
        if action not in RUN_ACTIONS:
            skipped.append(f"{name}: unknown action {str(action)[:40]!r}")
        elif command is not None and (not isinstance(command, str) or "\0" in command):
            skipped.append(f"{name}: the command is not a string")
        elif env is not None and not _is_env(env):
            skipped.append(f"{name}: env does not map variable names to strings")
        else:
            env = None if env is None else dict(env)
            orders.append(RunOrder(run_id, str(action), command, env))
    return RunOrders(tuple(orders), frozenset(listed), tuple(skipped))


def _is_env(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str)
        and k
        and "=" not in k
        and "\0" not in k
        and isinstance(v, str)
        and "\0" not in v
        for k, v in value.items()
    )


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

    async def heartbeat(
        self, facts: dict[str, Any] | None, runs: Sequence[RunReport] = ()
    ) -> HostBeat:
        body = {"facts": facts, "runs": [run.as_json() for run in runs]}
        data = await self._post("/heartbeat", body, auth=True)
        action = _str(data, "action")
        if action is None:
            raise BrokerUnavailable("heartbeat answer without an action")
        orders, problem = None, None
        if isinstance(data.get("runs"), list):
            orders = parse_runs(data["runs"])
        elif data.get("runs") is not None:  # null counts as absent
            problem = f"runs is a {type(data['runs']).__name__}, not a list: ignored"
        return HostBeat(
            machine_id=_int(data, "machine_id"),
            status=_str(data, "status"),
            action=action,
            heartbeat_seconds=_seconds(data, "heartbeat_seconds"),
            runs=orders,
            runs_problem=problem,
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

"""A tiny in-test GP4U broker: the three `/api/v1/agent/*` endpoints and the two
`/api/v1/hosts/agent/*` endpoints of host mode, served for real on a free local port in a thread,
with switches for the answers the agent must handle. A host heartbeat's answer carries
`host_runs` (the runs handed out) when it is set; the runs each heartbeat reported are in
`host_heartbeats[i]["runs"]`."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "tok-one-time-4f9c2a7e"
SECRET = "agent-secret-d81b3e55"
HOST_TOKEN = "host-tok-one-time-0c5e91d2"
HOST_SECRET = "host-secret-6a2f47b9"


@dataclass
class BrokerState:
    tokens: set[str] = field(default_factory=lambda: {TOKEN})
    session_id: int = 7
    heartbeat_seconds: float = 0.2
    broker_timeout_seconds: float | None = None  # None: leave the agent's own value
    deadline_after_register: timedelta = timedelta(hours=1)
    action: str = "continue"
    registrations: list[dict[str, Any]] = field(default_factory=list)
    heartbeats: list[dict[str, Any]] = field(default_factory=list)
    done: list[dict[str, Any]] = field(default_factory=list)
    hard_deadline: datetime | None = None
    # Host mode: one machine, registered with a one-time token.
    host_tokens: set[str] = field(default_factory=lambda: {HOST_TOKEN})
    host_secrets: set[str] = field(default_factory=set)  # accepted agent secrets
    machine_id: int = 21
    host_heartbeat_seconds: float | None = 0.05  # None: leave the agent's own value
    host_status: str = "listed"
    host_action: str = "continue"
    host_unavailable: bool = False  # answer 503 to both host endpoints
    host_registrations: list[dict[str, Any]] = field(default_factory=list)
    host_heartbeats: list[dict[str, Any]] = field(default_factory=list)
    host_auth: list[str | None] = field(default_factory=list)  # each heartbeat's Authorization
    host_unavailable_answers: int = 0
    # The heartbeat answer's "runs" (any JSON, to send malformed ones too); None: no such key.
    host_runs: Any = None

    def host_reports(self) -> list[dict[str, Any]] | None:
        """The runs the last host heartbeat reported (None: no heartbeat yet)."""
        if not self.host_heartbeats:
            return None
        reports: list[dict[str, Any]] = self.host_heartbeats[-1]["runs"]
        return reports


def _error(status: int, name: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": name, "detail": detail}, status_code=status)


def create_broker(state: BrokerState) -> Starlette:
    def authorised(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {SECRET}"

    def times() -> dict[str, str | None]:
        deadline = state.hard_deadline
        return {
            "hard_deadline": deadline.isoformat() if deadline else None,
            "ends_at": deadline.isoformat() if deadline else None,
        }

    async def register(request: Request) -> JSONResponse:
        body = await request.json()
        if body.get("token") not in state.tokens:
            return _error(401, "InvalidAgentToken", "unknown or used token")
        state.tokens.discard(body["token"])
        state.registrations.append(body)
        state.hard_deadline = datetime.now(UTC) + state.deadline_after_register
        answer: dict[str, Any] = {
            "session_id": state.session_id,
            "agent_secret": SECRET,
            "heartbeat_seconds": state.heartbeat_seconds,
            **times(),
        }
        if state.broker_timeout_seconds is not None:
            answer["broker_timeout_seconds"] = state.broker_timeout_seconds
        return JSONResponse(answer)

    async def heartbeat(request: Request) -> JSONResponse:
        if not authorised(request):
            return _error(401, "InvalidAgentSecret", "no such session")
        state.heartbeats.append(await request.json())
        return JSONResponse({"action": state.action, "state": "running", **times()})

    async def done(request: Request) -> JSONResponse:
        if not authorised(request):
            return _error(401, "InvalidAgentSecret", "no such session")
        state.done.append(await request.json())
        return JSONResponse({"action": "shutdown", "state": "done"})

    def host_unavailable() -> JSONResponse | None:
        if not state.host_unavailable:
            return None
        state.host_unavailable_answers += 1
        return _error(503, "ServiceUnavailable", "down for maintenance")

    async def host_register(request: Request) -> JSONResponse:
        if (down := host_unavailable()) is not None:
            return down
        body = await request.json()
        if not 16 <= len(str(body.get("token", ""))) <= 200:  # as HostAgentRegisterIn
            return _error(422, "ValidationError", "token: at least 16 characters")
        if body.get("token") not in state.host_tokens:
            return _error(401, "InvalidMachineToken", "unknown or used token")
        state.host_tokens.discard(body["token"])
        state.host_registrations.append(body)
        state.host_secrets = {HOST_SECRET}  # registering again invalidates older secrets
        answer: dict[str, Any] = {"machine_id": state.machine_id, "agent_secret": HOST_SECRET}
        if state.host_heartbeat_seconds is not None:
            answer["heartbeat_seconds"] = state.host_heartbeat_seconds
        return JSONResponse(answer)

    async def host_heartbeat(request: Request) -> JSONResponse:
        if (down := host_unavailable()) is not None:
            return down
        auth = request.headers.get("authorization")
        if auth not in {f"Bearer {secret}" for secret in state.host_secrets}:
            return _error(401, "InvalidAgentSecret", "no such machine")
        state.host_auth.append(auth)
        state.host_heartbeats.append(await request.json())
        answer: dict[str, Any] = {
            "machine_id": state.machine_id,
            "status": state.host_status,
            "action": state.host_action,
        }
        if state.host_heartbeat_seconds is not None:
            answer["heartbeat_seconds"] = state.host_heartbeat_seconds
        if state.host_runs is not None:
            answer["runs"] = state.host_runs
        return JSONResponse(answer)

    prefix = "/api/v1/agent"
    host = "/api/v1/hosts/agent"
    return Starlette(
        routes=[
            Route(f"{prefix}/register", register, methods=["POST"]),
            Route(f"{prefix}/heartbeat", heartbeat, methods=["POST"]),
            Route(f"{prefix}/done", done, methods=["POST"]),
            Route(f"{host}/register", host_register, methods=["POST"]),
            Route(f"{host}/heartbeat", host_heartbeat, methods=["POST"]),
        ]
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningBroker:
    url: str
    state: BrokerState
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_broker(state: BrokerState | None = None, port: int | None = None) -> RunningBroker:
    """Serve the broker on `port` (default: a free one); passing a stopped broker's port and
    state brings that broker back."""
    state = state or BrokerState()
    port = port or free_port()
    config = uvicorn.Config(
        create_broker(state), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    until(lambda: server.started or not thread.is_alive(), what="the broker to start")
    assert server.started
    return RunningBroker(f"http://127.0.0.1:{port}", state, server, thread)


def until(predicate: Callable[[], object], timeout: float = 20.0, what: str = "it") -> None:
    """Poll with small sleeps until `predicate()` holds, or fail after a bounded wait."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


async def until_async(predicate: Callable[[], object], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


def pid_alive(pid: int) -> bool:
    """Running, and not a zombie nobody reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"

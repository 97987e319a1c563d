"""A tiny in-test GP4U broker: the three `/api/v1/agent/*` endpoints, served for real on a free
local port in a thread, with switches for the answers the agent must handle."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "tok-one-time-4f9c2a7e"
SECRET = "agent-secret-d81b3e55"


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

    prefix = "/api/v1/agent"
    return Starlette(
        routes=[
            Route(f"{prefix}/register", register, methods=["POST"]),
            Route(f"{prefix}/heartbeat", heartbeat, methods=["POST"]),
            Route(f"{prefix}/done", done, methods=["POST"]),
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

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_broker(state: BrokerState | None = None) -> RunningBroker:
    state = state or BrokerState()
    port = free_port()
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

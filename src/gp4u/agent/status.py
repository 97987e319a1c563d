"""The local status endpoint (127.0.0.1 by default): `GET /status` shows what the agent knows,
`POST /done` (`{"exit_code": int | null, "message": str | null}`) is how a workload says it
finished. Served by uvicorn in the agent's own event loop."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gp4u.agent.core import Agent


def _error(status: int, name: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": name, "detail": detail}, status_code=status)


def _done_body(raw: bytes) -> tuple[int | None, str | None] | str:
    """(exit_code, message), or what is wrong with the body."""
    if not raw.strip():
        return None, None
    try:
        body: Any = json.loads(raw)
    except ValueError:
        return "the body is not JSON"
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    exit_code, message = body.get("exit_code"), body.get("message")
    if exit_code is not None and (isinstance(exit_code, bool) or not isinstance(exit_code, int)):
        return "exit_code must be an integer or null"
    if message is not None and not isinstance(message, str):
        return "message must be a string or null"
    return exit_code, message


def create_app(agent: Agent) -> Starlette:
    async def status(_: Request) -> JSONResponse:
        return JSONResponse(agent.status())

    async def done(request: Request) -> JSONResponse:
        parsed = _done_body(await request.body())
        if isinstance(parsed, str):
            return _error(422, "ValidationError", parsed)
        accepted = agent.request_done(*parsed)
        return JSONResponse({"accepted": accepted, "status": agent.status()}, status_code=202)

    return Starlette(
        routes=[
            Route("/status", status, methods=["GET"]),
            Route("/done", done, methods=["POST"]),
        ]
    )


class _Server(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # SIGTERM and SIGINT belong to the agent, which stops the server itself


@dataclass
class StatusServer:
    url: str
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.server.should_exit = True
        try:
            await asyncio.wait_for(self.task, 5)
        except TimeoutError:
            self.task.cancel()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


async def start_status_server(app: Starlette, host: str, port: int) -> StatusServer:
    """Serve `app` on host:port (0: any free port) in the running loop."""
    sock = _bind(host, port)
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the status server stopped while starting")
        await asyncio.sleep(0.01)
    bound = sock.getsockname()[1]
    return StatusServer(f"http://{_url_host(host)}:{bound}", server, task)


def _url_host(host: str) -> str:
    """How a local client reaches `host`: a wildcard address through loopback."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a name
    if address.is_unspecified:
        return "127.0.0.1" if address.version == 4 else "[::1]"
    return f"[{host}]" if address.version == 6 else host

"""The agent process: logging, signal handling, the status server and agent.json around
`Agent.run()`, then the shutdown action (power off, or just exit) and one exit code per reason."""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import signal
import subprocess
from typing import Any

import httpx

from gp4u.agent import AGENT_VERSION
from gp4u.agent.config import AgentConfig, iso
from gp4u.agent.core import Agent
from gp4u.agent.state import remove_state, write_state
from gp4u.agent.status import StatusServer, create_app, start_status_server
from gp4u.agent.switches import EXIT_CODES, Reason
from gp4u.kit.logging import configure_logging, get_logger

log = get_logger("gp4u.agent")


def run_agent(
    config: AgentConfig,
    *,
    log_format: str = "json",
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """Run the agent until a shutdown reason, act on it, and return the reason's exit code."""
    configure_logging(log_format)
    for name in ("httpx", "httpcore", "uvicorn.error"):  # their INFO lines are per request
        logging.getLogger(name).setLevel(logging.WARNING)
    reason = asyncio.run(_serve(config, transport))
    shutdown_action(config, reason)
    code = EXIT_CODES[reason]
    log.info("agent exiting", reason=reason.value, exit_code=code)
    return code


async def _serve(config: AgentConfig, transport: httpx.AsyncBaseTransport | None) -> Reason:
    server: StatusServer | None = None

    def record() -> None:
        data: dict[str, Any] = {
            "pid": os.getpid(),
            "status_url": server.url if server else None,
            "session_id": agent.session_id,
            "broker": config.broker_url,
            "started_at": iso(agent.started_at),
            "agent_version": AGENT_VERSION,
        }
        try:
            write_state(config.state_dir, data)
        except OSError as exc:
            log.error(
                "cannot write the state file", state_dir=str(config.state_dir), error=str(exc)
            )

    agent = Agent(config, transport=transport, on_registered=record)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, agent.stop, sig.name)
    log.info(
        "agent starting",
        broker=config.broker_url,
        hard_deadline=iso(config.hard_deadline),
        heartbeat_seconds=config.heartbeat_seconds,
        broker_timeout_seconds=config.broker_timeout_seconds,
        on_shutdown=config.on_shutdown,
        state_dir=str(config.state_dir),
        pid=os.getpid(),
        version=AGENT_VERSION,
    )
    server = await _start_status(agent, config)
    record()
    try:
        return await agent.run()
    finally:
        if server is not None:
            await server.stop()
        remove_state(config.state_dir)
        await agent.broker.aclose()


async def _start_status(agent: Agent, config: AgentConfig) -> StatusServer | None:
    """The status endpoint on the configured port, else on any free one, else none: the
    dead-man switches matter more than the endpoint, so the agent runs on regardless."""
    app = create_app(agent)
    ports = [config.status_port] + ([0] if config.status_port else [])
    for port in ports:
        try:
            server = await start_status_server(app, config.status_host, port)
        except (OSError, RuntimeError) as exc:
            log.error(
                "cannot serve the status endpoint",
                host=config.status_host,
                port=port,
                error=str(exc),
            )
            continue
        log.info("status endpoint", url=server.url)
        return server
    return None


def shutdown_action(config: AgentConfig, reason: Reason) -> None:
    """Power the machine off (`--on-shutdown poweroff`) unless the agent was only stopped."""
    if config.on_shutdown != "poweroff" or reason is Reason.STOPPED:
        return
    command = shlex.split(config.shutdown_command)
    log.warning("powering off", command=config.shutdown_command, reason=reason.value)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        log.error("the shutdown command failed", command=config.shutdown_command, error=str(exc))
        return
    if result.returncode != 0:
        log.error(
            "the shutdown command failed",
            command=config.shutdown_command,
            returncode=result.returncode,
            stderr=result.stderr[-500:],
        )

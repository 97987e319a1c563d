"""The agent as a real process (`python -m gp4u.agent run --on-shutdown exit`) against an
in-test broker served on a local port, with short intervals. No wall-clock assertions: every
wait polls with small sleeps up to a bounded deadline."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from gp4u.agent.cli import agent as agent_cli
from gp4u.agent.client import get_status, status_url
from gp4u.agent.state import read_state
from tests.agent.broker import (
    SECRET,
    TOKEN,
    BrokerState,
    RunningBroker,
    free_port,
    start_broker,
    until,
)

EXIT_TIMEOUT = 30.0


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GP4U_AGENT_")}
    return env | extra


class AgentProcess:
    def __init__(self, broker_url: str, tmp_path: Path, *args: str, token: str = TOKEN) -> None:
        self.state_dir = tmp_path / "state"
        self.log_path = tmp_path / "agent.log"
        command = [sys.executable, "-m", "gp4u.agent", "run", "--broker", broker_url]
        command += ["--on-shutdown", "exit", "--status-port", "0"]
        command += ["--state-dir", str(self.state_dir), "--heartbeat-seconds", "0.2"]
        command += ["--broker-timeout-seconds", "2", "--log-format", "console", *args]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, env=clean_env(GP4U_AGENT_TOKEN=token), stdout=log, stderr=log
            )

    def wait(self) -> int:
        return self.process.wait(EXIT_TIMEOUT)

    def status(self) -> dict[str, object]:
        return get_status(status_url(self.state_dir))

    def log(self) -> str:
        return self.log_path.read_text()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def assert_no_secrets(text: str) -> None:
    assert TOKEN not in text
    assert SECRET not in text


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[list[AgentProcess]]:
    """Agents started by a test; any left running at the end are killed."""
    started: list[AgentProcess] = []
    yield started
    for process in started:
        process.kill()


def test_registers_heartbeats_and_stops_when_the_broker_says_so(
    broker: RunningBroker, tmp_path: Path, spawn: list[AgentProcess]
) -> None:
    agent = AgentProcess(broker.url, tmp_path)
    spawn.append(agent)
    until(lambda: len(broker.state.heartbeats) >= 3, what="three heartbeats")
    [registration] = broker.state.registrations
    assert registration["token"] == TOKEN
    assert registration["facts"]["cpu_count"] >= 1 and "gpus" in registration["facts"]
    status = agent.status()
    assert (status["registered"], status["session_id"], status["broker_reachable"]) == (
        True,
        7,
        True,
    )
    state_file = read_state(agent.state_dir)
    assert state_file is not None and state_file["session_id"] == 7
    result = CliRunner().invoke(agent_cli, ["status", "--state-dir", str(agent.state_dir)])
    assert result.exit_code == 0 and '"registered": true' in result.output

    broker.state.action = "shutdown"
    assert agent.wait() == 10
    log = agent.log()
    assert "broker_shutdown" in log and "shutting down" in log
    assert not (agent.state_dir / "agent.json").exists()
    assert_no_secrets(log + result.output + str(state_file) + str(status))


def test_stops_at_the_hard_deadline_while_the_broker_is_gone(
    tmp_path: Path, spawn: list[AgentProcess]
) -> None:
    # The broker's hard deadline (1.5 s after registering) is earlier than the launch's.
    state = BrokerState(deadline_after_register=timedelta(seconds=1.5))
    broker = start_broker(state)
    agent = AgentProcess(
        broker.url,
        tmp_path,
        "--broker-timeout-seconds",
        "60",
        "--hard-deadline",
        "2100-01-01T00:00:00Z",
    )
    spawn.append(agent)
    until(lambda: state.registrations, what="the registration")
    broker.stop()
    assert agent.wait() == 12
    log = agent.log()
    assert "hard_deadline" in log and "broker call failed" in log
    assert_no_secrets(log)


@pytest.mark.parametrize("broker_kind", ["silent", "refusing connections"])
def test_stops_after_the_broker_timeout_when_the_broker_never_answers(
    tmp_path: Path, spawn: list[AgentProcess], broker_kind: str
) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        if broker_kind == "silent":
            silent.listen(8)  # connections are accepted by the kernel, never answered
            port = silent.getsockname()[1]
        else:
            port = free_port()
        agent = AgentProcess(f"http://127.0.0.1:{port}", tmp_path)
        spawn.append(agent)
        until(lambda: read_state(agent.state_dir), what="agent.json")
        status = agent.status()  # served while the registration hangs or fails
        assert status["registered"] is False
        assert agent.wait() == 13
    assert "broker_timeout" in agent.log()
    assert_no_secrets(agent.log())


def test_a_refused_token_waits_for_the_broker_timeout(
    broker: RunningBroker, tmp_path: Path, spawn: list[AgentProcess]
) -> None:
    agent = AgentProcess(broker.url, tmp_path, token="tok-unknown")
    spawn.append(agent)
    until(lambda: read_state(agent.state_dir), what="agent.json")
    until(lambda: agent.status()["registration_refused"], what="the refusal")
    assert agent.wait() == 13
    assert broker.state.registrations == []
    assert "tok-unknown" not in agent.log()


def test_done_reaches_the_broker_and_the_agent_exits(
    broker: RunningBroker, tmp_path: Path, spawn: list[AgentProcess]
) -> None:
    agent = AgentProcess(broker.url, tmp_path)
    spawn.append(agent)
    until(lambda: broker.state.heartbeats, what="a heartbeat")
    result = CliRunner().invoke(
        agent_cli,
        ["done", "--exit-code", "3", "--message", "all good", "--state-dir", str(agent.state_dir)],
    )
    assert result.exit_code == 0, result.output
    assert '"accepted": true' in result.output
    assert agent.wait() == 0
    assert broker.state.done == [{"exit_code": 3, "message": "all good"}]
    assert_no_secrets(agent.log() + result.output)


def test_sigterm_stops_the_agent_without_the_shutdown_command(
    broker: RunningBroker, tmp_path: Path, spawn: list[AgentProcess]
) -> None:
    marker = tmp_path / "powered-off"
    agent = AgentProcess(
        broker.url,
        tmp_path,
        "--on-shutdown",
        "poweroff",
        "--shutdown-command",
        f"touch {marker}",
    )
    spawn.append(agent)
    until(lambda: broker.state.heartbeats, what="a heartbeat")
    agent.process.terminate()
    assert agent.wait() == 14
    assert not marker.exists()


def test_poweroff_runs_the_shutdown_command(
    broker: RunningBroker, tmp_path: Path, spawn: list[AgentProcess]
) -> None:
    marker = tmp_path / "powered-off"
    agent = AgentProcess(
        broker.url,
        tmp_path,
        "--on-shutdown",
        "poweroff",
        "--shutdown-command",
        f"touch {marker}",
    )
    spawn.append(agent)
    until(lambda: broker.state.heartbeats, what="a heartbeat")
    broker.state.action = "shutdown"
    assert agent.wait() == 10
    assert marker.exists()

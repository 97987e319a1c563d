"""Host mode (`gp4u agent host`): against the in-test broker's host endpoints served on a local
port, in process (`HostAgent.run()`) and as a real process (`python -m gp4u.agent host`). Short
intervals (the broker answers heartbeat_seconds 0.05) and no wall-clock assertions: every wait
polls up to a bounded deadline."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from gp4u.agent.broker import HostRegistration
from gp4u.agent.cli import agent as agent_cli
from gp4u.agent.config import HostConfig
from gp4u.agent.host import (
    HostAgent,
    HostOutcome,
    HostSetupError,
    SavedHost,
    load_saved,
    save_registration,
    saved_for_start,
)
from tests.agent.broker import (
    HOST_SECRET,
    HOST_TOKEN,
    RunningBroker,
    start_broker,
    until,
    until_async,
)

EXIT_TIMEOUT = 30.0
STATE_FILE = "host-agent.json"


def counting_facts() -> Callable[[], dict[str, Any]]:
    """Facts that say how many times they were collected."""
    calls = 0

    def facts() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        return {"hostname": "box", "gpu_count": 2, "collected": calls}

    return facts


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GP4U_AGENT_") and k != "GP4U_HOST_TOKEN"
    }
    return env | extra


def assert_no_secrets(text: str) -> None:
    assert HOST_TOKEN not in text
    assert HOST_SECRET not in text


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class HostProcess:
    """`python -m gp4u.agent host` with its token (if any) in GP4U_HOST_TOKEN."""

    def __init__(
        self, broker_url: str, tmp_path: Path, *args: str, token: str | None = HOST_TOKEN
    ) -> None:
        self.state_dir = tmp_path / "state"
        self.log_path = tmp_path / f"host-{len(list(tmp_path.glob('host-*.log')))}.log"
        command = [sys.executable, "-m", "gp4u.agent", "host", "--broker", broker_url]
        command += ["--state-dir", str(self.state_dir), "--heartbeat-seconds", "0.05"]
        command += ["--log-format", "console", *args]
        env = clean_env(**({"GP4U_HOST_TOKEN": token} if token else {}))
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log)

    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE

    def wait(self) -> int:
        return self.process.wait(EXIT_TIMEOUT)

    def log(self) -> str:
        return self.log_path.read_text()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def spawn() -> Iterator[list[HostProcess]]:
    """Agents started by a test; any left running at the end are killed."""
    started: list[HostProcess] = []
    yield started
    for process in started:
        process.kill()


def config(broker_url: str, tmp_path: Path, **options: Any) -> HostConfig:
    options.setdefault("token", HOST_TOKEN)
    options.setdefault("benchmark", False)
    return HostConfig(broker=broker_url, state_dir=tmp_path / "state", **options)


async def stop(agent: HostAgent, task: asyncio.Task[HostOutcome]) -> HostOutcome:
    agent.stop("test")
    try:
        return await asyncio.wait_for(task, EXIT_TIMEOUT)
    finally:
        await agent.broker.aclose()


# --- in process, against the broker on a local port ------------------------------------------


async def test_registers_then_heartbeats_with_facts_every_tenth_call(
    broker: RunningBroker, tmp_path: Path
) -> None:
    # The configured interval is long: the beats only come quickly on the broker's 0.05 s.
    agent = HostAgent(config(broker.url, tmp_path, heartbeat_seconds=30), facts=counting_facts())
    task = asyncio.create_task(agent.run())
    await until_async(lambda: len(broker.state.host_heartbeats) >= 21)
    assert await stop(agent, task) is HostOutcome.STOPPED

    [registration] = broker.state.host_registrations
    assert registration == {
        "token": HOST_TOKEN,
        "facts": {
            "hostname": "box",
            "gpu_count": 2,
            "collected": 1,
            "throughput": {"error": "not measured: the agent runs --no-benchmark"},
        },
    }
    beats = broker.state.host_heartbeats[:21]
    assert [i for i, beat in enumerate(beats) if beat["facts"] is not None] == [9, 19]
    assert [beats[9]["facts"]["collected"], beats[19]["facts"]["collected"]] == [2, 3]
    assert set(broker.state.host_auth) == {f"Bearer {HOST_SECRET}"}
    assert (agent.machine_id, agent.status, agent.heartbeat_seconds) == (21, "listed", 0.05)
    assert agent.broker_reachable is True and agent.failures == 0

    state_file = tmp_path / "state" / STATE_FILE
    assert mode(state_file) == 0o600
    saved = json.loads(state_file.read_text())
    assert (saved["broker"], saved["machine_id"], saved["agent_secret"]) == (
        broker.url,
        21,
        HOST_SECRET,
    )
    assert HOST_TOKEN not in state_file.read_text()
    assert_no_secrets(repr(agent.config) + repr(load_saved(state_file)))


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


async def test_measures_once_beside_the_heartbeats_and_sends_the_figures_with_the_next_call(
    broker: RunningBroker, tmp_path: Path
) -> None:
    figures = {"method": "test gemm", "devices": 2, "tflops": {"bf16": 123.4}}
    started = tmp_path / "benchmarks"
    command = python(
        f"import json; open({str(started)!r}, 'a').write('x'); print(json.dumps({figures!r}))"
    )
    agent = HostAgent(
        config(broker.url, tmp_path, benchmark=True), facts=counting_facts(), benchmark=command
    )
    task = asyncio.create_task(agent.run())
    await until_async(lambda: agent.throughput is not None)
    seen = len(broker.state.host_heartbeats)
    await until_async(lambda: len(broker.state.host_heartbeats) >= seen + 12)
    assert await stop(agent, task) is HostOutcome.STOPPED

    [registration] = broker.state.host_registrations
    assert "throughput" not in registration["facts"]  # registering does not wait for it
    assert started.read_text() == "x"  # once per start
    beats = broker.state.host_heartbeats
    with_figures = [i for i, beat in enumerate(beats) if (beat["facts"] or {}).get("throughput")]
    first = with_figures[0]
    assert first >= 1 and all(beats[i]["facts"] is None for i in range(1, first))
    assert with_figures[:2] == [first, first + 10]  # the next call, then every tenth
    assert beats[first]["facts"]["throughput"] == figures


async def test_a_failing_benchmark_is_reported_and_heartbeats_go_on(
    broker: RunningBroker, tmp_path: Path
) -> None:
    agent = HostAgent(
        config(broker.url, tmp_path, benchmark=True),
        facts=counting_facts(),
        benchmark=python("import sys; sys.exit(3)"),
    )
    task = asyncio.create_task(agent.run())
    await until_async(lambda: agent.throughput is not None)
    seen = len(broker.state.host_heartbeats)
    await until_async(lambda: len(broker.state.host_heartbeats) >= seen + 2)
    assert await stop(agent, task) is HostOutcome.STOPPED
    sent = [b["facts"] for b in broker.state.host_heartbeats if b["facts"] is not None]
    assert sent[-1]["throughput"] == {"error": "benchmark failed (exit code 3, no result)"}


async def test_without_the_benchmark_the_facts_say_so(
    broker: RunningBroker, tmp_path: Path
) -> None:
    agent = HostAgent(config(broker.url, tmp_path), facts=counting_facts())
    task = asyncio.create_task(agent.run())
    await until_async(lambda: len(broker.state.host_heartbeats) >= 1)
    assert await stop(agent, task) is HostOutcome.STOPPED
    [registration] = broker.state.host_registrations
    assert registration["facts"]["throughput"] == {
        "error": "not measured: the agent runs --no-benchmark"
    }


async def test_keeps_heartbeating_through_a_broker_outage(
    broker: RunningBroker, tmp_path: Path
) -> None:
    state = broker.state
    agent = HostAgent(config(broker.url, tmp_path), facts=counting_facts())
    task = asyncio.create_task(agent.run())
    restarted: RunningBroker | None = None
    try:
        await until_async(lambda: len(state.host_heartbeats) >= 2)
        # 5xx: the broker answers, but it is unavailable.
        state.host_unavailable = True
        await until_async(lambda: state.host_unavailable_answers >= 3)
        assert agent.broker_reachable is False and agent.outcome is None
        # Gone: connections are refused.
        broker.stop()
        failures = agent.failures
        await until_async(lambda: agent.failures >= failures + 3)
        assert agent.outcome is None
        # Back on the same port, with the same machine and secret.
        state.host_unavailable = False
        beats = len(state.host_heartbeats)
        restarted = start_broker(state, port=broker.port)
        await until_async(lambda: len(state.host_heartbeats) >= beats + 3)
        assert agent.broker_reachable is True and agent.failures == 0
        assert agent.outcome is None
        assert len(state.host_registrations) == 1  # no new registration was needed
        assert await stop(agent, task) is HostOutcome.STOPPED
    finally:
        if not task.done():
            task.cancel()
        if restarted is not None:
            restarted.stop()


async def test_the_first_registration_waits_for_the_broker(
    broker: RunningBroker, tmp_path: Path
) -> None:
    state = broker.state
    state.host_unavailable = True
    agent = HostAgent(config(broker.url, tmp_path, heartbeat_seconds=0.05), facts=counting_facts())
    task = asyncio.create_task(agent.run())
    await until_async(lambda: state.host_unavailable_answers >= 3)
    assert not agent.registered and not (tmp_path / "state" / STATE_FILE).exists()
    state.host_unavailable = False
    await until_async(lambda: state.host_heartbeats)
    assert await stop(agent, task) is HostOutcome.STOPPED
    assert len(state.host_registrations) == 1
    # The facts collected for the failed attempts were still sent with the registration.
    assert state.host_registrations[0]["facts"] is not None


# --- stepped, against a mock transport (the retry interval and facts after a resume) ----------


def _mock_broker(answers: list[int]) -> tuple[httpx.MockTransport, list[dict[str, Any]]]:
    """A heartbeat endpoint answering the given statuses in turn (then 200s)."""
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/hosts/agent/heartbeat"
        assert request.headers["authorization"] == f"Bearer {HOST_SECRET}"
        seen.append(json.loads(request.content))
        status = answers.pop(0) if answers else 200
        if status != 200:
            return httpx.Response(status, json={"error": "E", "detail": "e"})
        return httpx.Response(
            200, json={"machine_id": 21, "status": "listed", "action": "continue"}
        )

    return httpx.MockTransport(handler), seen


async def test_after_a_resume_facts_go_first_and_failures_retry_at_the_normal_interval(
    tmp_path: Path,
) -> None:
    now = [1000.0]
    transport, seen = _mock_broker([200, 503, 503])
    agent = HostAgent(
        config("http://broker.test", tmp_path, token=None, heartbeat_seconds=15),
        saved=SavedHost("http://broker.test", 21, HOST_SECRET),
        transport=transport,
        facts=counting_facts(),
        jitter=lambda: 0.0,
        monotonic=lambda: now[0],
    )
    await agent.step()  # the first beat: with facts
    assert agent.next_call_at - now[0] == 15
    await agent.step()  # nothing due
    assert len(seen) == 1
    now[0] += 15
    for _ in range(2):  # 503, twice: retried after the normal interval, never given up
        await agent.step()
        assert agent.broker_reachable is False and agent.outcome is None
        assert agent.next_call_at - now[0] == 15
        now[0] += 15
    for _ in range(10):
        await agent.step()
        now[0] += 15
    await agent.broker.aclose()
    assert [i for i, body in enumerate(seen) if body["facts"] is not None] == [0, 12]
    assert agent.beats == 11 and agent.failures == 0


def test_saved_registrations_are_0600_and_bad_ones_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "state" / STATE_FILE
    path.parent.mkdir()
    leftover = path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
    leftover.write_text("old")
    leftover.chmod(0o644)
    saved = SavedHost("http://broker.test", 21, HOST_SECRET)
    save_registration(path, saved)
    assert mode(path) == 0o600 and not leftover.exists()
    assert load_saved(path) == saved
    assert HOST_SECRET not in repr(saved)
    registration = HostRegistration(machine_id=21, agent_secret=HOST_SECRET, heartbeat_seconds=1)
    assert HOST_SECRET not in repr(registration)
    for text in ("{not json", "[]", '{"broker": "http://broker.test", "machine_id": 21}'):
        path.write_text(text)
        assert load_saved(path) is None


def test_a_saved_registration_counts_for_its_own_broker_only(tmp_path: Path) -> None:
    save_registration(
        tmp_path / "state" / STATE_FILE, SavedHost("http://other.test", 5, HOST_SECRET)
    )
    with pytest.raises(HostSetupError, match="another broker"):
        saved_for_start(config("http://broker.test", tmp_path, token=None))
    assert saved_for_start(config("http://broker.test", tmp_path)) is None  # the token registers
    saved = saved_for_start(config("http://other.test/", tmp_path, token=None))
    assert saved is not None and saved.machine_id == 5


# --- as a real process ------------------------------------------------------------------------


def test_a_restart_reuses_the_saved_registration_without_a_token(
    broker: RunningBroker, tmp_path: Path, spawn: list[HostProcess]
) -> None:
    state = broker.state
    first = HostProcess(broker.url, tmp_path)
    spawn.append(first)
    until(lambda: len(state.host_heartbeats) >= 2, what="two heartbeats")
    [registration] = state.host_registrations
    facts = registration["facts"]  # the machine's own facts
    assert facts["cpu_count"] >= 1 and "gpus" in facts and "gpu_count" in facts
    first.process.terminate()
    assert first.wait() == 14
    assert mode(first.state_file) == 0o600
    assert HOST_TOKEN not in first.state_file.read_text()

    beats = len(state.host_heartbeats)
    second = HostProcess(broker.url, tmp_path, token=None)
    spawn.append(second)
    until(lambda: len(state.host_heartbeats) >= beats + 2, what="heartbeats after the restart")
    assert len(state.host_registrations) == 1
    assert state.host_heartbeats[beats]["facts"] is not None  # the first beat after a restart
    second.process.terminate()
    assert second.wait() == 14
    assert "registration=saved" in second.log()
    assert_no_secrets(first.log() + second.log())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_agent_with_14(
    broker: RunningBroker, tmp_path: Path, spawn: list[HostProcess], sig: signal.Signals
) -> None:
    agent = HostProcess(broker.url, tmp_path)
    spawn.append(agent)
    until(lambda: broker.state.host_heartbeats, what="a heartbeat")
    agent.process.send_signal(sig)
    assert agent.wait() == 14
    assert agent.state_file.exists()  # kept for the next start
    assert sig.name in agent.log()
    assert_no_secrets(agent.log())


def test_stop_from_the_broker_exits_10(
    broker: RunningBroker, tmp_path: Path, spawn: list[HostProcess]
) -> None:
    agent = HostProcess(broker.url, tmp_path)
    spawn.append(agent)
    until(lambda: broker.state.host_heartbeats, what="a heartbeat")
    broker.state.host_status, broker.state.host_action = "retired", "stop"
    assert agent.wait() == 10
    assert "retired" in agent.log()
    assert_no_secrets(agent.log())


def test_a_401_removes_the_saved_registration_and_exits_11(
    broker: RunningBroker, tmp_path: Path, spawn: list[HostProcess]
) -> None:
    agent = HostProcess(broker.url, tmp_path)
    spawn.append(agent)
    until(lambda: broker.state.host_heartbeats, what="a heartbeat")
    assert agent.state_file.exists()
    broker.state.host_secrets.clear()  # the machine was deleted on the broker
    assert agent.wait() == 11
    assert not agent.state_file.exists()
    assert "register the machine again" in agent.log()
    assert_no_secrets(agent.log())


def test_a_refused_token_exits_11_and_saves_nothing(
    broker: RunningBroker, tmp_path: Path, spawn: list[HostProcess]
) -> None:
    agent = HostProcess(broker.url, tmp_path, token="host-tok-spent-91aa")
    spawn.append(agent)
    assert agent.wait() == 11
    assert broker.state.host_registrations == []
    assert not agent.state_file.exists()
    assert "host-tok-spent-91aa" not in agent.log()
    assert "unknown or already used" in agent.log()


def test_a_mistyped_token_is_refused_once_and_exits_11(
    broker: RunningBroker, tmp_path: Path, spawn: list[HostProcess]
) -> None:
    agent = HostProcess(broker.url, tmp_path, token="host-tok")  # cut short: the broker's 422
    spawn.append(agent)
    assert agent.wait() == 11
    assert broker.state.host_registrations == [] and not agent.state_file.exists()
    assert "mistyped" in agent.log() and "HTTP 422" in agent.log()


def test_without_a_token_or_a_saved_registration_exits_2(
    broker: RunningBroker, tmp_path: Path, spawn: list[HostProcess]
) -> None:
    agent = HostProcess(broker.url, tmp_path, token=None)
    spawn.append(agent)
    assert agent.wait() == 2
    log = agent.log()
    assert "no machine token and no saved registration" in log and "GP4U_HOST_TOKEN" in log
    assert broker.state.host_registrations == [] and broker.state.host_heartbeats == []


def test_host_help_explains_the_command_and_its_exit_codes() -> None:
    result = CliRunner().invoke(agent_cli, ["host", "--help"])
    assert result.exit_code == 0
    for text in ("--broker", "--token", "GP4U_HOST_TOKEN", "--state-dir", "host-agent.json"):
        assert text in result.output
    for code in (10, 11, 14, 2):
        assert re.search(rf"^\s+{code}\s+\S", result.output, re.MULTILINE)
    group = CliRunner().invoke(agent_cli, ["--help"])
    assert "host" in group.output and "marketplace" in group.output

"""The workload process (`gp4u.agent.workload`, what a local provider instance runs) with the
agent environment: it runs the agent in exit mode next to the workload, stops the workload's
process group when the agent stops, reports the workload's own exit as done and leaves its exit
code in `exit_code`."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gp4u.providers.interface import InstanceState, LaunchRequest, Tags
from gp4u.providers.local.adapter import OFFER_REF, LocalAdapter
from tests.agent.broker import SECRET, TOKEN, RunningBroker, pid_alive, until, until_async
from tests.agent.test_process import EXIT_TIMEOUT, clean_env


def _agent_env(broker: RunningBroker) -> dict[str, str]:
    return {
        "GP4U_AGENT_TOKEN": TOKEN,
        "GP4U_AGENT_BROKER": broker.url,
        "GP4U_AGENT_HEARTBEAT_SECONDS": "0.2",
        "GP4U_AGENT_BROKER_TIMEOUT_SECONDS": "5",
        "GP4U_AGENT_ON_SHUTDOWN": "poweroff",  # the instance asks for exit mode itself
    }


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _start(
    broker: RunningBroker, folder: Path, command: str, started: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    folder.mkdir()
    module = [sys.executable, "-m", "gp4u.agent.workload"]
    process = subprocess.Popen(
        [*module, "--instance-dir", str(folder), "--command", command],
        env=clean_env(**_agent_env(broker)),
    )
    started.append(process)
    return process


def test_the_broker_saying_shutdown_stops_the_instance_and_its_workload(
    broker: RunningBroker, tmp_path: Path, instance: list[subprocess.Popen[bytes]]
) -> None:
    folder = tmp_path / "i1"
    # The workload's children must go too: a shell running a sleep in the background.
    command = "sleep 300 & echo $! > child.pid; echo $$ > workload.pid; wait"
    process = _start(broker, folder, command, instance)
    until(lambda: len(broker.state.heartbeats) >= 2, what="heartbeats")
    until(lambda: (folder / "child.pid").exists() and (folder / "workload.pid").exists())
    assert (folder / "running").read_text() == str(process.pid)
    workload = int((folder / "workload.pid").read_text())
    child = int((folder / "child.pid").read_text())
    assert pid_alive(workload) and pid_alive(child)

    broker.state.action = "shutdown"
    assert process.wait(EXIT_TIMEOUT) == 10  # the agent's exit code
    assert (folder / "exit_code").read_text() == "10\n"  # for an observer that is not its parent
    until(lambda: not pid_alive(workload) and not pid_alive(child), what="the workload to stop")
    log = (folder / "agent.log").read_text()
    assert "broker_shutdown" in log
    assert TOKEN not in log and SECRET not in log


def test_a_finished_workload_is_reported_done_with_its_exit_code(
    broker: RunningBroker, tmp_path: Path, instance: list[subprocess.Popen[bytes]]
) -> None:
    process = _start(broker, tmp_path / "i2", "sleep 0.5; exit 3", instance)
    assert process.wait(EXIT_TIMEOUT) == 0  # done
    assert (tmp_path / "i2" / "exit_code").read_text() == "0\n"
    assert broker.state.done == [{"exit_code": 3, "message": "the startup command finished"}]


def test_sigterm_stops_agent_and_workload(
    broker: RunningBroker, tmp_path: Path, instance: list[subprocess.Popen[bytes]]
) -> None:
    folder = tmp_path / "i3"
    process = _start(broker, folder, "echo $$ > workload.pid; exec sleep 300", instance)
    until(lambda: broker.state.heartbeats and (folder / "workload.pid").exists())
    workload = int((folder / "workload.pid").read_text())
    process.terminate()
    assert process.wait(EXIT_TIMEOUT) == 0
    assert not pid_alive(workload)
    assert broker.state.done == []


async def test_the_local_provider_sees_the_instance_gone_after_a_broker_shutdown(
    broker: RunningBroker, local: LocalAdapter
) -> None:
    request = LaunchRequest(
        offer_ref=OFFER_REF,
        client_token="tok-agent",
        tags=Tags("t1", "s1", "u7"),
        startup_command="sleep 300",
        env=_agent_env(broker),
    )
    launched = await local.launch(request)
    await until_async(lambda: len(broker.state.heartbeats) >= 2)
    [running] = await local.status([launched.instance_id])
    assert running.state is InstanceState.RUNNING
    broker.state.action = "shutdown"

    async def gone() -> bool:
        [current] = await local.status([launched.instance_id])
        return current.state is InstanceState.TERMINATED

    for _ in range(600):
        if await gone():
            break
        await asyncio.sleep(0.05)
    assert await gone()
    assert await local.list_tagged("t1") == []


def test_the_workload_can_say_done_itself_and_never_sees_the_token(
    broker: RunningBroker, tmp_path: Path, instance: list[subprocess.Popen[bytes]]
) -> None:
    folder = tmp_path / "i4"
    done = f"{sys.executable} -m gp4u.agent done --exit-code 5 --message from-workload"
    command = (
        'if [ -n "$GP4U_AGENT_TOKEN" ]; then touch token-leaked; fi; '
        f"until {done} >/dev/null 2>&1; do sleep 0.1; done; exec sleep 300"
    )
    process = _start(broker, folder, command, instance)
    assert process.wait(EXIT_TIMEOUT) == 0
    assert broker.state.done == [{"exit_code": 5, "message": "from-workload"}]
    assert not (folder / "token-leaked").exists()

"""Host mode's runs (`gp4u.agent.hostruns`): the in-test broker hands runs out through its
heartbeat answers and the agent starts and stops them as real workload processes in
`<state_dir>/runs/`. Stepped with `HostAgent.step()` and a fake monotonic clock, except where the
real loop or the real process is the point; every wait polls up to a bounded deadline, and every
run a test started is terminated in the fixture's teardown."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gp4u.agent.broker import RunOrders, parse_runs
from gp4u.agent.config import HostConfig
from gp4u.agent.host import HostAgent, HostOutcome, SavedHost, load_saved
from gp4u.agent.workloads import WorkloadStore
from tests.agent.broker import (
    HOST_SECRET,
    HOST_TOKEN,
    SECRET,
    TOKEN,
    RunningBroker,
    until,
    until_async,
)
from tests.agent.broker import pid_alive as alive
from tests.agent.test_host_agent import EXIT_TIMEOUT, HostProcess

RUN_A, RUN_B, RUN_C, RUN_D = "a1a1a1a1a1a1", "b2b2b2b2b2b2", "c3c3c3c3c3c3", "d4d4d4d4d4d4"
SLEEP = "echo $$ > workload.pid; exec sleep 30"


def run(run_id: str, command: str | None = SLEEP, **env: str) -> dict[str, Any]:
    return {"id": run_id, "action": "run", "command": command, "env": env}


def stop(run_id: str) -> dict[str, Any]:
    return {"id": run_id, "action": "stop", "command": None, "env": None}


def running(*run_ids: str) -> list[dict[str, Any]]:
    return [{"id": i, "state": "running", "exit_code": None} for i in run_ids]


@pytest.fixture
async def runs_dir(tmp_path: Path) -> AsyncIterator[Path]:
    """Where the agent keeps its runs; whatever still runs there at the end is terminated."""
    root = tmp_path / "state" / "runs"
    yield root
    store = WorkloadStore(root)
    await asyncio.gather(*(store.terminate(record["id"]) for record in store.records()))


class Host:
    """A HostAgent on the fake clock: `beat()` makes one heartbeat and returns the runs it
    reported (before the answer was obeyed)."""

    def __init__(
        self,
        broker: RunningBroker,
        state_dir: Path,
        saved: SavedHost | None,
        benchmark: list[str] | None = None,
    ) -> None:
        self.broker = broker
        self.now = 1000.0
        config = HostConfig(
            broker=broker.url,
            token=None if saved else HOST_TOKEN,
            state_dir=state_dir,
            benchmark=benchmark is not None,
        )
        self.agent = HostAgent(
            config,
            saved=saved,
            facts=lambda: {"hostname": "box"},
            monotonic=lambda: self.now,
            **({"benchmark": benchmark} if benchmark else {}),
        )

    async def beat(self) -> list[dict[str, Any]]:
        beats = len(self.broker.state.host_heartbeats)
        await self.agent.step()
        self.now += 3600
        assert len(self.broker.state.host_heartbeats) == beats + 1
        assert self.agent.failures == 0 and self.agent.outcome is None
        return self.broker.state.host_reports()

    def pid(self, run_id: str) -> int:
        record = json.loads((self.agent.config.runs_dir / run_id / "instance.json").read_text())
        return int(record["pid"])

    def workload_pid(self, run_id: str) -> int:
        """The pid of the run's command (it writes it once it runs)."""
        path = self.agent.config.runs_dir / run_id / "workload.pid"
        until(lambda: path.exists() and path.read_text().strip(), what="the command to start")
        return int(path.read_text())

    def folders(self) -> list[str]:
        root = self.agent.config.runs_dir
        return sorted(p.name for p in root.iterdir()) if root.exists() else []

    async def close(self) -> None:
        await self.agent.stop_measuring()
        await self.agent.runs.settle()
        await self.agent.broker.aclose()


@pytest.fixture
async def host(broker: RunningBroker, tmp_path: Path, runs_dir: Path) -> AsyncIterator[Host]:
    """A registered host agent (its first step registered it)."""
    stepped = Host(broker, tmp_path / "state", None)
    await stepped.agent.step()
    stepped.now += 3600
    assert stepped.agent.registered
    yield stepped
    await stepped.close()


async def test_a_run_is_started_reported_and_stopped_when_told(
    host: Host, broker: RunningBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GP4U_SERVER_ONLY", "server-secret")  # the agent's own environment
    command = f"env > env.txt; {SLEEP}"
    broker.state.host_runs = [run(RUN_A, command, RUN_VAR="from-broker")]
    assert await host.beat() == []  # nothing to report yet; the answer starts it
    pid, workload = host.pid(RUN_A), host.workload_pid(RUN_A)
    assert alive(pid) and alive(workload)
    env = (host.agent.config.runs_dir / RUN_A / "env.txt").read_text()
    assert "RUN_VAR=from-broker" in env and "GP4U_SERVER_ONLY" not in env
    assert await host.beat() == running(RUN_A)
    assert host.pid(RUN_A) == pid  # a run on record is not started again

    broker.state.host_runs = [stop(RUN_A)]
    assert await host.beat() == running(RUN_A)  # the answer stops it, in the background
    await host.agent.runs.settle()
    assert not alive(pid) and not alive(workload)
    exited = [{"id": RUN_A, "state": "exited", "exit_code": 0}]
    assert await host.beat() == exited
    assert host.folders() == [RUN_A]  # the record is kept

    broker.state.host_runs = [run(RUN_A)]  # "run" for a run on record: nothing happens
    assert await host.beat() == exited
    assert host.pid(RUN_A) == pid and not alive(pid)


async def test_a_run_missing_from_the_answer_is_terminated_and_removed(
    host: Host, broker: RunningBroker
) -> None:
    broker.state.host_runs = [run(RUN_A), run(RUN_B)]
    await host.beat()
    assert await host.beat() == running(RUN_A, RUN_B)
    a, b = host.pid(RUN_A), host.pid(RUN_B)
    workload = host.workload_pid(RUN_A)

    broker.state.host_runs = [run(RUN_B)]
    await host.beat()
    await host.agent.runs.settle()
    assert not alive(a) and not alive(workload) and alive(b)
    assert host.folders() == [RUN_B]
    assert await host.beat() == running(RUN_B)

    broker.state.host_runs = []  # an empty list: none is wanted
    await host.beat()
    await host.agent.runs.settle()
    assert not alive(b) and host.folders() == []
    assert await host.beat() == []


async def test_malformed_entries_are_skipped_and_the_runs_they_name_kept(
    host: Host, broker: RunningBroker
) -> None:
    broker.state.host_runs = [run(RUN_A)]
    await host.beat()
    pid = host.pid(RUN_A)
    broker.state.host_runs = [
        "not an object",
        run("NOT-A-RUN-ID"),
        {"id": RUN_A, "action": "explode"},  # skipped, but RUN_A is still wanted
        {"id": RUN_B, "action": "run", "env": {"X": 1}},  # env values must be strings
        {"id": RUN_C, "action": "run", "command": 5, "env": {}},
        run(RUN_D),
        stop(RUN_D),  # the same id twice: the second is skipped
    ]
    await host.beat()
    await host.agent.runs.settle()
    assert host.folders() == [RUN_A, RUN_D]
    assert host.pid(RUN_A) == pid and alive(pid) and alive(host.pid(RUN_D))
    assert await host.beat() == running(RUN_A, RUN_D)

    broker.state.host_runs = {"not": "a list"}  # ignored as a whole: nothing changes
    await host.beat()
    broker.state.host_runs = [run(RUN_A), run(RUN_D), {"id": RUN_B, "action": "run"}]  # no env
    await host.beat()
    await host.agent.runs.settle()
    assert host.folders() == [RUN_A, RUN_D]
    assert await host.beat() == running(RUN_A, RUN_D)


def test_parse_runs_keeps_commands_and_env_but_never_shows_the_env() -> None:
    orders = parse_runs([run(RUN_A, "train.sh", GP4U_AGENT_TOKEN=TOKEN), stop(RUN_B), 7])
    assert isinstance(orders, RunOrders)
    [first, second] = orders.orders
    assert (first.id, first.action, first.command, first.env) == (
        RUN_A,
        "run",
        "train.sh",
        {"GP4U_AGENT_TOKEN": TOKEN},
    )
    assert (second.action, second.command, second.env) == ("stop", None, None)
    assert orders.listed == {RUN_A, RUN_B}
    assert orders.skipped == ("runs[2]: not an object",)
    assert TOKEN not in repr(orders)


async def test_an_answer_without_runs_changes_nothing(host: Host, broker: RunningBroker) -> None:
    broker.state.host_runs = [run(RUN_A)]
    await host.beat()
    pid = host.pid(RUN_A)
    broker.state.host_runs = None  # an older broker
    for _ in range(2):
        assert await host.beat() == running(RUN_A)
    await host.agent.runs.settle()
    assert alive(pid) and host.folders() == [RUN_A]


async def test_runs_survive_an_agent_restart(
    host: Host, broker: RunningBroker, tmp_path: Path
) -> None:
    broker.state.host_runs = [run(RUN_A)]
    await host.beat()
    pid = host.pid(RUN_A)
    await host.close()

    saved = load_saved(host.agent.config.state_file)
    restarted = Host(broker, tmp_path / "state", saved)
    try:
        assert await restarted.beat() == running(RUN_A)  # found again, not started again
        assert restarted.pid(RUN_A) == pid and alive(pid)
        broker.state.host_runs = []
        await restarted.beat()
        await restarted.agent.runs.settle()
        # An adopted run is not this agent's child: its end is seen in /proc, not waited for.
        await until_async(lambda: not alive(pid))
        assert restarted.folders() == []
    finally:
        await restarted.close()


@pytest.mark.parametrize("ending", ["retired", "revoked"])
async def test_a_retired_or_revoked_agent_stops_every_run(
    host: Host, broker: RunningBroker, ending: str
) -> None:
    broker.state.host_runs = [run(RUN_A), run(RUN_B)]
    await host.beat()
    pids = [host.pid(RUN_A), host.pid(RUN_B), host.workload_pid(RUN_A), host.workload_pid(RUN_B)]
    if ending == "retired":
        broker.state.host_status, broker.state.host_action = "retired", "stop"
    else:
        broker.state.host_secrets.clear()  # the machine was deleted on the broker
    assert await host.agent.step() is HostOutcome(ending)
    await host.agent.runs.settle()
    assert not any(alive(pid) for pid in pids)
    assert host.folders() == [RUN_A, RUN_B]
    assert [(r.state, r.exit_code) for r in host.agent.runs.report()] == [("exited", 0)] * 2


async def test_a_signal_leaves_the_runs_running(broker: RunningBroker, runs_dir: Path) -> None:
    broker.state.host_runs = [run(RUN_A)]
    config = HostConfig(broker=broker.url, token=HOST_TOKEN, state_dir=runs_dir.parent)
    agent = HostAgent(config, facts=lambda: {"hostname": "box"})
    task = asyncio.create_task(agent.run())
    try:
        await until_async(lambda: any(r.get("runs") for r in broker.state.host_heartbeats))
        agent.stop("SIGTERM")
        assert await asyncio.wait_for(task, EXIT_TIMEOUT) is HostOutcome.STOPPED
    finally:
        await agent.broker.aclose()
    [record] = WorkloadStore(runs_dir).records()
    assert alive(record["pid"])


def test_the_host_agent_process_runs_a_session_with_its_own_node_agent(
    broker: RunningBroker, tmp_path: Path, runs_dir: Path
) -> None:
    """The real `gp4u agent host` process: the run's env makes the workload start the session's
    node agent, which registers with the broker's session endpoints; neither the run's token nor
    the secrets show in the host agent's log."""
    env = {
        "GP4U_AGENT_TOKEN": TOKEN,
        "GP4U_AGENT_BROKER": broker.url,
        "GP4U_AGENT_HEARTBEAT_SECONDS": "0.2",
    }
    broker.state.host_runs = [run(RUN_A, "exec sleep 30", **env)]
    agent = HostProcess(broker.url, tmp_path)
    try:
        until(lambda: broker.state.heartbeats, what="the session's node agent to heartbeat")
        assert broker.state.registrations[0]["token"] == TOKEN
        until(lambda: broker.state.host_reports() == running(RUN_A), what="the run's report")

        broker.state.host_runs = []
        until(lambda: not (runs_dir / RUN_A).exists(), what="the run to be removed")
        until(lambda: broker.state.host_reports() == [], what="the run to go from the reports")
        agent.process.terminate()
        assert agent.wait() == 14
        log = agent.log()
        assert RUN_A in log and "run removed" in log
        for secret in (TOKEN, SECRET, HOST_TOKEN, HOST_SECRET):
            assert secret not in log
    finally:
        agent.kill()


def test_a_retired_host_agent_process_stops_its_runs_before_exiting(
    broker: RunningBroker, tmp_path: Path, runs_dir: Path
) -> None:
    broker.state.host_runs = [run(RUN_A)]
    agent = HostProcess(broker.url, tmp_path)
    try:
        until(lambda: broker.state.host_reports() == running(RUN_A), what="the run's report")
        [record] = WorkloadStore(runs_dir).records()
        broker.state.host_status, broker.state.host_action = "retired", "stop"
        assert agent.wait() == 10
        assert not alive(record["pid"])
    finally:
        agent.kill()


def test_the_workload_module_writes_its_exit_code(tmp_path: Path) -> None:
    folder = tmp_path / "w"
    folder.mkdir()
    module = [sys.executable, "-m", "gp4u.agent.workload", "--instance-dir", str(folder)]
    process = subprocess.Popen([*module, "--command", "true"], env={})
    assert process.wait(EXIT_TIMEOUT) == 0
    assert (folder / "exit_code").read_text() == "0\n"
    assert {p.name for p in folder.iterdir()} == {"running", "exit_code"}  # no temp file left


async def test_the_benchmark_never_runs_beside_a_run(
    broker: RunningBroker, tmp_path: Path, runs_dir: Path
) -> None:
    pid_file = tmp_path / "benchmark.pid"
    benchmark = [
        sys.executable,
        "-c",
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)",
    ]
    host = Host(broker, tmp_path / "state", None, benchmark=benchmark)
    try:
        await host.agent.step()  # registers
        host.now += 3600
        await host.beat()  # idle: the benchmark starts beside the heartbeats
        await until_async(lambda: pid_file.exists() and pid_file.read_text())
        measuring = int(pid_file.read_text())
        assert alive(measuring)

        broker.state.host_runs = [run(RUN_A)]
        await host.beat()  # the answer starts a run: the benchmark is killed at once
        await until_async(lambda: not alive(measuring))
        assert host.agent.throughput is None
        pid_file.unlink()
        assert await host.beat() == running(RUN_A)
        await asyncio.sleep(0.2)
        assert not pid_file.exists()  # not while the run is live

        broker.state.host_runs = [stop(RUN_A)]
        await host.beat()
        await host.agent.runs.settle()
        await host.beat()  # the run has exited: measured again, later
        await until_async(lambda: pid_file.exists() and pid_file.read_text())
        assert alive(int(pid_file.read_text()))
    finally:
        await host.close()
    assert not alive(int(pid_file.read_text()))  # stopping the agent kills it

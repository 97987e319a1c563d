"""Sessions with real processes end to end: `gp4u serve` (its own process, in-process jobs)
launches on the `local` provider, whose instance runs the real node agent. The agent checks in,
heartbeats, reports its workload done; and when the broker is killed outright, the agents'
dead-man switches free their machines, and the restarted broker finds the sessions' machines
gone and ends them (no orphans, no ghosts)."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.provisioning.support import alive_instances

GP4U = str(Path(sys.executable).parent / "gp4u")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [GP4U, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        until(lambda: _ready(url), "the server is ready", 60)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def until(check: Callable[[], Any], what: str, seconds: float = 90) -> Any:
    """Poll `check` until it returns something truthy (bounded: this is not a timing claim)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting until {what}")


@pytest.fixture
def broker_env(db_url: str, tmp_path: Path, env_without_gp4u: dict[str, str]) -> dict[str, str]:
    return {
        **env_without_gp4u,
        "GP4U_DATA_DIR": str(tmp_path / "var"),
        "GP4U_DATABASE_URL": db_url,
        "GP4U_PROVIDERS": "local",
        "GP4U_CATALOG_URL": "",
        "GP4U_SIMULATED_MARKET": "false",
        "GP4U_LOG_LEVEL": "WARNING",
        "GP4U_LIFECYCLE_SECONDS": "0.5",
        "GP4U_RECONCILE_SECONDS": "1",
        "GP4U_AGENT_HEARTBEAT_SECONDS": "0.3",
        "GP4U_AGENT_HEARTBEAT_TIMEOUT_SECONDS": "20",
        "GP4U_AGENT_BROKER_TIMEOUT_SECONDS": "6",
    }


def _session(api: httpx.Client, session_id: int) -> dict[str, Any]:
    return dict(api.get(f"/api/v1/sessions/{session_id}").json())


def _in_state(api: httpx.Client, session_id: int, *states: str) -> dict[str, Any] | None:
    found = _session(api, session_id)
    return found if found["state"] in states else None


def _waiting_for(api: httpx.Client, session_id: int, state: str) -> Callable[[], Any]:
    return lambda: _in_state(api, session_id, state)


def _launch(api: httpx.Client, command: str | None = None) -> int:
    # "skipped" when the server's own periodic sync of it is running at that moment.
    assert api.post("/api/v1/providers/local/sync").json()["status"] in ("ok", "skipped")
    [offer] = until(
        lambda: api.get("/api/v1/offers", params={"q": "provider=local"}).json()["items"],
        "the local offer is in the market",
    )
    body: dict[str, Any] = {"offer_id": offer["id"], "hours": 1}
    if command:
        body["startup_command"] = command
    # Until the server's startup reconciliation is done, a launch is refused with 503.
    created = until(lambda: _accepted(api.post("/api/v1/sessions", json=body)), "it is accepted")
    return int(created.json()["id"])


def _accepted(response: httpx.Response) -> httpx.Response | None:
    if response.status_code == 503:
        return None
    assert response.status_code == 202, response.text
    return response


def _alive_instances(data_dir: Path) -> list[str]:
    return asyncio.run(alive_instances(data_dir))


def _api(port: int) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)


def test_the_agent_checks_in_and_stopping_destroys_the_machine(
    broker_env: dict[str, str], tmp_path: Path
) -> None:
    port = _free_port()
    with serving(broker_env, port), _api(port) as api:
        session_id = _launch(api)
        running = until(lambda: _in_state(api, session_id, "running"), "the agent checks in")
        assert running["agent"]["facts"]["cpu_count"] >= 1
        assert running["instance_id"] in _alive_instances(tmp_path / "var")
        assert api.post(f"/api/v1/sessions/{session_id}/stop").json()["state"] == "ending"
        done = until(lambda: _in_state(api, session_id, "terminated"), "it is destroyed")
        assert done["destroyed_at"] and done["end_reason"] == "user"
        assert _alive_instances(tmp_path / "var") == []


def test_a_finished_workload_ends_its_session(broker_env: dict[str, str], tmp_path: Path) -> None:
    port = _free_port()
    with serving(broker_env, port), _api(port) as api:
        session_id = _launch(api, command="sleep 1; exit 3")
        done = until(lambda: _in_state(api, session_id, "terminated"), "the workload ends it")
        assert done["end_reason"] == "agent_done"
        assert done["end_detail"] == "exit code 3: the startup command finished"
        assert _alive_instances(tmp_path / "var") == []


def test_agents_free_their_machines_when_the_broker_dies(
    broker_env: dict[str, str], tmp_path: Path
) -> None:
    port = _free_port()
    with serving(broker_env, port) as broker, _api(port) as api:
        sessions = [_launch(api), _launch(api)]
        for session_id in sessions:
            until(_waiting_for(api, session_id, "running"), "the agents check in")
        assert len(_alive_instances(tmp_path / "var")) == 2
        broker.send_signal(signal.SIGKILL)  # no shutdown, no cleanup: a crash
        broker.wait(timeout=10)
    # The broker timeout (6 s) fires in each agent; the local machine is its process.
    until(lambda: _alive_instances(tmp_path / "var") == [], "the dead-man switches fire")
    with serving(broker_env, port), _api(port) as api:
        for session_id in sessions:
            ended = until(_waiting_for(api, session_id, "terminated"), "reconciliation ends it")
            assert ended["end_reason"] == "ghost" and ended["destroyed_at"]
        assert _alive_instances(tmp_path / "var") == []

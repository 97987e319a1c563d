"""The local status endpoint (in process, through ASGI) and the `agent` command line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from gp4u.agent.cli import agent as agent_cli
from gp4u.agent.config import AgentConfig
from gp4u.agent.core import Agent
from gp4u.agent.status import create_app
from gp4u.cli.agent import agent as reexported
from gp4u.kit.clock import FrozenClock

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def agent() -> Agent:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    config = AgentConfig(broker="http://broker.test", token="tok-x", hard_deadline=T0)
    return Agent(config, clock=FrozenClock(T0), transport=httpx.MockTransport(unreachable))


@pytest.fixture
async def client(agent: Agent) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(agent))
    async with httpx.AsyncClient(transport=transport, base_url="http://agent") as client:
        yield client


async def test_status(client: httpx.AsyncClient) -> None:
    response = await client.get("/status")
    assert response.status_code == 200
    body = response.json()
    assert body["registered"] is False and body["session_id"] is None
    assert (body["last_contact"], body["broker_reachable"]) == (None, None)
    assert (body["hard_deadline"], body["seconds_left"]) == (T0.isoformat(), 0.0)
    assert "facts" in body and "tok-x" not in response.text


async def test_done_is_accepted_once(client: httpx.AsyncClient, agent: Agent) -> None:
    first = await client.post("/done", json={"exit_code": 3, "message": "ok"})
    assert first.status_code == 202
    assert first.json()["accepted"] is True and first.json()["status"]["done_requested"]
    again = await client.post("/done", json={"exit_code": 4})
    assert again.json()["accepted"] is False
    assert agent.done_request is not None and agent.done_request.exit_code == 3


async def test_an_empty_done_body_means_no_details(client: httpx.AsyncClient, agent: Agent) -> None:
    assert (await client.post("/done")).status_code == 202
    assert agent.done_request is not None
    assert (agent.done_request.exit_code, agent.done_request.message) == (None, None)


@pytest.mark.parametrize(
    "content",
    [b"{", b"[1]", b'{"exit_code": "3"}', b'{"exit_code": true}', b'{"message": 5}'],
)
async def test_a_bad_done_body_is_refused(
    client: httpx.AsyncClient, agent: Agent, content: bytes
) -> None:
    response = await client.post("/done", content=content)
    assert response.status_code == 422
    assert response.json()["error"] == "ValidationError"
    assert agent.done_request is None


def test_cli_help_lists_commands_and_exit_codes() -> None:
    assert reexported is agent_cli
    runner = CliRunner()
    result = runner.invoke(agent_cli, ["--help"])
    assert result.exit_code == 0
    assert all(name in result.output for name in ("run", "done", "status"))
    result = runner.invoke(agent_cli, ["run", "--help"])
    assert result.exit_code == 0
    assert "GP4U_AGENT_BROKER" in result.output and "13  no successful broker" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--broker"),
        (["--broker", "http://b"], "--token"),
        (["--broker", "http://b", "--token", "t", "--hard-deadline", "soon"], "ISO 8601"),
        (["--broker", "b.example", "--token", "t"], "http://"),
        (["--broker", "http://b", "--token", "t", "--on-shutdown", "nap"], "nap"),
    ],
)
def test_cli_run_refuses_bad_options(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GP4U_AGENT_BROKER", "GP4U_AGENT_TOKEN", "GP4U_AGENT_HARD_DEADLINE"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(agent_cli, ["run", *args])
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize("command", [["done", "--exit-code", "1"], ["status"]])
def test_cli_without_a_running_agent(tmp_path: Path, command: list[str]) -> None:
    result = CliRunner().invoke(agent_cli, [*command, "--state-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "no running agent" in result.output


@pytest.mark.parametrize(
    ("host", "url_host"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("0.0.0.0", "127.0.0.1"),
        ("::", "[::1]"),
        ("::1", "[::1]"),
        ("localhost", "localhost"),
    ],
)
def test_the_status_url_names_a_reachable_address(host: str, url_host: str) -> None:
    from gp4u.agent.status import _url_host

    assert _url_host(host) == url_host

"""`gp4u launch`, `sessions`, `session`, `extend`, `stop` and `costs` through click's runner
against a real server on a local port (this process, the test's clock and database, the costs
API mounted, Vast.ai faked): launching with a generated key and waiting for the agent, the
tables, the money, and the errors a user meets first."""

from __future__ import annotations

import json
import os
import stat
import typing
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from fastapi import FastAPI, Request
from structlog.testing import capture_logs

from gp4u.cli.main import main
from gp4u.cli.wallet import usd
from gp4u.fakes.kit import FakeState
from gp4u.jobs.execute import run_job
from gp4u.kit.clock import FrozenClock
from gp4u.provisioning import sshkeys
from tests.costs.support import cost_of, free_port, micros, served, with_costs
from tests.provisioning import conftest as provisioning
from tests.provisioning.support import ctx_of, drain, live_tagged

# The session tests' fixtures: a fake Vast.ai on a real port and GP4U launching on it.
vast_app = provisioning.vast_app
vast_server = provisioning.vast_server
vast = provisioning.vast
broker_settings = provisioning.broker_settings
broker_app = provisioning.broker_app


def with_job_hooks(app: FastAPI) -> FastAPI:
    """Test-only routes that run the server's jobs on its own event loop, when the test says."""

    async def drain_jobs(request: Request) -> list[str]:
        return await drain(ctx_of(request.app))

    async def lifecycle(request: Request) -> None:
        await run_job(ctx_of(request.app), "sessions.lifecycle")

    app.add_api_route("/test/drain", drain_jobs, methods=["POST"])
    app.add_api_route("/test/lifecycle", lifecycle, methods=["POST"])
    return app


@pytest.fixture
def server(broker_app: FastAPI) -> Iterator[str]:
    """The server's logs are dropped: it shares this process's stdout with the commands."""
    with capture_logs(), served(with_job_hooks(with_costs(broker_app))) as url:
        yield url


@pytest.fixture
def env(tmp_path: Path, server: str) -> dict[str, str]:
    return {
        "GP4U_API_URL": server,
        "GP4U_CREDENTIALS_FILE": str(tmp_path / "credentials.json"),
        "HOME": str(tmp_path / "home"),
    }


def cli(args: list[str], env: dict[str, str], code: int = 0) -> Result:
    """Run `gp4u ARGS` in this process with exactly these GP4U_* settings."""
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("GP4U_")}
    result = CliRunner().invoke(main, args, env={**clean, **env}, catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def as_json(result: Result) -> typing.Any:
    return json.loads(result.stdout)


class Agent:
    """Stands in for the machine while the CLI waits: runs the launch job, then checks the
    agent in once the fake Vast.ai has the instance, then lets the lifecycle find its address."""

    def __init__(self, url: str, vast: FakeState) -> None:
        self.url, self.vast, self.registered = url, vast, False

    def __call__(self, _seconds: float) -> None:
        httpx.post(f"{self.url}/test/drain").raise_for_status()
        instances = live_tagged(self.vast)
        if instances and not self.registered:
            token = instances[0].attrs["env"]["GP4U_AGENT_TOKEN"]
            httpx.post(f"{self.url}/api/v1/agent/register", json={"token": token})
            self.registered = True
        httpx.post(f"{self.url}/test/lifecycle").raise_for_status()


def cheapest_offer(url: str) -> dict[str, typing.Any]:
    httpx.post(f"{url}/api/v1/providers/vastai/sync").raise_for_status()
    query = {"q": "provider=vastai spot=false", "sort": "price_per_hour"}
    items = httpx.get(f"{url}/api/v1/offers", params=query).json()["items"]
    offer: dict[str, typing.Any] = items[0]
    return offer


def test_launch_waits_for_the_agent_then_the_session_is_read_extended_stopped_and_costed(
    server: str,
    env: dict[str, str],
    vast: FakeState,
    clock: FrozenClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("gp4u.cli.sessions.pause", Agent(server, vast))
    clock.advance(datetime(2026, 11, 1, 23, 0, tzinfo=UTC) - clock.now())
    cli(["wallet", "deposit", "200", "--api", server], env)
    offer = cheapest_offer(server)
    launched = cli(
        ["launch", str(offer["id"]), "--hours", "2", "--generate-key", "--env", "HF=secret1"],
        env,
    )
    key_file = tmp_path / "home" / ".ssh" / "gp4u-session-1"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    out = launched.stdout
    assert "PRIVATE KEY" not in out + launched.stderr
    assert out.startswith("session 1: running · 1× ") and "at vastai" in out
    assert f"ssh: ssh -i {key_file} -p " in out and f"private key: {key_file}" in out
    assert "launch: tried 1 of " in out and launched.stderr == "session 1: provisioning…\n"

    table = cli(["sessions"], env).stdout
    assert "running" in table and "1 sessions (times UTC)" in table
    assert as_json(cli(["sessions", "--state", "terminated", "--json"], env))["items"] == []
    detail = cli(["session", "1"], env).stdout
    assert detail.startswith("SESSION 1 ") and "HF" in detail and "secret1" not in detail
    assert as_json(cli(["session", "1", "--json"], env))["env_keys"] == ["HF"]

    extended = cli(["extend", "1", "--hours", "1"], env).stdout
    assert "session 1: paid until 2026-11-02 02:00 UTC (+1 h, $" in extended

    clock.advance(datetime(2026, 11, 2, 0, 30, tzinfo=UTC) - clock.now())
    price = micros(offer["price_per_hour"])
    summary = cli(["costs"], env).stdout
    assert f"2026-11 (UTC) to date: {usd(cost_of(price, 90) / 1e6)}\n" in summary
    assert f"burn rate: {usd(offer['price_per_hour'])}/h" in summary
    assert "(1 running)" in summary and "no monthly budget" in summary
    assert "top sessions" in summary and "(login)" in summary
    data = as_json(cli(["costs", "--json", "--days", "2"], env))
    assert [micros(d["cost"]) for d in data["daily"]] == [
        cost_of(price, 60),
        cost_of(price, 90) - cost_of(price, 60),
    ]
    cli(["wallet", "budget", "--set", "0.01"], env)
    assert "OVER BUDGET" in cli(["costs"], env).stdout

    stopped = cli(["stop", "1"], env).stdout
    assert stopped.startswith("session 1: ending (billing stopped")
    assert stopped.endswith(f"cost {usd(cost_of(price, 90) / 1e6)}\n")
    assert "ending" in cli(["stop", "1"], env).stdout  # again: nothing changes
    gone = cli(["extend", "1", "--hours", "1"], env, code=2)
    assert "only a live session can be extended" in gone.stderr


def test_a_launch_without_waiting_and_the_mistakes_users_make(
    server: str, env: dict[str, str], tmp_path: Path
) -> None:
    offer = cheapest_offer(server)
    pub = tmp_path / "id_test.pub"
    pub.write_text(sshkeys.generate("me").public + "\n")
    cli(["wallet", "deposit", "50", "--api", server], env)
    created = as_json(
        cli(
            [
                "launch",
                str(offer["id"]),
                "--hours",
                "1",
                "--no-wait",
                "--ssh-key",
                str(pub),
                "--json",
            ],
            env,
        )
    )
    assert created["state"] == "provisioning" and created["ssh_private_key_file"] is None
    assert created["ssh_fingerprint"] and "ssh_private_key" not in created

    private = tmp_path / "id_test"
    private.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nxyz\n")
    refused = cli(["launch", str(offer["id"]), "--hours", "1", "--ssh-key", str(private)], env, 2)
    assert "is a private key: pass its public half" in refused.stderr
    both = ["launch", "1", "--hours", "1", "--ssh-key", str(pub), "--generate-key"]
    assert "not both" in cli(both, env, 2).stderr
    assert "not NAME=VALUE" in cli(["launch", "1", "--hours", "1", "--env", "X"], env, 2).stderr
    assert "no offer 999999" in cli(["launch", "999999", "--hours", "1"], env, 2).stderr
    assert "no session 77" in cli(["session", "77"], env, 2).stderr
    assert "has not begun" in cli(["costs", "--month", "2999-01"], env, 2).stderr
    for command in ("launch", "sessions", "session", "stop", "extend", "costs"):
        assert "--api URL" in cli([command, "--help"], env).stdout


def test_no_server_is_said_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    env = {"GP4U_CREDENTIALS_FILE": str(tmp_path / "none.json")}
    said = cli(["sessions", "--api", closed], env, 2)
    assert said.stderr == f"error: no GP4U server at {closed}: start one with `make run`\n"
    monkeypatch.setattr("gp4u.cli.sessions.LOCAL_SERVER", closed)  # the default, without --api
    assert f"no GP4U server at {closed}" in cli(["costs"], env, 2).stderr

"""`gp4u cluster` through click's runner against one real `gp4u serve` per module (its own
process, in-process jobs, real clock) whose market is the `local` provider's two priced H100
slots: creating with a generated key, listing, showing, stopping a planned cluster, a cluster
run to completion on real agents with `create --start --wait`, and the errors users meet.
Tests share the server, so each looks only at the clusters it made."""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import stat
import typing
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import Result

from gp4u.db.engine import create_engine, session_factory
from gp4u.ledger import service as ledger
from tests.cli.test_sessions_cli import as_json
from tests.cli.test_sessions_cli import cli as run_gp4u
from tests.conftest import LANES, empty_postgres
from tests.provisioning.test_local_agent import _free_port, serving, until

SLOTS = [
    {"ref": "slot-a", "gpu": "H100", "gpu_memory_gb": 80, "price_per_hour": 2.00},
    {"ref": "slot-b", "gpu": "H100", "gpu_memory_gb": 80, "price_per_hour": 2.10},
]
# 0.5 useful PFLOP-hours in an hour is more than one H100 does: two machines, both slots.
JOB = ["--pflop-hours", "0.5", "--deadline", "1h"]


async def _audit(url: str) -> list[typing.Any]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return list(await ledger.audit(session))
    finally:
        await engine.dispose()


async def _empty(url: str) -> None:
    engine = create_engine(url)
    try:
        await empty_postgres(engine)
    finally:
        await engine.dispose()


def _market_ready(api: httpx.Client) -> bool:
    api.post("/api/v1/providers/local/sync")
    items = api.get("/api/v1/offers", params={"q": "provider=local"}).json()["items"]
    return len(items) == len(SLOTS)


@pytest.fixture(scope="module", params=LANES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[str]:
    """The server with $50 deposited and the slots on its market; afterwards the ledger audit
    must pass on what the module's tests left."""
    base = tmp_path_factory.mktemp("cluster-cli")
    if request.param == "sqlite":
        shutil.copy(sqlite_template, base / "gp4u.sqlite3")
        db_url = f"sqlite+aiosqlite:///{base / 'gp4u.sqlite3'}"
    else:
        db_url = str(request.getfixturevalue("postgres_ready"))
        asyncio.run(_empty(db_url))
    data_dir = base / "var"
    data_dir.mkdir()
    (data_dir / "local-offers.json").write_text(json.dumps(SLOTS))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GP4U_")},
        "GP4U_DATA_DIR": str(data_dir),
        "GP4U_DATABASE_URL": db_url,
        "GP4U_PROVIDERS": "local",
        "GP4U_CATALOG_URL": "",
        "GP4U_SIMULATED_MARKET": "false",
        "GP4U_LOG_LEVEL": "WARNING",
        "GP4U_LIFECYCLE_SECONDS": "0.5",
        "GP4U_RECONCILE_SECONDS": "1",
        "GP4U_AGENT_HEARTBEAT_SECONDS": "0.3",
    }
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with serving(env, port), httpx.Client(base_url=url, timeout=10) as api:
        deposit = api.post("/api/v1/wallet/deposits", json={"amount": "50.00", "source": "tok_ok"})
        assert deposit.status_code in (200, 201), deposit.text
        until(lambda: _market_ready(api), "the slots are on the market")
        yield url
    assert asyncio.run(_audit(db_url)) == []


@pytest.fixture
def env(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setattr("gp4u.cli.clusters.POLL_SECONDS", 0.2)
    return {
        "GP4U_API_URL": server,
        "GP4U_CREDENTIALS_FILE": str(tmp_path / "credentials.json"),
        "HOME": str(tmp_path / "home"),
    }


def cli(args: list[str], env: dict[str, str], code: int = 0) -> Result:
    """Run `gp4u cluster ARGS` in this process with exactly these GP4U_* settings."""
    return run_gp4u(["cluster", *args], env, code)


def shown(cluster_id: int, env: dict[str, str]) -> dict[str, typing.Any]:
    return dict(as_json(cli(["show", str(cluster_id), "--json"], env)))


def test_create_list_show_and_stop_a_planned_cluster(env: dict[str, str], tmp_path: Path) -> None:
    args = [*JOB, "--name", "demo", "--env", "HF=secret1", "--ssh-key", "generate", "--json"]
    created = as_json(cli(["create", *args], env))
    cid = created["id"]
    assert created["state"] == "planned" and created["name"] == "demo"
    assert len(created["members"]) == 2 and created["env_keys"] == ["HF"]
    assert created["money"]["estimate"] > 0
    assert created["money"]["held"] == created["money"]["estimate"]
    key_file = Path(created["ssh_private_key_file"])
    assert key_file == tmp_path / "home" / ".ssh" / f"gp4u-cluster-{cid}"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert "ssh_private_key" not in created

    table = cli(["list"], env).stdout
    assert "demo" in table and "planned" in table and "clusters (times UTC)" in table
    planned = as_json(cli(["list", "--state", "planned", "--json"], env))["items"]
    assert cid in [c["id"] for c in planned]

    detail = cli(["show", str(cid)], env).stdout
    assert detail.startswith(f"cluster {cid} (demo): planned · deadline ")
    assert "progress: 0.000 of 0.500 PFLOP-hours (0.0%) · 0 machine(s) running" in detail
    estimate = created["money"]["estimate"]
    assert f"money: estimate ${estimate:,.2f}" in detail or f"money: estimate ${estimate}" in detail
    assert "2 members, 0 re-plan(s)" in detail and "H100" in detail
    assert "planned: 2 machines" in detail  # the last events

    stopped = cli(["stop", str(cid)], env).stdout
    assert stopped.startswith(f"cluster {cid} (demo): ending · deadline ")
    final = until(lambda: (c := shown(cid, env))["state"] == "stopped" and c, "it settles", 30)
    assert final["money"]["held"] == 0 and final["money"]["captured"] == 0
    assert all(m["state"] == "cancelled" for m in final["members"])
    assert "stopped" in cli(["stop", str(cid)], env).stdout  # again: nothing changes
    refused = cli(["start", str(cid)], env, code=2)
    assert f"cluster {cid} is stopped; it cannot start" in refused.stderr


def test_create_in_words_then_stop_and_wait(env: dict[str, str]) -> None:
    created = cli(["create", *JOB], env)
    first = created.stdout.splitlines()[0]
    cid = int(first.split()[1].rstrip(":"))
    assert first.startswith(f"cluster {cid}: planned · deadline ")
    assert "2 machine(s), 2 GPUs" in created.stdout and "1x H100 80 GB on local" in created.stdout
    assert "held on your wallet: $" in created.stdout
    assert created.stdout.endswith(f"start it: gp4u cluster start {cid}\n")

    waited = cli(["stop", str(cid), "--wait"], env)
    assert f"cluster {cid}: ending…" in waited.stderr and f"cluster {cid}: stopped" in waited.stderr
    assert f"cluster {cid}: stopped · deadline" in waited.stdout
    assert "ended: user: stopped by you" in waited.stdout


def test_a_cluster_started_at_creation_runs_to_completion_on_real_agents(
    env: dict[str, str],
) -> None:
    args = [*JOB, "--command", "sleep 1", "--start", "--wait", "--timeout", "120", "--json"]
    result = cli(["create", *args], env)
    final = as_json(result)
    cid = final["id"]
    assert final["state"] == "completed", final["events"]
    assert f"cluster {cid}: starting…" in result.stderr
    assert f"cluster {cid}: completed · " in result.stderr
    assert math.isclose(sum(m["contribution"] for m in final["members"]), 1.0, abs_tol=1e-5)
    assert all(m["state"] == "done" and m["session_id"] for m in final["members"])
    assert final["money"]["held"] == 0
    assert math.isclose(
        final["money"]["captured"], sum(m["cost_so_far"] for m in final["members"]), abs_tol=1e-6
    )
    detail = cli(["show", str(cid)], env).stdout
    assert f"cluster {cid}: completed" in detail and "done" in detail


def test_the_mistakes_users_make(env: dict[str, str], tmp_path: Path) -> None:
    none = cli(["create", *JOB, "--vram", "200"], env, code=2)
    assert none.stderr.startswith("error: no plan on the offers that can launch here")
    assert none.stdout == ""
    when = cli(["create", "--pflop-hours", "1", "--deadline", "nonsense"], env, code=2)
    assert "give hours (48, 48h), days (3d) or a date" in when.stderr
    both = cli(["create", "--pflop-hours", "1", "--gpu-hours", "1", "--deadline", "3"], env, 2)
    assert "give one of --pflop-hours and --gpu-hours" in both.stderr
    assert "add --start" in cli(["create", *JOB, "--wait"], env, 2).stderr
    assert "not NAME=VALUE" in cli(["create", *JOB, "--env", "X"], env, 2).stderr
    missing = cli(["create", *JOB, "--ssh-key", str(tmp_path / "nope.pub")], env, 2)
    assert "is not a file: give a public key file or 'generate'" in missing.stderr
    private = tmp_path / "id_test"
    private.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nxyz\n")
    refused = cli(["create", *JOB, "--ssh-key", str(private)], env, 2)
    assert "is a private key: pass its public half" in refused.stderr
    assert "no cluster 999999" in cli(["show", "999999"], env, 2).stderr
    assert "no cluster 999999" in cli(["stop", "999999"], env, 2).stderr
    nobody = cli(["list", "--api", f"http://127.0.0.1:{_free_port()}"], env, 2)
    assert "no GP4U server at http://127.0.0.1:" in nobody.stderr

"""The `gp4u` command as users run it: real processes, the embedded database, PostgreSQL through
GP4U_DATABASE_URL, and a live `gp4u serve` reached with --api."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gp4u.db.schema_version import SCHEMA_REVISION
from gp4u.fakes import kit
from tests.cli.conftest import run
from tests.conftest import CATALOGS


def test_first_search_sets_up_the_embedded_market(embedded: dict[str, str], tmp_path: Path) -> None:
    result = run(["offers", "gpu=H100", "gpu_count>=8", "--json", "--limit", "3"], embedded)
    body = json.loads(result.stdout)
    assert len(body["items"]) == 3 and body["next_cursor"]
    assert {(i["gpu"], i["source"]) for i in body["items"]} == {("H100", "simulated")}
    assert all(i["gpu_count"] >= 8 for i in body["items"])
    assert "Setting up the embedded database" in result.stderr
    assert (tmp_path / "var" / "gp4u.sqlite3").exists()
    table = run(["offers", "gpu=H100", "--limit", "2"], embedded).stdout
    assert "$/GPU-H" in table and "simulated market" in table
    following = run(
        [
            "offers",
            "gpu=H100",
            "gpu_count>=8",
            "--json",
            "--limit",
            "3",
            "--cursor",
            body["next_cursor"],
        ],
        embedded,
    )
    assert {i["id"] for i in json.loads(following.stdout)["items"]}.isdisjoint(
        {i["id"] for i in body["items"]}
    )


def test_import_then_search_group_and_inspect(embedded: dict[str, str]) -> None:
    report = run(["catalog", "import", str(CATALOGS)], embedded).stdout
    assert "rows read 57845" in report
    assert "offers upserted 2450 (added 2450, changed 0)" in report
    assert "no_gpu: 56032" in report and "fractional_gpu: 108" in report
    assert "corrected spot_on_demand_swapped: 4" in report
    again = run(["catalog", "import", str(CATALOGS), "--json"], embedded).stdout
    assert sum(r["unchanged"] for r in json.loads(again)) == 2450

    found = json.loads(
        run(
            ["offers", "provider=lambda", "instance_type=gpu_8x_h100_sxm5", "spot=false", "--json"],
            embedded,
        ).stdout
    )["items"]
    assert {i["price_per_hour"] for i in found} == {31.92}
    csv_out = run(["offers", "gpu=A100-80GB", "--csv", "--limit", "2"], embedded).stdout
    assert csv_out.splitlines()[0].startswith("id,provider,source,instance_type")
    groups = json.loads(run(["offers", "gpu=H100", "--group-by", "gpu", "--json"], embedded).stdout)
    assert groups["items"][0]["gpu"] == "H100" and groups["items"][0]["providers"] >= 10

    detail = json.loads(run(["offer", str(found[0]["id"]), "--json"], embedded).stdout)
    assert detail["history"][0]["price_per_hour"] == 31.92
    gpus = json.loads(run(["gpus", "--json"], embedded).stdout)
    assert next(g for g in gpus["items"] if g["name"] == "H100")["market"]["offers"] > 100
    providers = run(["providers"], embedded).stdout
    assert "lambda" in providers and "catalog" in providers


def test_bad_input_exits_2_with_one_clear_line(embedded: dict[str, str], tmp_path: Path) -> None:
    bad = run(["offers", "gpuu=H100"], embedded, ok=False)
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: unknown field 'gpuu'")
    assert "Traceback" not in bad.stderr
    assert run(["offers", "--limit", "5000"], embedded, ok=False).returncode == 2
    empty = tmp_path / "empty" / "vms.csv"
    empty.parent.mkdir()
    empty.write_text("")
    good = tmp_path / "good" / "vms.csv"
    good.parent.mkdir()
    good.write_text((CATALOGS / "hyperbolic" / "vms.csv").read_text())
    failed = run(["catalog", "import", str(empty), str(good)], embedded, ok=False)
    assert failed.returncode == 1  # one provider failed, the other imported
    assert (
        "the catalog is empty" in failed.stdout and "1 provider(s) failed: empty" in failed.stderr
    )
    assert "added 3" in failed.stdout
    missing = run(["catalog", "import", str(tmp_path / "nope")], embedded, ok=False)
    assert "no such file or directory" in missing.stderr


def test_cli_on_each_database(
    db_url: str, engine: AsyncEngine, env_without_gp4u: dict[str, str]
) -> None:
    env = {**env_without_gp4u, "GP4U_DATABASE_URL": db_url, "GP4U_CATALOG_URL": ""}
    run(["db", "upgrade"], env)
    assert run(["db", "current"], env).stdout.strip() == f"{SCHEMA_REVISION} (current)"
    run(["catalog", "import", str(CATALOGS / "lambda")], env)
    found = json.loads(
        run(["offers", "gpu=H100", "gpu_count=8", "spot=false", "--json"], env).stdout
    )["items"]
    assert {i["price_per_gpu_hour"] for i in found} == {3.99}
    groups = json.loads(run(["offers", "--group-by", "variant", "--json"], env).stdout)["items"]
    assert {g["gpu"] for g in groups} >= {"H100", "A100", "B200"}


def test_offline_server_answers_at_once_and_cli_talks_to_it(
    live_server: str, env_without_gp4u: dict[str, str]
) -> None:
    first = httpx.get(f"{live_server}/api/v1/offers", params={"q": "gpu=H100", "limit": 5})
    assert first.status_code == 200 and first.headers["x-request-id"]
    assert {i["source"] for i in first.json()["items"]} == {"simulated"}
    remote = run(
        ["offers", "--api", live_server, "gpu=H100", "--json", "--limit", "5"], env_without_gp4u
    )
    assert json.loads(remote.stdout)["items"] == first.json()["items"]
    bad = run(["offers", "--api", live_server, "gpuu=1"], env_without_gp4u, ok=False)
    assert bad.returncode == 2 and "unknown field 'gpuu'" in bad.stderr
    env = {**env_without_gp4u, "GP4U_API_URL": live_server}
    assert "H100" in run(["gpus"], env).stdout
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the first background syncs run; the catalogs fail
        items = json.loads(run(["providers", "--json"], env).stdout)["items"]
        by = {i["name"]: i for i in items}
        if all((by[n].get("market") or {}).get("last_status") for n in ("catalog-lambda", "local")):
            break
        time.sleep(0.5)
    assert by["catalog-lambda"]["market"]["last_status"] == "failed"
    assert "cannot connect" in by["catalog-lambda"]["market"]["last_error"]
    assert by["catalog-aws"]["status"] in ("unavailable", "degraded")
    assert by["local"]["market"]["last_status"] == "ok"  # this machine, offered at $0
    assert by["simulated:aws"]["market"]["available_offers"] > 0  # the demo market stays


def test_sync_and_providers_on_the_embedded_database(
    tmp_path: Path, env_without_gp4u: dict[str, str], shared_catalogs: kit.RunningFake
) -> None:
    env = {
        **env_without_gp4u,
        "GP4U_DATA_DIR": str(tmp_path / "var"),
        "GP4U_PROVIDERS": "local",
        "GP4U_CATALOG_URL": shared_catalogs.url,
        "GP4U_CATALOG_PROVIDERS": "lambda,nowhere",
    }
    done = run(["sync", "catalog-lambda", "local", "--json"], env)
    outcomes = {o["name"]: o for o in json.loads(done.stdout)}
    assert (outcomes["catalog-lambda"]["status"], outcomes["catalog-lambda"]["added"]) == (
        "ok",
        391,
    )
    assert outcomes["local"]["status"] == "ok"

    failed = run(["sync", "catalog-nowhere"], env, ok=False)
    assert failed.returncode == 1 and "1 provider(s) failed: catalog-nowhere" in failed.stderr
    assert "rejected" in failed.stdout  # the table names the error kind

    unknown = run(["sync", "nosuch"], env, ok=False)
    assert unknown.returncode == 2 and "unknown provider nosuch" in unknown.stderr

    listing = {i["name"]: i for i in json.loads(run(["providers", "--json"], env).stdout)["items"]}
    assert listing["catalog-lambda"]["market"]["available_offers"] == 391
    assert listing["catalog-nowhere"]["market"]["last_status"] == "failed"
    table = run(["providers"], env).stdout
    assert "catalog-lambda" in table and "catalog only: no provisioning API" in table


def test_pricing_and_alert_commands_on_the_embedded_database(embedded: dict[str, str]) -> None:
    run(["catalog", "import", str(CATALOGS / "lambda"), str(CATALOGS / "runpod")], embedded)
    arbitrage = json.loads(run(["arbitrage", "--gpu", "H100", "--json"], embedded).stdout)
    assert arbitrage["items"] and all(i["gpu"] == "H100" for i in arbitrage["items"])
    saved = json.loads(
        run(["savings", "H100", "--count", "8", "--days", "10", "--json"], embedded).stdout
    )
    assert saved["hours"] == 240 and saved["cheapest"]["period"] > 0
    ranked = json.loads(
        run(["recommend", "gpu_count=1", "--weights", "price:1", "--json"], embedded).stdout
    )
    prices = [i["offer"]["price_per_hour"] for i in ranked["items"]]
    assert prices == sorted(prices)
    ids = [str(i["offer"]["id"]) for i in ranked["items"][:2]]
    assert "G-Score" in run(["compare", *ids], embedded).stdout
    added = run(["watch", "add", "gpu=H100", "gpu_count=8", "--below", "2.2"], embedded).stdout
    watch_id = added.split()[1].rstrip(":")
    listed = json.loads(run(["watch", "list", "--json"], embedded).stdout)["items"]
    assert [str(w["id"]) for w in listed] == [watch_id]
    run(["watch", "rm", watch_id], embedded)
    missing = run(["watch", "rm", watch_id], embedded, ok=False)
    assert missing.returncode != 0 and f"no watch {watch_id}" in missing.stderr
    history = run(["history", "H100", "--days", "1", "--csv"], embedded).stdout
    assert history.splitlines()[0] == "at,min_price_per_gpu_hour,median_price_per_gpu_hour,offers"


@pytest.mark.tampers_ledger
def test_audit_ledger_passes_on_a_sound_ledger_and_fails_on_a_tampered_one(
    db_url: str, engine: AsyncEngine, env_without_gp4u: dict[str, str]
) -> None:
    import asyncio
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text

    from gp4u.db.engine import create_engine, session_factory
    from gp4u.ledger import service
    from gp4u.ledger.repository import money_transaction

    env = {**env_without_gp4u, "GP4U_DATABASE_URL": db_url, "GP4U_CATALOG_URL": ""}
    run(["db", "upgrade"], env)

    async def operate(tamper: bool) -> None:
        own = create_engine(db_url)
        sessions = session_factory(own)
        now = datetime(2026, 11, 1, tzinfo=UTC)
        async with money_transaction(sessions) as s:
            await service.deposit(s, "ann", 50_000_000, now)
        async with money_transaction(sessions) as s:
            await service.authorise(s, "ann", 20_000_000, now, timedelta(hours=1))
        if tamper:
            async with sessions() as s:
                await s.execute(text("UPDATE holds SET amount = amount - 1"))
                await s.commit()
        await own.dispose()

    asyncio.run(operate(False))
    assert "ledger audit: ok" in run(["audit", "ledger"], env).stdout
    asyncio.run(operate(True))
    failed = run(["audit", "ledger"], env, ok=False)
    assert failed.returncode == 1 and "open holds" in failed.stdout

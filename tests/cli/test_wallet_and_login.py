"""`gp4u wallet`, `gp4u login` / `logout` and `gp4u user grant`: the wallet on each database as
the local user (in process, through click's runner), and over HTTP against real `gp4u serve`
processes in accounts mode and in local mode, with the credentials file a login writes."""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import stat
import threading
import typing
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gp4u.cli import credentials
from gp4u.cli.main import main
from gp4u.cli.wallet import ENTRY_KINDS, usd
from gp4u.wallet.schemas import EntryKind
from tests.cli.conftest import offline, run, serving
from tests.factories import PASSWORD

SECRET = "a test secret of more than thirty-two characters"


def cli(args: list[str], env: dict[str, str], code: int = 0, stdin: str | None = None) -> Result:
    """Run `gp4u ARGS` in this process with exactly these GP4U_* settings."""
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("GP4U_")}
    result = CliRunner().invoke(
        main, args, env={**clean, **env}, input=stdin, catch_exceptions=False
    )
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def as_json(result: Result) -> typing.Any:
    return json.loads(result.stdout)


@pytest.fixture
def local_db(db_url: str, engine: AsyncEngine) -> dict[str, str]:
    """Settings for a migrated, empty database of each lane."""
    return {"GP4U_DATABASE_URL": db_url, "GP4U_CATALOG_URL": "", "GP4U_LOG_LEVEL": "WARNING"}


def test_wallet_moves_money_locally_as_the_local_user(local_db: dict[str, str]) -> None:
    assert as_json(cli(["wallet", "balance", "--json"], local_db))["available"] == 0
    deposit = as_json(cli(["wallet", "deposit", "25.50", "--json"], local_db))
    assert (deposit["direction"], deposit["amount"], deposit["status"]) == (
        "deposit",
        25.5,
        "settled",
    )
    shown = cli(["wallet", "deposit", "4.50"], local_db).stdout
    assert "deposit #" in shown and "$4.50 via test-instant, settled" in shown
    assert "balance: $30.00 available, $0.00 held" in shown

    declined = cli(["wallet", "deposit", "10", "--source", "tok_decline"], local_db, code=1)
    assert "failed: declined by the test rail" in declined.stderr

    too_much = cli(["wallet", "withdraw", "100"], local_db, code=2)
    assert too_much.stderr.startswith("error: insufficient funds")
    assert "Traceback" not in too_much.stderr

    first = as_json(
        cli(["wallet", "withdraw", "5.25", "--idempotency-key", "w-1", "--json"], local_db)
    )
    again = as_json(
        cli(["wallet", "withdraw", "5.25", "--idempotency-key", "w-1", "--json"], local_db)
    )
    assert again["id"] == first["id"] and again["replayed"] is True
    reused = cli(["wallet", "withdraw", "6", "--idempotency-key", "w-1"], local_db, code=2)
    assert "used with a different request" in reused.stderr
    balance = as_json(cli(["wallet", "balance", "--json"], local_db))
    assert (balance["available"], balance["held"]) == (24.75, 0)

    history = as_json(cli(["wallet", "history", "--json"], local_db))
    assert [i["kind"] for i in history["items"]] == ["payout", "hold", "deposit", "deposit"]
    deposits = cli(["wallet", "history", "--kind", "deposit", "--csv"], local_db).stdout
    assert deposits.splitlines()[0].startswith("id,created_at,kind,available_change")
    assert len(deposits.splitlines()) == 3
    paged = as_json(cli(["wallet", "history", "--limit", "1", "--json"], local_db))
    assert len(paged["items"]) == 1 and paged["next_before"] == paged["items"][0]["id"]
    table = cli(["wallet", "history", "--limit", "1"], local_db).stdout
    assert "payout" in table and f"more: --before {paged['next_before']}" in table
    later = cli(["wallet", "history", "--since", "2999-01-01", "--json"], local_db)
    assert as_json(later)["items"] == []

    assert "no monthly budget" in cli(["wallet", "budget"], local_db).stdout
    budgets = as_json(cli(["wallet", "budget", "--set", "100", "--json"], local_db))
    assert budgets["budget"]["monthly_limit"] == 100 and budgets["keys"] == []
    assert "$100.00" in cli(["wallet", "budget"], local_db).stdout
    assert "budget" in cli(["wallet", "balance"], local_db).stdout
    assert as_json(cli(["wallet", "budget", "--clear", "--json"], local_db))["budget"] is None
    cli(["wallet", "budget", "--set", "5", "--clear"], local_db, code=2)
    unknown_key = cli(["wallet", "budget", "--set", "5", "--key", "abc"], local_db, code=2)
    assert "no API key abc" in unknown_key.stderr

    assert "ledger audit: ok" in cli(["audit", "ledger"], local_db).stdout


def test_pending_payments_settle_locally_as_the_server_jobs_would(local_db: dict[str, str]) -> None:
    env = {**local_db, "GP4U_TEST_RAIL_SETTLE_SECONDS": "0"}
    pending = cli(["wallet", "deposit", "7", "--rail", "test-async"], env).stdout
    assert "$7.00 via test-async, pending (the rail settles it later" in pending
    assert "balance: $7.00 available" in pending  # due at once: settled before it is read
    assert as_json(cli(["wallet", "balance", "--json"], env))["available"] == 7
    payout = as_json(cli(["wallet", "withdraw", "2", "--rail", "test-async", "--json"], env))
    assert payout["status"] == "pending"
    after = as_json(cli(["wallet", "balance", "--json"], env))
    assert (after["available"], after["held"]) == (5, 0)
    assert "ledger audit: ok" in cli(["audit", "ledger"], env).stdout


def test_amounts_are_checked_before_any_money_moves(local_db: dict[str, str]) -> None:
    cents = cli(["wallet", "deposit", "0.001"], local_db, code=2)
    assert "more than two decimals" in cents.stderr
    assert "more than 0" in cli(["wallet", "withdraw", "0"], local_db, code=2).stderr
    assert "not an amount" in cli(["wallet", "deposit", "lots"], local_db, code=2).stderr
    huge = cli(["wallet", "deposit", "1000000"], local_db, code=2)
    assert huge.stderr.startswith("error: amount:") and "100000" in huge.stderr
    rail = cli(["wallet", "deposit", "5", "--rail", "paypal"], local_db, code=2)
    assert "unknown payment rail 'paypal'" in rail.stderr
    assert as_json(cli(["wallet", "history", "--json"], local_db))["items"] == []


def test_user_grant_makes_the_first_admin(db_url: str, local_db: dict[str, str]) -> None:
    from gp4u.accounts import service
    from gp4u.accounts.models import User
    from gp4u.db.engine import create_engine, session_factory, unit_of_work
    from gp4u.kit.clock import SystemClock

    async def sign_up() -> None:
        own = create_engine(db_url)
        async with unit_of_work(session_factory(own)) as session:
            await service.sign_up(
                session, "Ada@Example.com", PASSWORD, None, ["renter"], SystemClock().now()
            )
        await own.dispose()

    async def roles() -> str:
        own = create_engine(db_url)
        async with session_factory(own)() as session:
            user = (
                await session.execute(select(User).where(User.email == "ada@example.com"))
            ).scalar_one()
        await own.dispose()
        return user.roles

    asyncio.run(sign_up())
    granted = cli(["user", "grant", "ada@example.com", "admin"], local_db).stdout
    assert "ada@example.com" in granted and "now has the roles admin, renter" in granted
    assert set(asyncio.run(roles()).split(",")) == {"admin", "renter"}
    unknown = cli(["user", "grant", "nobody@example.com", "admin"], local_db, code=2)
    assert "no user with the e-mail address nobody@example.com" in unknown.stderr
    cli(["user", "grant", "ada@example.com", "king"], local_db, code=2)


def test_entry_kinds_match_the_api_and_amounts_read_well() -> None:
    assert typing.get_args(EntryKind) == ENTRY_KINDS
    assert usd(1234.5) == "$1,234.50"
    assert usd(0.123456) == "$0.123456"
    assert usd(-5.25) == "-$5.25"
    assert (usd(2.0, signed=True), usd(-2.0, signed=True), usd(0.0, signed=True)) == (
        "+$2.00",
        "-$2.00",
        "",
    )


# --- the credentials file ----------------------------------------------------------------


def test_credentials_live_under_xdg_config_or_where_the_env_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(credentials.ENV_FILE, raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert credentials.credentials_path() == tmp_path / "home/.config/gp4u/credentials.json"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert credentials.credentials_path() == tmp_path / "xdg/gp4u/credentials.json"
    monkeypatch.setenv(credentials.ENV_FILE, str(tmp_path / "elsewhere.json"))
    assert credentials.credentials_path() == tmp_path / "elsewhere.json"


def test_credentials_are_private_atomic_and_per_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config" / "gp4u" / "credentials.json"
    monkeypatch.setenv(credentials.ENV_FILE, str(path))
    monkeypatch.delenv(credentials.ENV_KEY, raising=False)
    old_umask = os.umask(0o022)
    try:
        credentials.store("HTTPS://GP4U.Example.com/", {"key": "gp4u_a", "key_id": "a"})
        credentials.store("http://127.0.0.1:8000", {"key": "gp4u_b", "key_id": "b"})
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["credentials.json"]  # no temp left
    assert credentials.api_key("https://gp4u.example.com") == "gp4u_a"
    assert credentials.api_key("http://127.0.0.1:8000/") == "gp4u_b"
    assert credentials.api_key("http://127.0.0.1:9000") is None
    monkeypatch.setenv(credentials.ENV_KEY, "gp4u_from_env")
    assert credentials.api_key("http://127.0.0.1:9000") == "gp4u_from_env"
    assert credentials.forget("https://gp4u.example.com")["key_id"] == "a"  # type: ignore[index]
    assert credentials.forget("https://gp4u.example.com") is None
    assert set(json.loads(path.read_text())["servers"]) == {"http://127.0.0.1:8000"}

    path.chmod(0o644)
    assert credentials.stored("http://127.0.0.1:8000") is not None
    assert "readable by other users" in capsys.readouterr().err
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        credentials.stored("http://127.0.0.1:8000")


# --- against real servers ----------------------------------------------------------------


def test_login_stores_a_private_key_that_remote_commands_send(
    tmp_path: Path, env_without_gp4u: dict[str, str]
) -> None:
    server_env = {
        **offline(env_without_gp4u, tmp_path / "served"),
        "GP4U_AUTH": "accounts",
        "GP4U_SECRET_KEY": SECRET,
    }
    env = {
        **env_without_gp4u,
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    stored = tmp_path / "config" / "gp4u" / "credentials.json"
    with serving(server_env) as url:
        signed_up = httpx.post(
            f"{url}/api/v1/auth/signup", json={"email": "ann@example.com", "password": PASSWORD}
        )
        assert signed_up.status_code == 201, signed_up.text

        anonymous = run(["wallet", "balance", "--api", url], env, ok=False)
        assert anonymous.returncode == 2
        assert f"not logged in to {url}: run gp4u login --api {url}" in anonymous.stderr
        wrong = run(
            ["login", "--api", url, "--email", "ann@example.com", "--password-stdin"],
            env,
            ok=False,
            stdin="not the password\n",
        )
        assert wrong.returncode == 2 and "wrong e-mail address or password" in wrong.stderr
        assert not stored.exists()

        login = ["login", "--api", url, "--email", "ann@example.com", "--password-stdin"]
        done = run(login, env, stdin=PASSWORD + "\n")
        entry = json.loads(stored.read_text())["servers"][url]
        key = entry["key"]
        assert key.startswith("gp4u_") and entry["scopes"] == ["read", "trade"]
        assert f"API key {entry['key_id']} (read, trade) stored in {stored}" in done.stdout
        assert stat.S_IMODE(stored.stat().st_mode) == 0o600
        for secret in (key, PASSWORD):
            assert secret not in done.stdout + done.stderr
        keys = httpx.get(f"{url}/api/v1/wallet", headers={"Authorization": f"Bearer {key}"})
        assert keys.status_code == 200

        deposited = run(["wallet", "deposit", "40", "--api", url, "--json"], env)
        assert json.loads(deposited.stdout)["status"] == "settled"
        with_env = {**env, "GP4U_API_URL": url}
        assert json.loads(run(["wallet", "balance", "--json"], with_env).stdout)["available"] == 40
        mine = httpx.get(f"{url}/api/v1/wallet", headers={"Authorization": f"Bearer {key}"})
        assert mine.json()["available"] == 40  # the money is the key owner's
        broke = run(["wallet", "withdraw", "100"], with_env, ok=False)
        assert broke.returncode == 2 and "insufficient funds" in broke.stderr
        history = json.loads(run(["wallet", "history", "--json"], with_env).stdout)["items"]
        assert [i["kind"] for i in history] == ["deposit"]
        run(["watch", "add", "gpu=H100", "--below", "1"], with_env)
        assert len(json.loads(run(["watch", "list", "--json"], with_env).stdout)["items"]) == 1
        assert "H100" in run(["offers", "gpu=H100", "--limit", "2"], with_env).stdout

        # Changing a budget needs a login, not the stored key: the CLI asks for the password.
        budget = run(
            ["wallet", "budget", "--set", "50", "--password-stdin", "--json"],
            with_env,
            stdin=PASSWORD + "\n",
        )
        assert json.loads(budget.stdout)["budget"]["monthly_limit"] == 50

        # The operator grants the host role; a new login gets a key with the host scope and
        # revokes the one before.
        run(["user", "grant", "ann@example.com", "host"], server_env)
        again = run(login, env, stdin=PASSWORD + "\n")
        entry = json.loads(stored.read_text())["servers"][url]
        assert entry["scopes"] == ["host", "read", "trade"]
        assert "revoked the key stored before" in again.stdout
        old = httpx.get(f"{url}/api/v1/wallet", headers={"Authorization": f"Bearer {key}"})
        assert old.status_code == 401

        revoked = run(["logout", "--revoke", "--password-stdin"], with_env, stdin=PASSWORD + "\n")
        assert f"API key {entry['key_id']} revoked and forgotten" in revoked.stdout
        assert json.loads(stored.read_text())["servers"] == {}
        gone = httpx.get(
            f"{url}/api/v1/wallet", headers={"Authorization": f"Bearer {entry['key']}"}
        )
        assert gone.status_code == 401
        assert "not logged in" in run(["wallet", "balance"], with_env, ok=False).stderr

        run(login, env, stdin=PASSWORD + "\n")
        forgotten = json.loads(stored.read_text())["servers"][url]
        kept = run(["logout"], with_env)
        assert f"DELETE /api/v1/me/api-keys/{forgotten['key_id']}" in kept.stdout
        still = httpx.get(
            f"{url}/api/v1/wallet", headers={"Authorization": f"Bearer {forgotten['key']}"}
        )
        assert still.status_code == 200  # forgotten here, valid there until revoked
        stored.write_text(json.dumps({"servers": {url: {"key": forgotten["key"]}}}))
        stored.chmod(0o600)
        httpx.delete(
            f"{url}/api/v1/me/api-keys/{forgotten['key_id']}",
            headers={"Authorization": f"Bearer {_access_token(url)}"},
        ).raise_for_status()
        refused = run(["wallet", "balance"], with_env, ok=False)
        assert f"{url} refused the stored credentials" in refused.stderr
        assert f"run gp4u login --api {url}" in refused.stderr


def _access_token(url: str) -> str:
    response = httpx.post(
        f"{url}/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def test_a_local_mode_server_needs_no_login(
    live_server: str, tmp_path: Path, env_without_gp4u: dict[str, str]
) -> None:
    env = {
        **env_without_gp4u,
        "GP4U_API_URL": live_server,
        "GP4U_CREDENTIALS_FILE": str(tmp_path / "credentials.json"),
    }
    said = run(["login", "--email", "x@example.com", "--password-stdin"], env, stdin="x\n")
    assert "runs in local mode" in said.stdout and "no login needed" in said.stdout
    assert not (tmp_path / "credentials.json").exists()
    run(["wallet", "deposit", "12.34"], env)
    assert json.loads(run(["wallet", "balance", "--json"], env).stdout)["available"] == 12.34
    budget = json.loads(run(["wallet", "budget", "--set", "0", "--json"], env).stdout)
    assert budget["budget"]["monthly_limit"] == 0
    assert "no API key stored" in run(["logout"], env).stdout


class _LossyWallet(http.server.BaseHTTPRequestHandler):
    """A server that takes deposits but loses the answer to the first `lose` of them."""

    lose = 1
    keys: typing.ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).keys.append(self.headers["Idempotency-Key"])
        if len(self.keys) <= self.lose:
            self.close_connection = True  # the request arrived; its answer never leaves
            return
        payment = {"id": 1, "rail": "test-instant", "amount": 5.0, "status": "settled"}
        self._send(201, {**payment, "replayed": len(self.keys) > 1})

    def do_GET(self) -> None:
        self._send(200, {"available": 5.0, "held": 0.0})

    def _send(self, status: int, body: dict[str, typing.Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: typing.Any) -> None:
        pass


@pytest.mark.parametrize("lose", [1, 2])
def test_a_lost_answer_is_retried_once_under_the_same_key(
    lose: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gp4u.cli.wallet.RETRY_PAUSE_SECONDS", 0)
    handler = type("Lossy", (_LossyWallet,), {"lose": lose, "keys": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    env = {"GP4U_CREDENTIALS_FILE": str(tmp_path / "none.json")}
    try:
        if lose == 1:
            done = cli(["wallet", "deposit", "5", "--api", url], env)
            assert "retrying once with the same idempotency key" in done.stderr
            assert "settled (a replay" in done.stdout
        else:
            lost = cli(["wallet", "deposit", "5", "--api", url], env, code=2)
            assert "may or may not have happened" in lost.stderr
            assert f"--idempotency-key {handler.keys[0]}" in lost.stderr
    finally:
        server.shutdown()
        server.server_close()
    assert len(handler.keys) == 2 and handler.keys[0] == handler.keys[1]
    assert handler.keys[0].startswith("cli-")


def test_a_server_that_cannot_be_reached_moves_nothing(tmp_path: Path) -> None:
    env = {"GP4U_CREDENTIALS_FILE": str(tmp_path / "none.json")}
    refused = cli(["wallet", "deposit", "5", "--api", "http://127.0.0.1:9"], env, code=2)
    assert refused.stderr.startswith("error: cannot reach GP4U at http://127.0.0.1:9")
    assert "retrying" not in refused.stderr and "may or may not" not in refused.stderr

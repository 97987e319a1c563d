"""`gp4u book`, `reservations`, `extend --reservation`, `cancel`, `availability` and the
`gp4u host` group through click's runner against a real server in accounts mode on a local port
(this process, the test's frozen clock at 2026-11-01 12:00 UTC and its database): a host lists
a machine and its agent checks in, a renter books it, extends and cancels, and the errors a
user meets are shown as one line with a non-zero exit."""

from __future__ import annotations

import json
import os
import re
import typing
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from gp4u.app import create_app
from gp4u.cli.main import main
from gp4u.kit.clock import FrozenClock
from gp4u.settings import Settings
from tests.costs.support import served
from tests.factories import PASSWORD
from tests.reservations.support import facts


@pytest.fixture
def server(settings: Settings, engine: AsyncEngine, clock: FrozenClock) -> Iterator[str]:
    """The server's logs are dropped: it shares this process's stdout with the commands."""
    app = create_app(
        settings.model_copy(update={"auth": "accounts"}), clock=clock, background_jobs=False
    )
    with capture_logs(), served(app) as url:
        yield url


def sign_up(url: str, email: str, role: str) -> str:
    body = {"email": email, "password": PASSWORD, "roles": [role]}
    response = httpx.post(f"{url}/api/v1/auth/signup", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["access_token"])


def env_of(url: str, token: str, tmp_path: Path) -> dict[str, str]:
    return {
        "GP4U_API_URL": url,
        "GP4U_API_KEY": token,
        "GP4U_CREDENTIALS_FILE": str(tmp_path / "credentials.json"),
        "HOME": str(tmp_path / "home"),
    }


@pytest.fixture
def host_env(server: str, tmp_path: Path) -> dict[str, str]:
    return env_of(server, sign_up(server, "host@example.com", "host"), tmp_path)


@pytest.fixture
def renter_env(server: str, tmp_path: Path) -> dict[str, str]:
    return env_of(server, sign_up(server, "renter@example.com", "renter"), tmp_path)


def cli(args: list[str], env: dict[str, str], code: int = 0) -> Result:
    """Run `gp4u ARGS` in this process with exactly these GP4U_* settings."""
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("GP4U_")}
    result = CliRunner().invoke(main, args, env={**clean, **env}, catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def as_json(result: Result) -> typing.Any:
    return json.loads(result.stdout)


def online_machine(server: str, host_env: dict[str, str], *extra: str) -> int:
    """`gp4u host add`, then the machine's agent checks in seeing one RTX 4090."""
    added = cli(
        ["host", "add", "--name", "rig", "--gpu", "RTX 4090", "--price", "2.50", *extra],
        host_env,
    ).stdout
    match = re.search(r"agent token \(shown this once\): (\S+)\n", added)
    assert match, added
    token = match.group(1)
    assert f"on the machine, run: gp4u agent host --broker {server} --token {token}\n" in added
    machine_id = int(added.split(":", 1)[0].removeprefix("machine "))
    response = httpx.post(
        f"{server}/api/v1/hosts/agent/register", json={"token": token, "facts": facts()}
    )
    assert response.status_code == 200, response.text
    return machine_id


def test_a_host_lists_a_machine_and_a_renter_books_extends_and_cancels_it(
    server: str, host_env: dict[str, str], renter_env: dict[str, str]
) -> None:
    machine_id = online_machine(server, host_env, "--hours", "mon-fri 09:00-17:00")
    listed = cli(["host", "machines"], host_env).stdout
    assert "Mon-Fri 09:00-17:00" in listed and "online" in listed and "yes" in listed
    assert as_json(cli(["host", "machines", "--json"], host_env))["items"][0]["bookable"]

    # Monday 2026-11-02: open 09:00-17:00 UTC.
    free = cli(
        [
            "availability",
            str(machine_id),
            "--from",
            "2026-11-02T00:00",
            "--to",
            "2026-11-03T00:00Z",
        ],
        renter_env,
    ).stdout
    assert free.startswith(f"machine {machine_id}: bookable · $2.50/h")
    assert "2026-11-02 09:00  2026-11-02 17:00" in free and "1 free slots" in free

    cli(["wallet", "deposit", "100"], renter_env)
    booked = cli(
        ["book", str(machine_id), "--start", "2026-11-02T10:00", "--hours", "2"], renter_env
    ).stdout
    assert booked == (
        f"reservation 1: pending · machine {machine_id} · 2026-11-02 10:00 – 12:00 UTC (2 h) · "
        "quote $5.00 at $2.50/h · held $5.00\n"
    )
    table = cli(["reservations"], renter_env).stdout
    assert "pending" in table and "1 reservations (times UTC)" in table
    assert [r["id"] for r in as_json(cli(["reservations", "--json"], renter_env))["items"]] == [1]
    assert as_json(cli(["reservations", "--state", "cancelled", "--json"], renter_env)) == {
        "items": [],
        "next_before": None,
    }

    later = cli(["extend", "1", "--reservation", "--hours", "1"], renter_env).stdout
    assert later.startswith("reservation 1: now ends 2026-11-02 13:00 UTC\n")
    assert "held $7.50" in later
    until = as_json(
        cli(
            ["extend", "1", "--reservation", "--until", "2026-11-02T15:00+01:00", "--json"],
            renter_env,
        )
    )
    assert until["end"].startswith("2026-11-02T14:00") and until["held"] == 10.0

    taken = cli(
        ["book", str(machine_id), "--start", "2026-11-02T13:30", "--end", "2026-11-02T15:00"],
        renter_env,
        code=2,
    )
    assert taken.stderr.startswith("error: ") and "overlaps a booking" in taken.stderr
    closed = cli(
        ["book", str(machine_id), "--start", "2026-11-02T18:00", "--hours", "1"], renter_env, 2
    )
    assert "outside the machine's hours" in closed.stderr
    assert "Traceback" not in taken.stderr + closed.stderr

    dashboard = cli(["host", "dashboard"], host_env).stdout
    assert "upcoming bookings" in dashboard and "earnings: $0.00 gross" in dashboard

    cancelled = cli(["cancel", "1"], renter_env).stdout
    assert cancelled.startswith("reservation 1: cancelled") and "held $0.00" in cancelled
    money = as_json(cli(["wallet", "balance", "--json"], renter_env))
    assert (money["available"], money["held"]) == (100.0, 0.0)
    again = cli(["cancel", "1"], renter_env, code=2)
    assert again.stderr.startswith("error: ")


def test_host_pause_block_and_the_mistakes_users_make(
    server: str, host_env: dict[str, str], renter_env: dict[str, str]
) -> None:
    machine_id = online_machine(server, host_env)
    paused = cli(["host", "pause", str(machine_id)], host_env).stdout
    assert paused.startswith(f"machine {machine_id}: rig · 1× RTX 4090 · $2.50/h · paused")
    cli(["wallet", "deposit", "20"], renter_env)
    refused = cli(
        ["book", str(machine_id), "--start", "2026-11-02T10:00", "--hours", "1"], renter_env, 2
    )
    assert refused.stderr.startswith("error: ") and "Traceback" not in refused.stderr
    resumed = cli(["host", "resume", str(machine_id), "--json"], host_env)
    assert as_json(resumed)["status"] == "listed"

    blocked = cli(
        [
            "host",
            "block",
            str(machine_id),
            "--start",
            "2026-11-03T09:00",
            "--end",
            "2026-11-03T12:00",
            "--reason",
            "maintenance",
        ],
        host_env,
    ).stdout
    assert (
        blocked == f"block 1 on machine {machine_id}: 2026-11-03 09:00 – 12:00 UTC (maintenance)\n"
    )
    slots = as_json(
        cli(
            [
                "availability",
                str(machine_id),
                "--from",
                "2026-11-03T00:00",
                "--to",
                "2026-11-04T00:00",
                "--json",
            ],
            renter_env,
        )
    )["free"]
    assert [(s["start"][11:16], s["end"][11:16]) for s in slots] == [
        ("00:00", "09:00"),
        ("12:00", "00:00"),
    ]
    in_block = cli(
        ["book", str(machine_id), "--start", "2026-11-03T10:00", "--hours", "1"], renter_env, 2
    )
    assert in_block.stderr.startswith("error: ")

    no_earnings = cli(["host", "payout", "5", "--destination", "acct-1"], host_env, 2)
    assert no_earnings.stderr.startswith("error: ")
    not_host = cli(
        ["host", "add", "--name", "x", "--gpu", "RTX 4090", "--price", "1"], renter_env, 2
    )
    assert not_host.stderr.startswith("error: ")
    both = ["book", "1", "--start", "2026-11-02T10:00", "--end", "2026-11-02T11:00", "--hours", "1"]
    assert "give --end or --hours" in cli(both, renter_env, 2).stderr
    assert (
        "not an ISO 8601 time"
        in cli(["book", "1", "--start", "soon", "--hours", "1"], renter_env, 2).stderr
    )
    assert (
        "--until is for reservations"
        in cli(["extend", "1", "--until", "2026-11-02T10:00"], renter_env, 2).stderr
    )
    assert "give --until or --hours" in cli(["extend", "1", "--reservation"], renter_env, 2).stderr
    bad_until = cli(["extend", "1", "--reservation", "--until", "later"], renter_env, 2).stderr
    assert "'--until'" in bad_until and "not an ISO 8601 time" in bad_until
    assert "no reservation" in cli(["cancel", "77"], renter_env, 2).stderr.lower()
    bad_hours = ["host", "add", "--name", "x", "--gpu", "A", "--price", "1", "--hours", "mon 9-5"]
    assert 'is not "DAYS HH:MM-HH:MM"' in cli(bad_hours, host_env, 2).stderr
    for command in (
        ["book"],
        ["reservations"],
        ["cancel"],
        ["availability"],
        ["extend"],
        *(
            ["host", c]
            for c in (
                "add",
                "machines",
                "pause",
                "resume",
                "retire",
                "block",
                "dashboard",
                "payout",
            )
        ),
    ):
        assert "--api URL" in cli([*command, "--help"], renter_env).stdout


def test_opening_hours_are_read_as_windows() -> None:
    from gp4u.cli.hosts import parse_days

    assert parse_days("mon-fri") == ["mon", "tue", "wed", "thu", "fri"]
    assert parse_days("fri-mon") == ["fri", "sat", "sun", "mon"]
    assert parse_days("sat,sun") == parse_days("saturday,sunday") == ["sat", "sun"]
    assert parse_days("daily") == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    with pytest.raises(ValueError):
        parse_days("someday")

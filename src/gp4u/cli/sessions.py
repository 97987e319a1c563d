"""`gp4u launch`, `sessions`, `session`, `stop`, `extend` and `costs`: GPU machines and what they
cost, on a running GP4U server (--api URL or GP4U_API_URL; by default the local one `make run`
starts) as the user whose API key `gp4u login` stored for it (a local-mode server needs none)."""

from __future__ import annotations

import itertools
import os
import shlex
import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from gp4u.cli.common import fail, handle_errors, json_option, page_options
from gp4u.cli.remote import RemoteClient, RemoteError
from gp4u.cli.wallet import usd

LOCAL_SERVER = "http://127.0.0.1:8000"
STATES = ("provisioning", "starting", "running", "ending", "terminated", "failed")
ENDED = frozenset({"ending", "terminated", "failed"})
POLL_SECONDS = 2.0
MAX_HOURS = 24 * 14
TOP_SESSIONS = 5


def server_option(fn: Any) -> Any:
    return click.option(
        "--api",
        "api_url",
        envvar="GP4U_API_URL",
        metavar="URL",
        help=f"The GP4U server (env GP4U_API_URL; default: the local one, {LOCAL_SERVER}). "
        "Requests carry the API key `gp4u login` stored for it.",
    )(fn)


class SessionsApi(RemoteClient):
    """The sessions and costs API of one server."""

    def send(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().send(*args, **kwargs)
        except RemoteError as exc:
            if exc.status is None and not exc.maybe_done:  # nothing listens there
                raise RemoteError(
                    f"no GP4U server at {self.api_url}: start one with `make run`"
                ) from exc
            raise

    def launch(self, body: dict[str, Any]) -> Any:
        return self.send("POST", "/api/v1/sessions", body)

    def page(self, states: tuple[str, ...], before: int | None, limit: int) -> Any:
        params = {"state": list(states) or None, "before": before, "limit": limit}
        return self.get("/api/v1/sessions", params)

    def one(self, session_id: int) -> Any:
        return self.get(f"/api/v1/sessions/{session_id}")

    def stop(self, session_id: int) -> Any:
        return self.send("POST", f"/api/v1/sessions/{session_id}/stop")

    def extend(self, session_id: int, hours: float) -> Any:
        return self.send("POST", f"/api/v1/sessions/{session_id}/extend", {"hours": hours})

    def costs(self, days: int, month: str | None) -> Any:
        return self.get("/api/v1/costs", {"days": days, "month": month})


def open_api(api_url: str | None) -> SessionsApi:
    return SessionsApi.for_server(api_url or LOCAL_SERVER)


# --- rendering -------------------------------------------------------------------------------


def when(value: str | None) -> str:
    """An API time as `YYYY-MM-DD HH:MM` UTC."""
    if not value:
        return "-"
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def machine(s: dict[str, Any]) -> str:
    return f"{s['gpu_count']}× {s['gpu']} at {s['provider']}"


def ssh_command(s: dict[str, Any], key_file: Path | None) -> str | None:
    connection = s.get("connection")
    if not connection:
        return None
    command = str(connection["command"])
    return (
        command.replace("ssh ", f"ssh -i {shlex.quote(str(key_file))} ", 1) if key_file else command
    )


def headline(s: dict[str, Any]) -> str:
    return (
        f"session {s['id']}: {s['state']} · {machine(s)} · {usd(s['price_per_hour'])}/h · "
        f"paid until {when(s['expires_at'])} UTC"
    )


def print_session_lines(s: dict[str, Any], key_file: Path | None) -> None:
    click.echo(headline(s))
    command = ssh_command(s, key_file)
    if command:
        click.echo(f"ssh: {command}")
    elif s["state"] in ("provisioning", "starting", "running") and s.get("ssh_fingerprint"):
        click.echo(f"ssh: the address is not known yet (gp4u session {s['id']} shows it)")
    if key_file:
        click.echo(f"private key: {key_file}")
    if s.get("launch_summary"):
        click.echo(f"launch: {s['launch_summary']}")
    if s["state"] in ENDED and s.get("end_reason"):
        detail = f": {s['end_detail']}" if s.get("end_detail") else ""
        click.echo(f"ended: {s['end_reason']}{detail} · cost {usd(s['cost_so_far'])}")


# --- launch ----------------------------------------------------------------------------------


class Dollars(click.ParamType[Decimal, Any]):
    """A positive dollar amount, kept exact."""

    name = "USD"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Decimal:
        try:
            amount = Decimal(str(value).strip().lstrip("$"))
        except InvalidOperation:
            self.fail(f"{value!r} is not an amount in dollars, e.g. 2.50", param, ctx)
        if not amount.is_finite() or amount <= 0:
            self.fail(f"{value!r} must be more than 0", param, ctx)
        return amount


def parse_env(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> Any:
    env: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", ctx, param)
        env[name] = value
    return env


def public_key(path: Path) -> str:
    text = path.read_text().strip()
    if "PRIVATE KEY" in text:
        raise click.BadParameter(
            f"{path} is a private key: pass its public half ({path}.pub)", param_hint="--ssh-key"
        )
    return text


def save_private_key(object_id: int, key: str, kind: str = "session") -> Path:
    """Write the key to ~/.ssh/gp4u-<kind>-<id> (mode 0600), never over an existing file."""
    folder = Path.home() / ".ssh"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for n in itertools.count(1):
        path = folder / (f"gp4u-{kind}-{object_id}" + (f"-{n}" if n > 1 else ""))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w") as out:
            out.write(key if key.endswith("\n") else key + "\n")
        return path
    raise AssertionError("unreachable")


def keep_private_key(object_id: int, key: str, kind: str = "session") -> Path | None:
    """Save the key; if that fails, show it (on stderr) rather than lose it: it exists once."""
    try:
        return save_private_key(object_id, key, kind)
    except OSError as exc:
        click.echo(
            f"warning: cannot save the private key ({exc}); it is shown this once:", err=True
        )
        click.echo(key, err=True)
        return None


def pause(seconds: float) -> None:
    time.sleep(seconds)


def settled(s: dict[str, Any]) -> bool:
    """Done waiting: ended, or running with its SSH address known (when it has SSH)."""
    if s["state"] in ENDED:
        return True
    return s["state"] == "running" and bool(s.get("connection") or not s.get("ssh_fingerprint"))


def wait_for(api: SessionsApi, s: dict[str, Any], timeout: float) -> tuple[dict[str, Any], bool]:
    """Poll the session until it settles; (the last view, whether it settled)."""
    deadline = time.monotonic() + timeout
    seen = s["state"]
    click.echo(f"session {s['id']}: {seen}…", err=True)
    while not settled(s):
        if time.monotonic() >= deadline:
            return s, False
        pause(POLL_SECONDS)
        s = api.one(s["id"])
        if s["state"] != seen and not settled(s):
            seen = s["state"]
            click.echo(f"session {s['id']}: {seen}…", err=True)
    return s, True


def launch_body(
    offer_id: int,
    hours: float,
    image: str | None,
    command: str | None,
    env: dict[str, str],
    ssh_key: Path | None,
    generate_key: bool,
    max_price: Decimal | None,
) -> dict[str, Any]:
    if ssh_key and generate_key:
        raise click.UsageError("use --ssh-key or --generate-key, not both")
    key = "generate" if generate_key else public_key(ssh_key) if ssh_key else None
    return {
        "offer_id": offer_id,
        "hours": hours,
        "image": image,
        "startup_command": command,
        "env": env,
        "ssh_public_key": key,
        "max_price_per_hour": str(max_price) if max_price else None,
    }


def send_launch(api: SessionsApi, body: dict[str, Any]) -> dict[str, Any]:
    try:
        created: dict[str, Any] = api.launch(body)
    except RemoteError as exc:
        if exc.maybe_done:  # never retried: a second launch would be a second machine
            fail(
                f"{exc.detail}\nthe launch may or may not have happened: look with "
                "`gp4u sessions` before launching again"
            )
        raise
    return created


@click.command()
@click.argument("offer_id", type=click.IntRange(min=1))
@click.option(
    "--hours",
    type=click.FloatRange(0, MAX_HOURS, min_open=True),
    required=True,
    metavar="HOURS",
    help="How long to run. price × hours is held on your wallet; you pay per started minute "
    "of running time and the rest comes back.",
)
@click.option("--image", help="Container or machine image (default: a CUDA runtime image).")
@click.option("--command", "startup_command", help="Run this on the machine once it is up.")
@click.option(
    "--env",
    "env",
    multiple=True,
    metavar="NAME=VALUE",
    callback=parse_env,
    help="An environment variable for the machine (repeat for more). Values are stored "
    "encrypted and never shown again.",
)
@click.option(
    "--ssh-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your OpenSSH public key file (e.g. ~/.ssh/id_ed25519.pub).",
)
@click.option(
    "--generate-key",
    is_flag=True,
    help="Have GP4U make a key pair: the private key is saved to ~/.ssh/gp4u-session-<id> "
    "(mode 0600), never printed.",
)
@click.option(
    "--max-price",
    type=Dollars(),
    help="USD per hour: if the offer cannot be launched, try matching offers up to this price "
    "(default: the offer's price). The hold covers it.",
)
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Wait until the machine runs (its agent checked in) or the launch fails.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    default=600,
    show_default=True,
    help="Seconds to wait at most (exit 1 when it has not settled by then).",
)
@json_option
@server_option
@handle_errors
def launch(
    offer_id: int,
    hours: float,
    image: str | None,
    startup_command: str | None,
    env: dict[str, str],
    ssh_key: Path | None,
    generate_key: bool,
    max_price: Decimal | None,
    wait: bool,
    timeout: float,
    as_json: bool,
    api_url: str | None,
) -> None:
    """Launch a GPU machine from offer OFFER_ID (see `gp4u offers`).

    GP4U quotes the offer from fresh provider data, holds price × hours on your wallet and
    launches in the background; if the offer cannot be launched it tries matching offers up to
    --max-price. With --wait (the default) it follows the launch and prints the SSH command and
    what was tried. Exits 1 when the launch fails.
    """
    from gp4u.cli import output

    body = launch_body(
        offer_id, hours, image, startup_command, env, ssh_key, generate_key, max_price
    )
    api = open_api(api_url)
    created = send_launch(api, body)
    private = created.pop("ssh_private_key", None)
    key_file = keep_private_key(created["id"], private) if private else None
    s, done = wait_for(api, created, timeout) if wait else (created, True)
    if as_json:
        output.print_json({**s, "ssh_private_key_file": str(key_file) if key_file else None})
    else:
        print_session_lines(s, key_file)
        if not wait:
            click.echo(f"follow it: gp4u session {s['id']}")
    if s["state"] == "failed" or (s["state"] in ENDED and not s.get("running_at")):
        fail(f"session {s['id']} did not start: {s.get('end_detail') or s['state']}", 1)
    if not done:
        fail(
            f"session {s['id']} is still {s['state']} after {timeout:g} s: follow it with "
            f"gp4u session {s['id']}",
            1,
        )


# --- reading and changing --------------------------------------------------------------------


@click.command("sessions")
@page_options("sessions", STATES)
@json_option
@server_option
@handle_errors
def sessions(
    states: tuple[str, ...], before: int | None, limit: int, as_json: bool, api_url: str | None
) -> None:
    """Your sessions, newest first: state, machine, price, cost so far."""
    from gp4u.cli import output

    page = open_api(api_url).page(states, before, limit)
    output.print_page(
        page,
        as_json,
        "sessions",
        [
            ("ID", "right"),
            ("STATE", "left"),
            ("MACHINE", "left"),
            ("$/H", "right"),
            ("RUNNING SINCE", "left"),
            ("PAID UNTIL", "left"),
            ("COST", "right"),
        ],
        lambda s: (
            s["id"],
            s["state"] + (" !" if s["needs_attention"] else ""),
            machine(s),
            usd(s["price_per_hour"]),
            when(s["running_at"]),
            when(s["expires_at"]),
            usd(s["cost_so_far"]),
        ),
    )


@click.command("session")
@click.argument("session_id", type=click.IntRange(min=1))
@json_option
@server_option
@handle_errors
def session(session_id: int, as_json: bool, api_url: str | None) -> None:
    """One of your sessions: where it runs, how to reach it, what it cost."""
    from gp4u.cli import output

    s = open_api(api_url).one(session_id)
    if as_json:
        output.print_json(s)
        return
    agent = s["agent"] or {}
    rows = [
        ("state", s["state"] + (" (needs attention)" if s["needs_attention"] else "")),
        ("machine", f"{machine(s)} ({s['instance_type']}, {s['region'] or 'any region'})"),
        ("offer", s["offer_id"]),
        ("instance", s["instance_id"]),
        ("price", f"{usd(s['price_per_hour'])}/h (up to {usd(s['max_price_per_hour'])}/h)"),
        ("paid", f"{s['paid_hours']:g} h"),
        ("image", s["image"]),
        ("env", ", ".join(s["env_keys"]) or None),
        ("ssh", ssh_command(s, None) or s["ssh_fingerprint"]),
        ("created", when(s["created_at"])),
        ("running since", when(s["running_at"])),
        ("paid until", when(s["expires_at"])),
        ("hard deadline", when(s["hard_deadline"])),
        ("last heartbeat", when(agent.get("last_heartbeat_at"))),
        ("ended", when(s["ending_at"])),
        ("end", " ".join(filter(None, [s["end_reason"], s["end_detail"]])) or None),
        ("cost so far", usd(s["cost_so_far"])),
        ("launch", s["launch_summary"]),
    ]
    output.print_table(None, [(f"SESSION {s['id']}", "left"), ("(times UTC)", "left")], rows)


@click.command()
@click.argument("session_id", type=click.IntRange(min=1))
@json_option
@server_option
@handle_errors
def stop(session_id: int, as_json: bool, api_url: str | None) -> None:
    """Stop session SESSION_ID now: billing stops, the machine is destroyed and verified gone.

    The unused part of the hold comes back to your wallet. Stopping a session that has already
    ended changes nothing.
    """
    from gp4u.cli import output

    s = open_api(api_url).stop(session_id)
    if as_json:
        output.print_json(s)
        return
    click.echo(
        f"session {s['id']}: {s['state']} (billing stopped; the machine is destroyed and "
        f"verified gone) · cost {usd(s['cost_so_far'])}"
    )


@click.command()
@click.argument("session_id", metavar="ID", type=click.IntRange(min=1))
@click.option(
    "--hours",
    type=click.FloatRange(0, MAX_HOURS, min_open=True),
    metavar="HOURS",
    help="Hours to add: for a session, price × hours more is held on your wallet; with "
    "--reservation, the reservation's end moves this many hours later.",
)
@click.option(
    "--reservation",
    "is_reservation",
    is_flag=True,
    help="ID is a reservation (see gp4u reservations), not a session.",
)
@click.option(
    "--until",
    metavar="ISO-TIME",
    help="With --reservation, instead of --hours: the new end (ISO 8601; no zone: UTC).",
)
@json_option
@server_option
@handle_errors
def extend(
    session_id: int,
    hours: float | None,
    is_reservation: bool,
    until: str | None,
    as_json: bool,
    api_url: str | None,
) -> None:
    """Pay for more time on session ID (never past its maximum lifetime), or with
    --reservation move reservation ID's end later, if that time is free (the difference is
    held on your wallet)."""
    from gp4u.cli import output

    if is_reservation:
        from gp4u.cli.reservations import extend_reservation

        extend_reservation(session_id, until, hours, as_json, api_url)
        return
    if until is not None:
        raise click.UsageError("--until is for reservations: add --reservation")
    if hours is None:
        raise click.UsageError("Missing option '--hours'.")
    s = open_api(api_url).extend(session_id, hours)
    if as_json:
        output.print_json(s)
        return
    click.echo(
        f"session {s['id']}: paid until {when(s['expires_at'])} UTC "
        f"(+{hours:g} h, {usd(s['held'])} held)"
    )


# --- costs -----------------------------------------------------------------------------------


def budget_line(data: dict[str, Any]) -> str:
    projected = f"projected by the month's end: {usd(data['projected_month_end'])}"
    limit = data["budget"]["monthly_limit"]
    if limit is None:
        return f"{projected} (no monthly budget: gp4u wallet budget --set 100)"
    verdict = "OVER BUDGET" if data["budget"]["projected_over_budget"] else "within budget"
    return f"{projected} of a {usd(limit)} budget: {verdict}"


def print_costs(data: dict[str, Any]) -> None:
    from gp4u.cli import output

    running = [s for s in data["sessions"] if s["state"] == "running"]
    click.echo(f"{data['month']} (UTC) to date: {usd(data['month_to_date'])}")
    click.echo(budget_line(data))
    click.echo(f"burn rate: {usd(data['burn_rate_per_hour'])}/h ({len(running)} running)")
    click.echo(f"last {data['days']} days: {usd(data['total'])}")
    top = sorted(data["sessions"], key=lambda s: (-s["window_cost"], -s["id"]))[:TOP_SESSIONS]
    if top:
        output.print_table(
            "top sessions",
            [
                ("ID", "right"),
                ("MACHINE", "left"),
                ("STATE", "left"),
                ("MINUTES", "right"),
                ("COST", "right"),
            ],
            [(s["id"], machine(s), s["state"], s["minutes"], usd(s["window_cost"])) for s in top],
        )
    if data["by_key"]:
        output.print_table(
            "per API key",
            [("KEY", "left"), ("SESSIONS", "right"), ("COST", "right")],
            [(k["key_id"] or "(login)", k["sessions"], usd(k["cost"])) for k in data["by_key"]],
        )


@click.command()
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    default=30,
    show_default=True,
    help="How many UTC days, today included.",
)
@click.option(
    "--month",
    metavar="YYYY-MM",
    help="The month of the month figures (default: this month).",
)
@json_option
@server_option
@handle_errors
def costs(days: int, month: str | None, as_json: bool, api_url: str | None) -> None:
    """What your GPU sessions cost: this month so far, the projection against your budget,
    the burn rate, the top sessions and the cost per API key.

    Cost accrues per started minute of running time. The projection adds what the running
    sessions cost until the month ends, each no further than its paid time. --json prints the
    API's shape, with the cost per day and per month.
    """
    from gp4u.cli import output

    data = open_api(api_url).costs(days, month)
    if as_json:
        output.print_json(data)
        return
    print_costs(data)

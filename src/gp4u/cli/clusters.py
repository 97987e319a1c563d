"""`gp4u cluster`: a multi-GPU job planned at least cost across providers and run as one
session per planned machine, on a running GP4U server (--api URL or GP4U_API_URL; by default
the local one `make run` starts) as the user whose API key `gp4u login` stored for it."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import click

from gp4u.cli.common import fail, handle_errors, json_option, page_options
from gp4u.cli.planning import _usd as plan_usd
from gp4u.cli.planning import job_body, job_options
from gp4u.cli.remote import RemoteError
from gp4u.cli.reservations import send_once
from gp4u.cli.sessions import (
    LOCAL_SERVER,
    POLL_SECONDS,
    SessionsApi,
    keep_private_key,
    parse_env,
    pause,
    public_key,
    server_option,
    when,
)
from gp4u.cli.wallet import IDEMPOTENCY_HELP, usd

STATES = ("planned", "starting", "running", "ending", "completed", "failed", "stopped")
FINAL = frozenset({"completed", "failed", "stopped"})
# The server refuses a start while it reconciles provider instances after its own start (503).
START_RETRY_SECONDS = 60.0
LAST_EVENTS = 8


class ClustersApi(SessionsApi):
    """The clusters API of one server."""

    def create_cluster(self, body: dict[str, Any], key: str) -> Any:
        return self.send("POST", "/api/v1/clusters", body, headers={"Idempotency-Key": key})

    def clusters(self, states: tuple[str, ...], before: int | None, limit: int) -> Any:
        params = {"state": list(states) or None, "before": before, "limit": limit}
        return self.get("/api/v1/clusters", params)

    def cluster(self, cluster_id: int) -> Any:
        return self.get(f"/api/v1/clusters/{cluster_id}")

    def start_cluster(self, cluster_id: int) -> Any:
        return self.send("POST", f"/api/v1/clusters/{cluster_id}/start")

    def stop_cluster(self, cluster_id: int) -> Any:
        return self.send("POST", f"/api/v1/clusters/{cluster_id}/stop")


def open_clusters(api_url: str | None) -> ClustersApi:
    return ClustersApi.for_server(api_url or LOCAL_SERVER)


# --- rendering -------------------------------------------------------------------------------


def pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def progress_line(c: dict[str, Any]) -> str:
    p = c["progress"]
    return (
        f"{p['delivered_pflop_hours']:,.3f} of {p['required_pflop_hours']:,.3f} PFLOP-hours "
        f"({pct(p['share_delivered'])}) · {p['machines_running']} machine(s) running"
    )


def money_line(c: dict[str, Any]) -> str:
    m = c["money"]
    return (
        f"estimate {usd(m['estimate'])} · held {usd(m['held'])} · cost so far "
        f"{usd(m['cost_so_far'])} · paid {usd(m['captured'])}"
        + (f" · owed to hosts {usd(m['owed_to_hosts'])}" if m.get("owed_to_hosts") else "")
    )


def headline(c: dict[str, Any]) -> str:
    name = f" ({c['name']})" if c.get("name") else ""
    return f"cluster {c['id']}{name}: {c['state']} · deadline {when(c['deadline_at'])} UTC"


def print_plan(c: dict[str, Any]) -> None:
    from gp4u.cli import output

    plan = c["plan"]
    output.print_table(
        None,
        [
            ("WHAT", "left"),
            ("MACHINES", "right"),
            ("HOURS EACH", "right"),
            ("$/H EACH", "right"),
            ("COST", "right"),
        ],
        [
            (
                m["label"],
                m["instances"],
                f"{m['hours_each']:.2f}",
                usd(m["price_per_hour"]),
                plan_usd(m["cost"]),
            )
            for m in plan["members"]
        ],
        caption=f"{plan['machines']} machine(s), {plan['gpus']} GPUs, "
        f"{plan_usd(plan['cost'])}, done in {plan['finish_hours']:.1f} h",
    )


def print_ending(c: dict[str, Any]) -> None:
    if c.get("end_reason"):
        detail = f": {c['end_detail']}" if c.get("end_detail") else ""
        click.echo(f"ended: {c['end_reason']}{detail}")


def print_cluster(c: dict[str, Any]) -> None:
    """Everything `gp4u cluster show` says: state, progress, money, members, what happened."""
    from gp4u.cli import output

    click.echo(headline(c))
    click.echo(f"progress: {progress_line(c)}")
    click.echo(f"money: {money_line(c)}")
    output.print_table(
        None,
        [
            ("MEMBER", "right"),
            ("ROUND", "right"),
            ("STATE", "left"),
            ("WHAT", "left"),
            ("$/H", "right"),
            ("PLANNED H", "right"),
            ("RAN H", "right"),
            ("SHARE", "right"),
            ("COST", "right"),
            ("SESSION", "left"),
        ],
        [
            (
                m["id"],
                m["round"],
                m["state"],
                f"{m['label']} (host)" if m.get("host_owned") else m["label"],
                usd(m["price_per_hour"]),
                f"{m['planned_hours']:.2f}",
                f"{m['ran_hours']:.2f}",
                pct(m["contribution"]),
                usd(m["cost_so_far"]),
                f"{m['session_id']} ({m['session_state']})" if m["session_id"] else None,
            )
            for m in c["members"]
        ],
        caption=f"{len(c['members'])} members, {c['replans']} re-plan(s) · SHARE: of the "
        "compute delivered (what host-owned members cost is split among their hosts by it) · "
        "SESSION: see gp4u session ID",
    )
    for m in c["members"]:
        if m["failure"]:
            click.echo(f"member {m['id']} ({m['label']}) failed: {m['failure']}")
    print_ending(c)
    events = c["events"][-LAST_EVENTS:]
    if events:
        click.echo("events (UTC):")
        for e in events:
            click.echo(f"  {when(e['at'])}  {e['what']}")


# --- following -------------------------------------------------------------------------------


def follow(
    api: ClustersApi, c: dict[str, Any], timeout: float | None
) -> tuple[dict[str, Any], bool]:
    """Poll the cluster until it ends, telling its state changes and new events on stderr;
    (the last view, whether it ended)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    seen = {(e["at"], e["what"]) for e in c["events"]}
    state = c["state"]
    click.echo(f"cluster {c['id']}: {state}…", err=True)
    while c["state"] not in FINAL:
        if deadline is not None and time.monotonic() >= deadline:
            return c, False
        pause(POLL_SECONDS)
        c = api.cluster(c["id"])
        for e in c["events"]:
            if (e["at"], e["what"]) not in seen:
                seen.add((e["at"], e["what"]))
                click.echo(f"cluster {c['id']}: {e['what']}", err=True)
        if c["state"] != state:
            state = c["state"]
            click.echo(f"cluster {c['id']}: {state} · {progress_line(c)}", err=True)
    return c, True


def start_now(api: ClustersApi, cluster_id: int) -> dict[str, Any]:
    """Start the cluster; a start is harmless to repeat, so an answer lost or refused while the
    server finishes its own start is asked again for a while."""
    deadline = time.monotonic() + START_RETRY_SECONDS
    while True:
        try:
            started: dict[str, Any] = api.start_cluster(cluster_id)
            return started
        except RemoteError as exc:
            if not exc.maybe_done or time.monotonic() >= deadline:
                raise
        pause(POLL_SECONDS)


def finish(
    api: ClustersApi,
    c: dict[str, Any],
    wait: bool,
    timeout: float | None,
    as_json: bool,
    extra: dict[str, Any] | None = None,
) -> None:
    """Follow the cluster if asked, print it (JSON: with `extra`), and exit 1 when it failed
    or did not end within the timeout."""
    from gp4u.cli import output

    done = True
    if wait:
        c, done = follow(api, c, timeout)
    if as_json:
        output.print_json({**c, **(extra or {})})
    elif wait:
        print_cluster(c)
    if wait and c["state"] == "failed":
        fail(f"cluster {c['id']} failed: {c.get('end_detail') or c.get('end_reason')}", 1)
    if not done:
        fail(
            f"cluster {c['id']} is still {c['state']} after {timeout:g} s: follow it with "
            f"gp4u cluster show {c['id']}",
            1,
        )


def wait_options(fn: Any) -> Any:
    """--wait and --timeout (`create` accepts --wait only with --start)."""
    fn = click.option(
        "--timeout",
        type=click.FloatRange(min=0),
        metavar="SECONDS",
        help="With --wait: seconds to wait at most (default: until it ends; exit 1 when it has "
        "not ended by then).",
    )(fn)
    return click.option(
        "--wait",
        is_flag=True,
        help="Follow the cluster until it ends (completed, failed or stopped), telling its "
        "state changes and events; exit 1 when it fails.",
    )(fn)


# --- create ----------------------------------------------------------------------------------


def ssh_key_value(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None or value == "generate":
        return value
    path = Path(value).expanduser()
    if not path.is_file():
        raise click.BadParameter(
            f"{value!r} is not a file: give a public key file or 'generate'", ctx, param
        )
    return public_key(path)


@click.command("create")
@job_options
@click.option("--name", help="Yours, to recognise the cluster by.")
@click.option("--image", help="Every machine's image (default: a CUDA runtime image).")
@click.option("--command", "startup_command", help="Run this on every machine once it is up.")
@click.option(
    "--env",
    "env",
    multiple=True,
    metavar="NAME=VALUE",
    callback=parse_env,
    help="An environment variable for every machine (repeat for more). Values are stored "
    "encrypted and never shown again.",
)
@click.option(
    "--ssh-key",
    metavar="FILE|generate",
    callback=ssh_key_value,
    help="Your OpenSSH public key file for every machine, or `generate` for a new key pair "
    "whose private key is saved to ~/.ssh/gp4u-cluster-<id> (mode 0600); it is printed (on "
    "stderr) only if it cannot be saved.",
)
@click.option("--start", is_flag=True, help="Start the cluster right after creating it.")
@wait_options
@click.option("--idempotency-key", metavar="KEY", help=IDEMPOTENCY_HELP)
@json_option
@server_option
@handle_errors
def create(
    name: str | None,
    image: str | None,
    startup_command: str | None,
    env: dict[str, str],
    ssh_key: str | None,
    start: bool,
    wait: bool,
    timeout: float | None,
    idempotency_key: str | None,
    as_json: bool,
    api_url: str | None,
    **fields: Any,
) -> None:
    """Plan a job at least cost on the offers the server can launch, and hold the plan's cost.

    The job options are those of `gp4u plan`. The plan's cost (the estimate) is held on your
    wallet; nothing runs until the cluster starts (--start, or gp4u cluster start ID). Exit
    code 2 when no plan exists (the error names the constraint and the nearest alternatives).
    """
    if wait and not start:
        raise click.UsageError("--wait follows a started cluster: add --start")
    body = {
        **job_body(fields),
        "name": name,
        "image": image,
        "startup_command": startup_command,
        "env": env,
        "ssh_public_key": ssh_key,
    }
    key = idempotency_key or f"cli-{uuid.uuid4()}"
    api = open_clusters(api_url)
    c = send_once(lambda: api.create_cluster(body, key), "cluster", key, "`gp4u cluster list`")
    private = c.pop("ssh_private_key", None)
    key_file = keep_private_key(c["id"], private, "cluster") if private else None
    if not as_json:
        click.echo(headline(c))
        print_plan(c)
        click.echo(
            f"held on your wallet: {usd(c['money']['estimate'])} (the plan's cost, per "
            "started minute)"
        )
        if key_file:
            click.echo(f"private key: {key_file}")
    if start:
        try:
            c = start_now(api, c["id"])
        except RemoteError as exc:
            fail(
                f"{exc.detail}\ncluster {c['id']} was created (its estimate is held) but did not"
                f" start: gp4u cluster start {c['id']}"
            )
        if not as_json:
            click.echo(f"cluster {c['id']}: {c['state']} · {len(c['members'])} machine(s)")
    elif not as_json:
        click.echo(f"start it: gp4u cluster start {c['id']}")
    extra = {"ssh_private_key_file": str(key_file) if key_file else None}
    finish(api, c, wait, timeout, as_json, extra)


# --- reading and changing --------------------------------------------------------------------


@click.command("list")
@page_options("clusters", STATES)
@json_option
@server_option
@handle_errors
def list_clusters(
    states: tuple[str, ...], before: int | None, limit: int, as_json: bool, api_url: str | None
) -> None:
    """Your clusters, newest first: state, progress, estimate, cost so far."""
    from gp4u.cli import output

    page = open_clusters(api_url).clusters(states, before, limit)
    output.print_page(
        page,
        as_json,
        "clusters",
        [
            ("ID", "right"),
            ("NAME", "left"),
            ("STATE", "left"),
            ("MACHINES", "right"),
            ("DONE", "right"),
            ("ESTIMATE", "right"),
            ("COST", "right"),
            ("CREATED", "left"),
            ("DEADLINE", "left"),
        ],
        lambda c: (
            c["id"],
            c["name"],
            c["state"],
            len(c["members"]),
            pct(c["progress"]["share_delivered"]),
            usd(c["money"]["estimate"]),
            usd(c["money"]["cost_so_far"]),
            when(c["created_at"]),
            when(c["deadline_at"]),
        ),
    )


@click.command("show")
@click.argument("cluster_id", metavar="ID", type=click.IntRange(min=1))
@json_option
@server_option
@handle_errors
def show(cluster_id: int, as_json: bool, api_url: str | None) -> None:
    """Cluster ID: progress, money, its members and their share of the work, what happened."""
    from gp4u.cli import output

    c = open_clusters(api_url).cluster(cluster_id)
    if as_json:
        output.print_json(c)
        return
    print_cluster(c)


@click.command("start")
@click.argument("cluster_id", metavar="ID", type=click.IntRange(min=1))
@wait_options
@json_option
@server_option
@handle_errors
def start(
    cluster_id: int, wait: bool, timeout: float | None, as_json: bool, api_url: str | None
) -> None:
    """Start cluster ID: one session per planned machine.

    A machine that cannot launch, or is lost, is replaced by re-planning the rest of the work
    without its offer; if no re-plan exists the cluster fails. Refused when the plan no longer
    finishes by the deadline. Starting a started cluster changes nothing.
    """
    api = open_clusters(api_url)
    c = start_now(api, cluster_id)
    if not as_json:
        click.echo(f"{headline(c)} · {len(c['members'])} machine(s)")
        if not wait:
            click.echo(f"follow it: gp4u cluster show {c['id']}")
    finish(api, c, wait, timeout, as_json)


@click.command("stop")
@click.argument("cluster_id", metavar="ID", type=click.IntRange(min=1))
@wait_options
@json_option
@server_option
@handle_errors
def stop(
    cluster_id: int, wait: bool, timeout: float | None, as_json: bool, api_url: str | None
) -> None:
    """Stop cluster ID now: billing stops for every machine; each is destroyed and verified gone.

    The cluster settles once they all are: you pay for the machines' running time and the rest
    of the hold comes back. Stopping an ended cluster changes nothing.
    """
    api = open_clusters(api_url)
    c = api.stop_cluster(cluster_id)
    if not as_json:
        click.echo(f"{headline(c)} · cost so far {usd(c['money']['cost_so_far'])}")
    finish(api, c, wait, timeout, as_json)


@click.group()
def cluster() -> None:
    """A multi-GPU job planned at least cost across providers, run as one session per planned
    machine (`gp4u plan` shows the planning alone).

    `create` plans the job over the offers the server can launch and holds its cost; `start`
    launches the machines (a machine that fails is replaced by re-planning the rest); the
    cluster ends when its compute is delivered, it is stopped, or it cannot be re-planned.
    """


for command in (create, list_clusters, show, start, stop):
    cluster.add_command(command)

"""`gp4u agent run|done|status|host`: the node agent's command line. It lives in the agent layer
so a bare machine can start it with `python -m gp4u.agent`; `gp4u.cli.agent` re-exports the
group."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from gp4u.agent import config as cfg

STATE_DIR_OPTION = click.option(
    "--state-dir",
    envvar=cfg.ENV_STATE_DIR,
    type=click.Path(file_okay=False, path_type=Path),
    default=cfg.DEFAULT_STATE_DIR,
    show_default=True,
    help=f"Where the running agent wrote agent.json (env {cfg.ENV_STATE_DIR}).",
)
STATUS_URL_OPTION = click.option(
    "--status-url",
    metavar="URL",
    help="The agent's status endpoint, e.g. http://127.0.0.1:8585 (default: from agent.json).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def agent() -> None:
    """The GP4U node agent, run on a machine GP4U launched or on a host's own machine.

    `run` registers with the broker using the machine's one-time token, heartbeats, reports GPU
    facts and serves a local status endpoint; it shuts the machine down when the broker says so,
    at the hard deadline, or when the broker has been silent for the broker timeout. A workload
    signals that it finished with `done`.

    `host` is for GPU owners: it registers a machine listed on the GP4U marketplace with its
    one-time machine token, reports its GPUs and heartbeats so the broker counts it as online,
    and runs the renters' sessions the broker hands it. It never powers anything off and runs
    until stopped.
    """


# Options both modes take.
broker_option = click.option(
    "--broker",
    envvar=cfg.ENV_BROKER,
    required=True,
    metavar="URL",
    help=f"The GP4U broker's base URL (env {cfg.ENV_BROKER}).",
)
log_format_option = click.option(
    "--log-format",
    envvar=cfg.ENV_LOG_FORMAT,
    type=click.Choice(["json", "console"]),
    default="json",
    show_default=True,
    help=f"Log lines on stderr (env {cfg.ENV_LOG_FORMAT}).",
)


def _deadline(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return cfg.parse_time(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 timestamp: {value!r}") from None


@agent.command(
    epilog="""\b
Exit codes:
  0   the workload reported done (forwarded to the broker when it could be)
  10  the broker answered "action": "shutdown"
  11  the broker answered 401: the session no longer exists
  12  the hard deadline passed
  13  no successful broker answer for the broker timeout (counted from the start)
  14  stopped by SIGTERM/SIGINT (the machine is not powered off)
  2   bad options
"""
)
@broker_option
@click.option(
    "--token",
    envvar=cfg.ENV_TOKEN,
    required=True,
    metavar="TOKEN",
    help=f"The one-time registration token (env {cfg.ENV_TOKEN}; prefer the variable: "
    "options show in the process list). Never logged.",
)
@click.option(
    "--hard-deadline",
    envvar=cfg.ENV_HARD_DEADLINE,
    metavar="ISO",
    callback=_deadline,
    help="Shut down at this time whatever happens; the earliest of this and the broker's "
    f"hard deadline counts (env {cfg.ENV_HARD_DEADLINE}).",
)
@click.option(
    "--heartbeat-seconds",
    envvar=cfg.ENV_HEARTBEAT_SECONDS,
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help=f"Until the broker's value from registration (env {cfg.ENV_HEARTBEAT_SECONDS}).",
)
@click.option(
    "--broker-timeout-seconds",
    envvar=cfg.ENV_BROKER_TIMEOUT_SECONDS,
    type=click.FloatRange(min=0, min_open=True),
    default=600.0,
    show_default=True,
    help="Shut down after this long without a successful broker answer; the broker's value "
    f"from registration overrides it (env {cfg.ENV_BROKER_TIMEOUT_SECONDS}).",
)
@click.option(
    "--status-host", default="127.0.0.1", show_default=True, help="The status endpoint's address."
)
@click.option(
    "--status-port",
    envvar=cfg.ENV_STATUS_PORT,
    type=click.IntRange(0, 65535),
    default=8585,
    show_default=True,
    help=f"The status endpoint's port; 0: any free port (env {cfg.ENV_STATUS_PORT}).",
)
@click.option(
    "--state-dir",
    envvar=cfg.ENV_STATE_DIR,
    type=click.Path(file_okay=False, path_type=Path),
    default=cfg.DEFAULT_STATE_DIR,
    show_default=True,
    help="Where agent.json (pid, status URL, session id; no secret) goes "
    f"(env {cfg.ENV_STATE_DIR}).",
)
@click.option(
    "--on-shutdown",
    envvar=cfg.ENV_ON_SHUTDOWN,
    type=click.Choice(["poweroff", "exit"]),
    default="poweroff",
    show_default=True,
    help="poweroff: run the shutdown command, then exit; exit: only exit "
    f"(env {cfg.ENV_ON_SHUTDOWN}).",
)
@click.option(
    "--shutdown-command",
    envvar=cfg.ENV_SHUTDOWN_COMMAND,
    default="shutdown -h now",
    show_default=True,
    help=f"Run (without a shell) to power off (env {cfg.ENV_SHUTDOWN_COMMAND}).",
)
@log_format_option
def run(
    broker: str,
    token: str,
    hard_deadline: datetime | None,
    heartbeat_seconds: float,
    broker_timeout_seconds: float,
    status_host: str,
    status_port: int,
    state_dir: Path,
    on_shutdown: cfg.OnShutdown,
    shutdown_command: str,
    log_format: str,
) -> None:
    """Run the agent until the machine must stop, then power off (or exit).

    \b
    It registers (retrying with backoff while the broker is unreachable), then heartbeats every
    heartbeat-seconds, sending machine facts (GPUs from nvidia-smi, CPUs, memory) with the
    registration and every 10th heartbeat. Dead-man switches, checked twice a second:
      - now ≥ the hard deadline (even when the broker is gone),
      - no successful broker answer for broker-timeout-seconds,
      - the broker answers "shutdown" or 401.
    A 401 on registration (unknown or used token) leaves only the first two switches.
    The status endpoint (GET /status, POST /done) listens on 127.0.0.1 by default.
    """
    from gp4u.agent.runner import run_agent

    try:
        config = cfg.AgentConfig(
            broker=broker,
            token=token,
            hard_deadline=hard_deadline,
            heartbeat_seconds=heartbeat_seconds,
            broker_timeout_seconds=broker_timeout_seconds,
            status_host=status_host,
            status_port=status_port,
            state_dir=state_dir.expanduser(),
            on_shutdown=on_shutdown,
            shutdown_command=shutdown_command,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    sys.exit(run_agent(config, log_format=log_format))


def _url(status_url: str | None, state_dir: Path) -> str:
    from gp4u.agent.client import status_url as from_state

    return status_url or from_state(state_dir.expanduser())


def _print(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, indent=2))


@agent.command()
@click.option("--exit-code", type=int, default=None, help="The workload's exit code.")
@click.option("--message", default=None, help="A short note for the broker (e.g. a result).")
@STATUS_URL_OPTION
@STATE_DIR_OPTION
def done(
    exit_code: int | None, message: str | None, status_url: str | None, state_dir: Path
) -> None:
    """Tell the running agent the workload finished: it reports to the broker and shuts down.

    Finds the agent through agent.json in the state dir (or --status-url). Prints the agent's
    answer; exit 1 when no agent answers.
    """
    from gp4u.agent.client import AgentError, send_done

    try:
        _print(send_done(_url(status_url, state_dir), exit_code, message))
    except AgentError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


@agent.command()
@STATUS_URL_OPTION
@STATE_DIR_OPTION
def status(status_url: str | None, state_dir: Path) -> None:
    """Print the running agent's status as JSON (session, broker contact, deadline, facts).

    Exit 1 when no agent answers.
    """
    from gp4u.agent.client import AgentError, get_status

    try:
        _print(get_status(_url(status_url, state_dir)))
    except AgentError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


@agent.command(
    epilog="""\b
Exit codes:
  10  the broker answered "action": "stop": the machine was retired by its owner
  11  the broker refused the token (401, or 4xx for a mistyped one: it is unknown or
      used), or the saved secret is no longer valid (the saved registration is removed);
      register the machine again on GP4U to get a new token
  14  stopped by SIGTERM/SIGINT (restarting reuses the saved registration)
  2   bad options, or no token and no saved registration for this broker
\b
Under systemd, Restart=on-failure with RestartPreventExitStatus=10 11 restarts the
agent after a crash or a reboot, but not after a retirement or a refusal; with
KillMode=process a restart leaves the running sessions alone.
"""
)
@broker_option
@click.option(
    "--token",
    envvar=cfg.ENV_HOST_TOKEN,
    metavar="TOKEN",
    help="The one-time machine token GP4U gave when the machine was registered (env "
    f"{cfg.ENV_HOST_TOKEN}; prefer the variable: options show in the process list). Only "
    "needed until the first successful registration. Never logged.",
)
@click.option(
    "--heartbeat-seconds",
    envvar=cfg.ENV_HEARTBEAT_SECONDS,
    type=click.FloatRange(min=0, min_open=True),
    default=15.0,
    show_default=True,
    help="Until the broker gives its own interval; also the retry interval while the broker "
    f"is unreachable (env {cfg.ENV_HEARTBEAT_SECONDS}).",
)
@click.option(
    "--state-dir",
    envvar=cfg.ENV_STATE_DIR,
    type=click.Path(file_okay=False, path_type=Path),
    default=cfg.DEFAULT_STATE_DIR,
    show_default=True,
    help=f"Where {cfg.HOST_STATE_FILE} (broker URL, machine id and agent secret; mode 0600) "
    f"and the sessions' {cfg.HOST_RUNS_DIR}/ folder are kept (env {cfg.ENV_STATE_DIR}).",
)
@click.option(
    "--benchmark/--no-benchmark",
    default=True,
    show_default=True,
    help="Measure the GPUs' throughput (a timed matrix multiply with PyTorch on CUDA) once per "
    "start while no session runs; the broker plans the machine at its measured speed when that "
    "is below its spec.",
)
@log_format_option
def host(
    broker: str,
    token: str | None,
    heartbeat_seconds: float,
    state_dir: Path,
    benchmark: bool,
    log_format: str,
) -> None:
    """Keep this machine online on the marketplace: host mode, for GPU owners.

    \b
    Register the machine on GP4U to get a one-time machine token, then run this on the
    machine. The first start registers with the token, sending machine facts (GPUs from
    nvidia-smi, CPUs, memory), and saves the machine id and agent secret in the state dir;
    later starts reuse them, so the token is needed only once. Then it heartbeats every
    heartbeat-seconds (the broker's interval once known), sending facts with every 10th
    call; the broker counts the machine as bookable while heartbeats arrive.
    When the broker is unreachable it keeps retrying at the same interval: it never stops
    on silence, never powers the machine off and serves no status endpoint.

    \b
    Once registered, while no session runs, it measures the GPUs' throughput and sends it
    with its facts (see --benchmark).

    \b
    It also runs the sessions the broker hands the machine (renters' workloads, each with
    its own session agent) in the state dir's runs/ folder, reports them with every
    heartbeat and stops them when the broker says so. Retired (10) or refused (11), it
    stops them before exiting; stopped by a signal (14), it leaves them running and picks
    them up again on the next start.
    """
    from gp4u.agent.host import HostSetupError, run_host

    try:
        config = cfg.HostConfig(
            broker=broker,
            token=token or None,
            heartbeat_seconds=heartbeat_seconds,
            state_dir=state_dir.expanduser(),
            benchmark=benchmark,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        code = run_host(config, log_format=log_format)
    except HostSetupError as exc:
        raise click.UsageError(str(exc)) from None
    sys.exit(code)

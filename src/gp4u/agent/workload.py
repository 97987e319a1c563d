"""The workload process of a session: what a `local` provider instance runs on the broker's own
box and what the host agent runs for a session on a host's machine (`python -m
gp4u.agent.workload --instance-dir DIR [--command CMD]`, started through
`gp4u.agent.workloads.WorkloadStore`). It records that it is up (the `running` marker), runs the
startup command if there is one, and otherwise waits until it is terminated (SIGTERM). When it
exits it writes its exit code to `DIR/exit_code`, so an observer that is not its parent (a
restarted host agent) can know it; a process killed by SIGKILL leaves no such file.

With GP4U_AGENT_TOKEN and GP4U_AGENT_BROKER in its environment it also runs the node agent
(`python -m gp4u.agent run --on-shutdown exit`, status port 0, state dir = the instance dir, log
in `agent.log`) the way a real machine would: when the agent stops, the workload's whole process
group is terminated and the process exits with the agent's exit code; when the workload exits
by itself, the agent is told it is done, with the command's exit code. The workload gets
GP4U_AGENT_STATE_DIR (so `gp4u agent done` finds the agent) and not the token."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

AGENT_ENV = ("GP4U_AGENT_TOKEN", "GP4U_AGENT_BROKER")
GRACE_SECONDS = 2.0
RUNNING_FILE = "running"  # written once the process is up: the instance is running
EXIT_CODE_FILE = "exit_code"  # written when it exits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A GP4U session's workload process.")
    parser.add_argument("--instance-dir", type=Path, required=True)
    parser.add_argument("--command", default=None)
    args = parser.parse_args(argv)
    code = 1  # what Python exits with when _run raises
    try:
        code = _run(args.instance_dir, args.command)
    finally:
        write_exit_code(args.instance_dir, code)
    return code


def write_exit_code(folder: Path, code: int) -> None:
    """Replace `exit_code` atomically, so a reader never sees half a file."""
    tmp = folder / f".{EXIT_CODE_FILE}.{os.getpid()}.tmp"
    with suppress(OSError):  # the folder is gone: nobody is left to read it
        tmp.write_text(f"{code}\n")
        tmp.replace(folder / EXIT_CODE_FILE)


def _run(folder: Path, command: str | None) -> int:
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    (folder / RUNNING_FILE).write_text(str(os.getpid()))
    if all(os.environ.get(name) for name in AGENT_ENV):
        return _with_agent(folder, command, lambda: stop)
    if command:
        child = subprocess.Popen(command, shell=True, cwd=folder)  # noqa: S602 - the renter's own command on their own machine  # nosec B602
        while not stop and child.poll() is None:
            time.sleep(0.2)
        if child.poll() is None:
            child.terminate()
        return 0
    while not stop:
        time.sleep(0.2)
    return 0


def _with_agent(folder: Path, command: str | None, stopped: Callable[[], bool]) -> int:
    """Run the agent and the workload until the agent stops or the instance is terminated."""
    from gp4u.agent.client import AgentError, send_done, status_url

    agent_command = [sys.executable, "-m", "gp4u.agent", "run", "--on-shutdown", "exit"]
    agent_command += ["--status-port", "0", "--state-dir", str(folder)]
    with (folder / "agent.log").open("ab") as agent_log:
        agent = subprocess.Popen(agent_command, stdout=agent_log, stderr=agent_log)
    workload = None
    if command:
        # The workload can call `gp4u agent done` itself; the spent token is not its business.
        env = {k: v for k, v in os.environ.items() if k != "GP4U_AGENT_TOKEN"}
        env["GP4U_AGENT_STATE_DIR"] = str(folder)
        # Its own process group, so stopping it takes its children too, and not us.
        workload = subprocess.Popen(command, shell=True, cwd=folder, env=env, process_group=0)  # noqa: S602 - the renter's own command on their own machine  # nosec B602
    reported = workload is None
    try:
        while not stopped() and agent.poll() is None:
            if not reported and workload is not None and workload.poll() is not None:
                code = workload.returncode
                with suppress(AgentError):  # not up yet: try again on the next turn
                    send_done(status_url(folder), code, "the startup command finished")
                    reported = True
            time.sleep(0.2)
    finally:
        # Within the WorkloadStore's 5 s before it SIGKILLs us (and would orphan the workload).
        if agent.poll() is None:
            agent.terminate()
        if workload is not None:
            _stop_group(workload)
        try:
            agent.wait(GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait()
    return 0 if stopped() else agent.returncode


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, SIGKILL what is left after the grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline:
            process.poll()
            if not _group_alive(process.pid):
                return
            time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process is left in the group: orphaned zombies linger where
    nothing reaps them, and `killpg(pgid, 0)` would count those."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


if __name__ == "__main__":
    sys.exit(main())

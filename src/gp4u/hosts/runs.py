"""Runs: sessions' workloads on host machines, started by each machine's own host agent.

The broker never reaches into a host's machine; the host agent pulls. A reservation's session is
launched through the `gp4u` provider adapter, which records a run here (`Fleet.start`). Every
heartbeat of the machine's agent then reports the runs it has (`exchange`) and gets back the
runs it should have: each open run with action "run" (with its command and, until the agent
reports it started, its environment: the session agent's one-time token travels only here) or
"stop" once the session ended. A run the answer does not list, the agent stops and forgets.
A run handed out but not reported is handed out again (the answer may have been lost); a run
reported running that disappears from the reports has exited. Stopping a run whose machine is
offline ends it at once ("abandoned"): nobody pays for that time, and the agent stops the
process when it is back, because the run is no longer listed."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.accounts import secrets_box
from gp4u.accounts.keyring import keyring
from gp4u.db.engine import unit_of_work
from gp4u.hosts import repository as repo
from gp4u.hosts.models import HostMachine, MachineRun
from gp4u.kit.clock import Clock
from gp4u.providers.hosts.port import RunRefused, RunRequest, RunState, RunView
from gp4u.settings import Settings

ENDED: tuple[RunState, ...] = ("exited", "abandoned")


class Fleet:
    """The hosts marketplace's side of the `gp4u` adapter's port (`HostFleet`); each call is a
    transaction of its own, like a provider API call."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock

    async def start(self, request: RunRequest) -> RunView:
        now = self.clock.now()
        async with unit_of_work(self.sessions) as session:
            found = await repo.run_by_client_token(session, request.client_token)
            if found is not None:
                return self._view(*found, now)
            machine = await repo.get(session, request.machine_id)
            if machine is None or machine.status == "retired":
                raise RunRefused(f"no machine {request.machine_id} to run on")
            run_id = uuid.uuid4().hex[:12]
            run = MachineRun(
                run_id=run_id,
                machine_id=machine.id,
                client_token=request.client_token,
                label=request.label,
                owner=request.owner,
                command=request.command,
                env_sealed=seal_env(request.env, box_key(self.settings), run_id),
                wanted="run",
                state="pending",
                created_at=now,
            )
            session.add(run)
            await session.flush()
            return self._view(run, machine, now)

    async def runs(self, run_ids: Sequence[str]) -> list[RunView]:
        now = self.clock.now()
        async with self.sessions() as session:
            return [self._view(*pair, now) for pair in await repo.runs_by_id(session, run_ids)]

    async def live_runs(self, deployment: str) -> list[RunView]:
        now = self.clock.now()
        async with self.sessions() as session:
            found = await repo.live_runs(session, f"gp4u-{deployment}-")
            return [self._view(*pair, now) for pair in found]

    async def stop(self, run_id: str) -> None:
        """Ask the machine's agent to stop the run; a run never handed out, or on a machine
        that is offline, ends at once. Stopping an ended run is a no-op."""
        now = self.clock.now()
        async with unit_of_work(self.sessions) as session:
            for run, machine in await repo.runs_by_id(session, [run_id], lock=True):
                if run.ended_at is not None:
                    continue
                if run.state == "pending":
                    _end(run, "exited", now)
                elif not self._online(machine, now):
                    _end(run, "abandoned", now)
                else:
                    run.wanted = "stop"

    def _online(self, machine: HostMachine, now: datetime) -> bool:
        return machine.online_at(now, self.settings.host_offline_after_seconds)

    def _view(self, run: MachineRun, machine: HostMachine, now: datetime) -> RunView:
        return RunView(
            run_id=run.run_id,
            machine_id=run.machine_id,
            state=run.state,  # type: ignore[arg-type]  # written only from RunState
            label=run.label,
            owner=run.owner,
            created_at=run.created_at,
            exit_code=run.exit_code,
            machine_online=self._online(machine, now),
        )


async def exchange(
    session: AsyncSession,
    machine: HostMachine,
    reports: Sequence[Mapping[str, Any]] | None,
    settings: Settings,
    now: datetime,
) -> list[dict[str, Any]]:
    """Apply a heartbeat's run reports (None: an agent that does not report runs) and return
    the runs the agent should have, for the heartbeat's answer."""
    runs = await repo.open_runs_of(session, machine.id)
    reported = {str(r["id"]): r for r in reports or ()}
    for run in runs:
        if reports is not None or run.wanted == "stop":  # such an agent never started any
            _apply(run, reported.get(run.run_id), now)
    key = box_key(settings)
    answer: list[dict[str, Any]] = []
    for run in runs:
        if run.ended_at is not None:
            continue
        if run.wanted == "stop":
            answer.append({"id": run.run_id, "action": "stop", "command": None, "env": None})
            continue
        env = None
        if run.env_sealed is not None:
            env = open_env(run.env_sealed, key, run.run_id)
        if run.state == "pending":
            run.state, run.handed_at = "starting", now
        answer.append({"id": run.run_id, "action": "run", "command": run.command, "env": env})
    return answer


def _apply(run: MachineRun, report: Mapping[str, Any] | None, now: datetime) -> None:
    if report is None:
        # It had it and no longer does, or it never started one that is to stop anyway.
        if run.state == "running" or run.wanted == "stop":
            _end(run, "exited", now)
        return
    run.reported_at = now
    if report.get("state") == "exited":
        code = report.get("exit_code")
        run.exit_code = code if isinstance(code, int) else None
        _end(run, "exited", now)
    elif report.get("state") == "running":
        run.state, run.env_sealed = "running", None  # started: the token is spent


def _end(run: MachineRun, state: RunState, now: datetime) -> None:
    run.state, run.ended_at, run.env_sealed = state, now, None


def box_key(settings: Settings) -> bytes:
    return keyring(settings).box_key


def seal_env(env: Mapping[str, str], key: bytes, run_id: str) -> str:
    return secrets_box.encrypt(orjson.dumps(dict(env)).decode(), key, f"run:{run_id}")


def open_env(sealed: str, key: bytes, run_id: str) -> dict[str, str]:
    env: dict[str, str] = orjson.loads(secrets_box.decrypt(sealed, key, f"run:{run_id}"))
    return env

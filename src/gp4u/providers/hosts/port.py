"""What the host-machine adapter needs from the hosts marketplace, as a narrow port: the
adapter stays free of the database, and the hosts domain (which owns the machines and talks to
their agents) implements it. A run is one session's workload on one host machine: the broker
records that it is wanted, the machine's host agent picks it up on its next heartbeat, starts
it and reports on it every heartbeat after."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

# pending: not handed to the agent yet · starting: handed out, not reported running yet ·
# running: the agent reports its process alive · exited: the agent reports it gone ·
# abandoned: stop was asked while the machine is offline (its agent stops it when it is back).
RunState = Literal["pending", "starting", "running", "exited", "abandoned"]
# A reservation's session asks for its booked machine as offer `host-<machine id>`.
HOST_REF_PREFIX = "host-"


def host_ref(machine_id: int) -> str:
    return f"{HOST_REF_PREFIX}{machine_id}"


def machine_of(offer_ref: str) -> int | None:
    """The machine id in a `host-<id>` offer ref, or None for any other ref."""
    rest = offer_ref.removeprefix(HOST_REF_PREFIX)
    return int(rest) if rest != offer_ref and rest.isdigit() else None


@dataclass(frozen=True)
class RunRequest:
    machine_id: int
    client_token: str  # a launch retried with the same token gets the same run
    label: str  # our tag label (gp4u-<deployment>-<session>)
    owner: str | None
    command: str | None
    env: Mapping[str, str]  # holds the session agent's token: stored sealed, never shown


@dataclass(frozen=True)
class RunView:
    run_id: str
    machine_id: int
    state: RunState
    label: str
    owner: str | None
    created_at: datetime
    exit_code: int | None = None
    machine_online: bool = True


class RunRefused(Exception):
    """The run cannot be placed (no such machine, or it is retired)."""


class HostFleet(Protocol):
    async def start(self, request: RunRequest) -> RunView: ...

    async def runs(self, run_ids: Sequence[str]) -> list[RunView]: ...

    async def live_runs(self, deployment: str) -> list[RunView]: ...

    async def stop(self, run_id: str) -> None: ...

"""The session state machine (pure). A session moves only forward:

    provisioning → starting → running → ending → terminated
          │            │                   ↑
          └────────────┴───────────────────┘   (any live state may end)
    ending → failed   (when it never had a machine)

`ending` means "must be gone": billing has stopped and the lifecycle manager terminates and
verifies with the provider until the machine is confirmed gone. Only then is a session
`terminated` (or `failed`, if no instance ever ran)."""

from __future__ import annotations

from enum import StrEnum

from gp4u.kit.errors import Conflict


class State(StrEnum):
    PROVISIONING = "provisioning"  # row committed; the provider is being asked
    STARTING = "starting"  # the provider made an instance; waiting for its agent
    RUNNING = "running"  # the agent checked in (or the provider reports it reachable)
    ENDING = "ending"  # must be destroyed; billing stopped
    TERMINATED = "terminated"  # confirmed gone
    FAILED = "failed"  # never ran; confirmed nothing left at the provider


LIVE = frozenset({State.PROVISIONING, State.STARTING, State.RUNNING})
FINAL = frozenset({State.TERMINATED, State.FAILED})
_NEXT: dict[State, frozenset[State]] = {
    State.PROVISIONING: frozenset({State.STARTING, State.RUNNING, State.ENDING}),
    State.STARTING: frozenset({State.RUNNING, State.ENDING}),
    State.RUNNING: frozenset({State.ENDING}),
    State.ENDING: frozenset({State.TERMINATED, State.FAILED}),
    State.TERMINATED: frozenset(),
    State.FAILED: frozenset(),
}


class EndReason(StrEnum):
    USER = "user"  # the renter stopped it
    AGENT_DONE = "agent_done"  # the workload signalled it finished
    EXPIRED = "expired"  # its paid time (plus grace) ran out
    HARD_MAX = "hard_max"  # the hard maximum lifetime passed
    HEARTBEAT_LOST = "heartbeat_lost"  # the agent stopped heartbeating
    NO_CHECKIN = "no_checkin"  # the agent never checked in
    LAUNCH_FAILED = "launch_failed"  # every attempted offer failed
    INTERRUPTED = "interrupted"  # a launch was cut off by a crash and nothing was found
    GHOST = "ghost"  # the provider no longer has the instance
    CLUSTER = "cluster"  # its cluster ended (a member failed and the rest could not be re-planned)


# Endings after which a cluster member did not do its planned work, and the cluster re-plans.
LOST = frozenset(
    {
        EndReason.LAUNCH_FAILED,
        EndReason.NO_CHECKIN,
        EndReason.INTERRUPTED,
        EndReason.HEARTBEAT_LOST,
        EndReason.GHOST,
    }
)


def can_move(current: str, target: State) -> bool:
    return target in _NEXT[State(current)]


def check_move(current: str, target: State) -> None:
    if not can_move(current, target):
        raise Conflict(f"a session that is {current} cannot become {target.value}")


def is_live(state: str) -> bool:
    return State(state) in LIVE

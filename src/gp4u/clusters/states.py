"""Cluster and member states (pure). A cluster moves only forward:

    planned → starting → running → ending → completed | failed | stopped
       │          │          │                  ↑
       └──────────┴──────────┴──────────────────┘   (stop, or a member that cannot be replaced)

`ending` means every member's session must end and be confirmed destroyed; the final state is
decided once they all are: `completed` when the job's compute was delivered, or when every
member's workload reported done (exit code 0: the job knows better than our throughput model);
`stopped` when its owner stopped it first; `failed` when a workload failed, a lost member could
not be replaced, or members ran out of time before the compute was delivered."""

from __future__ import annotations

from enum import StrEnum

from gp4u.kit.errors import Conflict


class ClusterState(StrEnum):
    PLANNED = "planned"  # money held, nothing launched
    STARTING = "starting"  # members' sessions launching
    RUNNING = "running"  # at least one member running
    ENDING = "ending"  # members ending; waiting for confirmed destruction
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"


class MemberState(StrEnum):
    PLANNED = "planned"  # no session yet
    STARTED = "started"  # its session exists (see the session for where it is)
    DONE = "done"  # its session ended and its cost was captured
    FAILED = "failed"  # it could not launch, or was lost: the cluster re-planned around it
    CANCELLED = "cancelled"  # the cluster ended before it started


LIVE = frozenset({ClusterState.PLANNED, ClusterState.STARTING, ClusterState.RUNNING})
FINAL = frozenset({ClusterState.COMPLETED, ClusterState.FAILED, ClusterState.STOPPED})
_NEXT: dict[ClusterState, frozenset[ClusterState]] = {
    ClusterState.PLANNED: frozenset({ClusterState.STARTING, ClusterState.ENDING}),
    ClusterState.STARTING: frozenset({ClusterState.RUNNING, ClusterState.ENDING}),
    ClusterState.RUNNING: frozenset({ClusterState.ENDING}),
    ClusterState.ENDING: FINAL,
    ClusterState.COMPLETED: frozenset(),
    ClusterState.FAILED: frozenset(),
    ClusterState.STOPPED: frozenset(),
}


class ClusterEnd(StrEnum):
    FINISHED = "finished"  # every member ended on its own (done or paid time over)
    USER = "user"  # its owner stopped it
    NOT_REPLACEABLE = "not_replaceable"  # a member failed and the rest could not be re-planned
    NOT_STARTED = "not_started"  # planned, but not started in time: its hold is released


def check_move(current: str, target: ClusterState) -> None:
    if target not in _NEXT[ClusterState(current)]:
        raise Conflict(f"a cluster that is {current} cannot become {target.value}")

"""What a running cluster has delivered, and each member's share of it (pure).

A member delivers its useful throughput × the hours it ran × the cluster's scaling factor
(the penalty for spreading the job over the machines that ran, `throughput.scaling_factor`).
Its contribution score is its share of the total: shares sum to 1 whenever anything ran. The
remainder of a job is what the members that are still running will not deliver by the end of
their paid time: a re-plan plans exactly that."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gp4u.clusters.throughput import scaling_factor


@dataclass(frozen=True)
class Work:
    """One member's work: throughput (useful PFLOPS), hours run so far, and the hours it may
    still run (0 once it ended)."""

    pflops: float
    ran_hours: float
    left_hours: float

    @property
    def ran(self) -> bool:
        return self.ran_hours > 0


def machines_that_ran(works: Sequence[Work]) -> int:
    return sum(w.ran or w.left_hours > 0 for w in works)


def delivered(works: Sequence[Work]) -> list[float]:
    """PFLOP-hours each member delivered so far, after the scaling penalty."""
    factor = scaling_factor(max(1, machines_that_ran(works)))
    return [w.pflops * w.ran_hours * factor for w in works]


def shares(works: Sequence[Work]) -> list[float]:
    """Each member's contribution score: its share of what was delivered (all 0 before
    anything ran; otherwise they sum to 1)."""
    done = delivered(works)
    total = sum(done)
    if total <= 0:
        return [0.0 for _ in works]
    return [d / total for d in done]


def remainder(required: float, works: Sequence[Work]) -> float:
    """PFLOP-hours still to plan: the requirement less what the members have delivered and will
    deliver in the time they have left."""
    factor = scaling_factor(max(1, machines_that_ran(works)))
    expected = sum(w.pflops * (w.ran_hours + w.left_hours) for w in works) * factor
    return max(0.0, required - expected)

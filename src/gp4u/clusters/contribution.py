"""What a running cluster has delivered, and each member's share of it (pure).

A member delivers its useful throughput × the hours it ran × the cluster's scaling factor
(the penalty for spreading the job over the machines that ran, `throughput.scaling_factor`).
Its contribution score is its share of the total: shares sum to 1 whenever anything ran, and
money is split by them to the micro-dollar (`split`). What a
re-plan must still deliver counts what the members still running will do in their paid time,
and the scaling of every machine the cluster will then have used."""

from __future__ import annotations

import math
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


def still_needed(required: float, works: Sequence[Work], new_machines: int = 0) -> float:
    """PFLOP-hours `new_machines` more machines must deliver, at their own scaling, for the
    whole cluster to deliver `required` at the scaling of all its machines, counting what the
    members have run and may still run in their paid time (0 when nothing is left to do)."""
    raw = sum(w.pflops * (w.ran_hours + w.left_hours) for w in works)
    everyone = scaling_factor(max(1, machines_that_ran(works) + new_machines))
    return max(0.0, (required / everyone - raw) * scaling_factor(max(1, new_machines)))


def split(amount: int, weights: Sequence[float], fallback: Sequence[int]) -> list[int]:
    """`amount` in whole units, in proportion to `weights` (to `fallback` when no weight is
    positive, equally when neither is), summing to `amount` exactly: each gets the floor of
    its exact part, and the units left go to the largest remainders."""
    if not weights:
        return []
    basis: Sequence[float] = weights
    if sum(weights) <= 0:
        basis = fallback if sum(fallback) > 0 else [1.0] * len(weights)
    total = sum(basis)
    exact = [amount * w / total for w in basis]
    parts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(parts)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in by_remainder[: amount - sum(parts)]:
        parts[i] += 1
    return parts

"""Dropping offers no optimal plan needs, so the solver sees hundreds of offers, not 100k (pure).

Offer j dominates offer i when both are in the same placement group, j is at least as fast
(useful PFLOPS per instance), no dearer per useful PFLOP-hour, and comes first in the order
(PFLOPS descending, cost ascending, id). If the dominators of i together have at least `depth`
instances, where `depth` is the most machines a plan may use, i can be dropped: a plan that
rents an instance of i uses fewer than `depth` instances of i's dominators, so one of them has
a spare instance. Moving the work of i's instance there (for r_i/r_j of its hours, so no longer
than before) costs no more, and keeps the machine count, group and every per-offer constraint.
Repeating the move ends (each goes to an earlier offer in the order) with a plan as good that
uses no dropped offer. A sustained job cannot shorten hours, so there "no dearer" compares
prices per hour instead.

The test counts, per offer, the dominators' instances up to `depth`: a sweep over throughput
levels from fastest to slowest that keeps only the `depth` cheapest instances seen so far.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from gp4u.clusters.planner.market import Ints, PlanMarket

Rows = npt.NDArray[np.intp]


def _kept_in_group(market: PlanMarket, rows: Rows, depth: int, sustained: bool) -> list[Rows]:
    """The rows of one group that are not dominated."""
    pflops = market.pflops[rows]
    price = market.price_micros[rows] / (1.0 if sustained else pflops)
    order = np.lexsort((market.ids[rows], price, -pflops))
    rows, pflops, price = rows[order], pflops[order], price[order]
    available = np.minimum(market.available[rows], depth)
    levels = np.flatnonzero(np.r_[True, pflops[1:] != pflops[:-1]])
    bounds = np.r_[levels, rows.size]
    cheapest = np.zeros(0, dtype=np.float64)  # costs of the `depth` cheapest faster instances
    kept = []
    for start, stop in itertools.pairwise(bounds):
        level_price = price[start:stop]
        level_available = available[start:stop]
        earlier_same_level = np.cumsum(level_available) - level_available
        faster_cheaper = np.searchsorted(cheapest, level_price, side="right")
        keep = earlier_same_level + faster_cheaper < depth
        if keep.any():
            kept.append(rows[start:stop][keep])
        merged = np.concatenate([cheapest, np.repeat(level_price[keep], level_available[keep])])
        cheapest = np.sort(merged)[:depth]
    return kept


def undominated(
    market: PlanMarket, rows: Rows, groups: Ints, depth: int, sustained: bool = False
) -> Rows:
    """The rows (of `rows`) that a least-cost plan may need, in ascending order."""
    if rows.size == 0:
        return rows
    kept: list[Rows] = []
    row_groups = groups[rows]
    for group in np.unique(row_groups):
        kept.extend(_kept_in_group(market, rows[row_groups == group], depth, sustained))
    return np.sort(np.concatenate(kept)) if kept else rows[:0]

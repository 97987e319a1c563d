"""The least-cost plan as a mixed-integer program, solved by HiGHS through SciPy (pure).

Variables, per candidate offer i: x_i instances (integer, at most its availability) and h_i
instance-hours (continuous); per scaling band b a binary z_b.

    minimise    sum_i price_i h_i
    subject to  sum_i pflops_i h_i >= sum_b (W / s_b) z_b     compute, with band b's scaling s_b
                sum_b z_b = 1
                sum_i x_i <= sum_b most_b z_b                 machines within the chosen band
                h_i <= D x_i      (= for sustained jobs)      nobody runs past the deadline D
                sum_i price_i h_i <= budget                   when there is a budget

With "same provider" or "same region" placement, each group is its own program (see `solve`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from gp4u.clusters.planner.market import Ints, PlanMarket
from gp4u.clusters.planner.result import Plan, build_plan
from gp4u.clusters.requirements import JobRequirement
from gp4u.clusters.throughput import band_limits

# Relative optimality gap HiGHS must close (its default): within 0.01 % of the optimum, 10 cents
# on a $1,000 job; tightening it to 1e-7 made hard cases several times slower.
MIP_GAP = 1e-4
TIME_LIMIT_SECONDS = 20.0


@dataclass(frozen=True)
class Solved:
    plan: Plan | None
    status: str  # optimal | infeasible | time_limit | error
    message: str


class _Rows:
    """Sparse constraint rows collected as triplets."""

    def __init__(self) -> None:
        self.r: list[npt.NDArray[np.int64]] = []
        self.c: list[npt.NDArray[np.int64]] = []
        self.v: list[npt.NDArray[np.float64]] = []
        self.low: list[float] = []
        self.high: list[float] = []

    def add(self, cols: npt.ArrayLike, values: npt.ArrayLike, low: float, high: float) -> None:
        cols = np.asarray(cols, dtype=np.int64)
        self.r.append(np.full(cols.size, len(self.low), dtype=np.int64))
        self.c.append(cols)
        self.v.append(np.asarray(values, dtype=np.float64))
        self.low.append(low)
        self.high.append(high)

    def add_many(
        self, rows: int, cols: list[npt.NDArray[np.int64]], values: list[npt.ArrayLike]
    ) -> list[int]:
        """`rows` constraints at once; cols[k][j] and values[k][j] are the k-th term of row j."""
        first = len(self.low)
        for col, value in zip(cols, values, strict=True):
            self.r.append(np.arange(first, first + rows, dtype=np.int64))
            self.c.append(col)
            self.v.append(np.broadcast_to(np.asarray(value, dtype=np.float64), (rows,)).copy())
        self.low.extend([0.0] * rows)
        self.high.extend([0.0] * rows)
        return list(range(first, first + rows))

    def constraint(self, width: int) -> LinearConstraint:
        matrix = coo_array(
            (np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))),
            shape=(len(self.low), width),
        ).tocsr()
        return LinearConstraint(matrix, np.array(self.low), np.array(self.high))


def cost_floor(market: PlanMarket, rows: npt.NDArray[np.intp], req: JobRequirement) -> float:
    """A lower bound on the cost of any plan using only `rows`, in dollars (inf: none can do
    the job): the cheapest compute first, ignoring whole machines and the scaling penalty."""
    if rows.size == 0:
        return math.inf
    hours = req.deadline_hours * np.minimum(market.available[rows], req.machine_cap)
    ratio = market.price_micros[rows] / 1e6 / market.pflops[rows]
    order = np.argsort(ratio, kind="stable")
    capacity = np.cumsum((market.pflops[rows] * hours)[order])
    work = req.compute.pflop_hours
    if capacity[-1] < work:
        return math.inf
    last = int(np.searchsorted(capacity, work))
    before = capacity[last - 1] if last else 0.0
    spent = float(np.dot(ratio[order][:last], (market.pflops[rows] * hours)[order][:last]))
    return spent + (work - before) * float(ratio[order][last])


def solve(
    market: PlanMarket,
    rows: npt.NDArray[np.intp],
    groups: Ints,
    req: JobRequirement,
    cutoff_micros: int | None = None,
) -> Solved:
    """The least-cost plan using only `rows` of the market (candidates already eligible).

    With a placement group, each group is solved on its own, the most promising first, and a
    group whose cost floor is above the best plan so far is skipped (branch and bound). With a
    cutoff, only a plan cheaper than it is of interest: groups that cannot beat it are skipped
    (the answer is then "infeasible" when none can)."""
    row_groups = groups[rows]
    parts = [rows[row_groups == g] for g in np.unique(row_groups)]
    floors = [cost_floor(market, part, req) for part in parts]
    best = Solved(None, "infeasible", "no offer can do the job in time")
    for floor, part in sorted(zip(floors, parts, strict=True), key=lambda fp: fp[0]):
        if not math.isfinite(floor) or (
            req.budget_micros is not None and floor * 1e6 > req.budget_micros
        ):
            break
        if best.plan is not None and floor * 1e6 >= best.plan.cost_micros:
            break
        if cutoff_micros is not None and floor * 1e6 >= cutoff_micros:
            break
        found = _solve_group(market, part, req)
        if (
            found.plan is not None
            and (best.plan is None or found.plan.cost_micros < best.plan.cost_micros)
        ) or (best.plan is None and found.status != "infeasible"):
            best = found
    return best


def _solve_group(market: PlanMarket, rows: npt.NDArray[np.intp], req: JobRequirement) -> Solved:
    """The least-cost plan using only `rows`, all of one placement group."""
    n = int(rows.size)
    cap = req.machine_cap
    bands = band_limits(cap)
    x, h = np.arange(n), np.arange(n, 2 * n)
    z = np.arange(2 * n, 2 * n + len(bands))
    width = 2 * n + len(bands)

    price = market.price_micros[rows] / 1e6
    pflops = market.pflops[rows]
    most = np.minimum(market.available[rows], cap).astype(np.float64)
    work = req.compute.pflop_hours
    deadline = req.deadline_hours

    cons = _Rows()
    cons.add(np.r_[h, z], np.r_[pflops, [-work / s for _, _, s in bands]], 0.0, np.inf)
    cons.add(z, np.ones(len(bands)), 1.0, 1.0)
    cons.add(np.r_[x, z], np.r_[np.ones(n), [-float(hi) for _, hi, _ in bands]], -np.inf, 0.0)
    linked = cons.add_many(n, [h, x], [1.0, -deadline])
    for r in linked:
        cons.low[r] = 0.0 if req.sustained else -np.inf
    if req.budget_micros is not None:
        # Each member's cost is rounded up to the micro-dollar: leave room for that.
        cons.add(h, price, -np.inf, (req.budget_micros - min(n, cap)) / 1e6)

    cost = np.zeros(width)
    cost[h] = price
    integrality = np.zeros(width)
    integrality[x] = 1
    integrality[z] = 1
    upper = np.concatenate([most, most * deadline, np.ones(len(bands))])
    result = milp(
        cost,
        constraints=cons.constraint(width),
        integrality=integrality,
        bounds=Bounds(np.zeros(width), upper),
        options={"mip_rel_gap": MIP_GAP, "time_limit": TIME_LIMIT_SECONDS, "presolve": True},
    )
    if result.x is None:
        status = {2: "infeasible", 1: "time_limit"}.get(result.status, "error")
        return Solved(None, status, str(result.message))
    instances = np.zeros(len(market), dtype=np.int64)
    hours = np.zeros(len(market), dtype=np.float64)
    instances[rows] = np.rint(result.x[x]).astype(np.int64)
    hours[rows] = np.clip(result.x[h], 0.0, None)
    status = "optimal" if result.status == 0 else "time_limit"
    return Solved(build_plan("exact", market, req, instances, hours), status, str(result.message))

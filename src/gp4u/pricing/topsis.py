"""TOPSIS multi-criteria ranking (Hwang & Yoon 1981), vectorised with numpy; pure, no I/O.

For m alternatives and n criteria (decision matrix X, m x n):

1. vector normalisation: r_ij = x_ij / sqrt(sum_i x_ij^2), so units cancel (a column of all
   zeros stays zero);
2. weighting: v_ij = w_j r_ij, with the weights scaled to sum to 1;
3. ideal A+ = best of each column (max for a benefit criterion, min for a cost), anti-ideal
   A- = worst;
4. separations d+_i = ||v_i - A+||, d-_i = ||v_i - A-|| (Euclidean);
5. closeness C_i = d-_i / (d+_i + d-_i) in [0, 1], higher is better; where every column is
   degenerate (d+ = d- = 0) all alternatives are equivalent and C = 0.5.

Hard constraints ("at least 80 GB", "EU only") are not criteria: the caller removes the
alternatives that fail them before ranking, since TOPSIS trades every criterion off against the
others. Missing values must be filled (or the alternative dropped) by the caller as well.

Explanations: d-^2 - d+^2 = sum_j [(v_ij - A-_j)^2 - (v_ij - A+_j)^2], and C_i > 0.5 exactly when
that sum is positive, so each criterion's term is its additive contribution: positive where the
alternative sits nearer the ideal on that criterion (it helped), negative where nearer the
anti-ideal (it hurt), and larger for heavier weights and wider spreads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class TopsisResult:
    """Closeness of each alternative, with the intermediate values the explanations need.

    v = matrix * scale (scale_j = w_j / ||x_j||) is derived on demand, as are `ranks` and
    `order`: a full sort of 100k closeness values costs more than the rest of TOPSIS, so a
    caller after the top k can use `np.argpartition` on `closeness` instead."""

    closeness: Floats
    ideal: Floats
    anti_ideal: Floats
    distance_ideal: Floats
    distance_anti_ideal: Floats
    weights: Floats  # normalised to sum to 1
    scale: Floats
    matrix: Floats  # the decision matrix as given (float64; not copied when it already is)

    @cached_property
    def weighted(self) -> Floats:
        """The weighted normalised matrix v, m x n."""
        return self.matrix * self.scale

    @cached_property
    def order(self) -> Ints:
        """Alternatives best first; ties keep their input order."""
        key = -self.closeness
        order = np.argsort(key)  # introsort is ~3x faster than the stable sort on floats
        if (np.diff(key[order]) == 0).any():
            order = np.argsort(key, kind="stable")
        return order.astype(np.int64)

    @cached_property
    def ranks(self) -> Ints:
        """Rank of each alternative, 1 = best; ties are ranked in input order."""
        ranks = np.empty(len(self.closeness), dtype=np.int64)
        ranks[self.order] = np.arange(1, len(self.closeness) + 1)
        return ranks


@dataclass(frozen=True)
class CriterionEffect:
    """One criterion's contribution to an alternative's closeness; `share` is its part of the
    alternative's total absolute contribution."""

    criterion: str
    contribution: float
    share: float


@dataclass(frozen=True)
class Explanation:
    """The criteria that helped an alternative most and those that hurt it most, strongest
    first."""

    helped: tuple[CriterionEffect, ...]
    hurt: tuple[CriterionEffect, ...]


def _checked(
    matrix: npt.ArrayLike, weights: npt.ArrayLike, benefit: npt.ArrayLike
) -> tuple[Floats, Floats, Bools]:
    x = np.asarray(matrix, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    b = np.asarray(benefit, dtype=np.bool_)
    if x.ndim != 2:
        raise ValueError("the decision matrix must be 2-D (alternatives x criteria)")
    if w.shape != (x.shape[1],) or b.shape != (x.shape[1],):
        raise ValueError("weights and benefit need one entry per criterion")
    if not np.isfinite(x).all():
        raise ValueError("the decision matrix must be finite (fill or drop missing values)")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    return x, w / w.sum(), b


def topsis(matrix: npt.ArrayLike, weights: npt.ArrayLike, benefit: npt.ArrayLike) -> TopsisResult:
    """Rank alternatives (rows) on criteria (columns); `benefit[j]` is True where more is better.

    Weights are scaled to sum to 1. Raises ValueError on shapes that do not match, non-finite
    values or unusable weights."""
    x, w, b = _checked(matrix, weights, benefit)
    m, n = x.shape
    norms = np.sqrt(np.einsum("ij,ij->j", x, x))
    scale = w / np.where(norms > 0, norms, 1.0)
    ideal, anti = np.zeros(n), np.zeros(n)
    d_ideal, d_anti = np.zeros(m), np.zeros(m)
    # One criterion at a time: no m x n temporaries, which cost more than the arithmetic.
    for j in range(n if m else 0):
        v = x[:, j] * scale[j]
        high, low = v.max(), v.min()
        ideal[j], anti[j] = (high, low) if b[j] else (low, high)
        _add_square(d_ideal, v, ideal[j])
        _add_square(d_anti, v, anti[j])
    np.sqrt(d_ideal, out=d_ideal)
    np.sqrt(d_anti, out=d_anti)
    total = d_ideal + d_anti
    closeness = np.divide(d_anti, total, out=np.full_like(total, 0.5), where=total > 0)
    return TopsisResult(
        closeness=closeness,
        ideal=ideal,
        anti_ideal=anti,
        distance_ideal=d_ideal,
        distance_anti_ideal=d_anti,
        weights=w,
        scale=scale,
        matrix=x,
    )


def _add_square(total: Floats, v: Floats, point: float) -> None:
    delta = v - point
    delta *= delta
    total += delta


def contributions(result: TopsisResult) -> Floats:
    """Per alternative and criterion, (v - A-)^2 - (v - A+)^2: rows sum to d-^2 - d+^2."""
    return _contribution(result.weighted, result)


def _contribution(v: Floats, result: TopsisResult) -> Floats:
    return np.square(v - result.anti_ideal) - np.square(v - result.ideal)


def explain(result: TopsisResult, index: int, criteria: Sequence[str], top: int = 2) -> Explanation:
    """The `top` criteria that helped alternative `index` most and the `top` that hurt it most.

    A criterion that neither helped nor hurt (a degenerate column, or exactly halfway between
    ideal and anti-ideal) appears in neither list."""
    if len(criteria) != len(result.weights):
        raise ValueError("one name per criterion is needed")
    row = _contribution(result.matrix[index] * result.scale, result)
    scale = float(np.abs(row).sum())

    def effect(j: int) -> CriterionEffect:
        value = float(row[j])
        return CriterionEffect(criteria[j], value, value / scale if scale > 0 else 0.0)

    helped = [int(j) for j in np.argsort(-row, kind="stable") if row[j] > 0][:top]
    hurt = [int(j) for j in np.argsort(row, kind="stable") if row[j] < 0][:top]
    return Explanation(helped=tuple(effect(j) for j in helped), hurt=tuple(effect(j) for j in hurt))

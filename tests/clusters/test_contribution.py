"""Delivered compute and contribution scores (pure): shares follow throughput × running time,
sum to 1 whenever anything ran; money split by them sums to the micro-dollar; a re-plan is
sized so the whole cluster delivers the job."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from gp4u.clusters.contribution import Work, delivered, shares, split, still_needed
from gp4u.clusters.throughput import scaling_factor

works = st.lists(
    st.builds(
        Work,
        pflops=st.floats(0.01, 10),
        ran_hours=st.floats(0, 100),
        left_hours=st.floats(0, 100),
    ),
    min_size=1,
    max_size=12,
)


@given(works)
def test_shares_sum_to_one_whenever_anything_ran(members: list[Work]) -> None:
    scores = shares(members)
    assert all(s >= 0 for s in scores)
    if any(w.ran_hours > 0 for w in members):
        assert math.isclose(sum(scores), 1.0, rel_tol=1e-9)
    else:
        assert scores == [0.0] * len(members)


def test_a_member_contributes_its_throughput_times_its_running_time() -> None:
    # An H100-like machine for 2 h and one twice as fast for 1 h did equal work.
    members = [Work(1.0, 2.0, 0.0), Work(2.0, 1.0, 0.0), Work(5.0, 0.0, 0.0)]
    assert shares(members) == [0.5, 0.5, 0.0]
    # Two machines ran: the scaling penalty applies to what they delivered.
    assert delivered(members) == [2.0 * scaling_factor(2), 2.0 * scaling_factor(2), 0.0]


def test_what_is_still_needed_counts_time_left_and_every_machines_scaling() -> None:
    running = Work(1.0, 1.0, 2.0)  # ran 1 h, 2 h of paid time left
    lost = Work(1.0, 0.5, 0.0)  # ran half an hour, then was lost
    assert math.isclose(still_needed(10.0, [running, lost]), 10.0 / scaling_factor(2) - 3.5)
    # One more machine makes three: all of them pay the scaling of three (band of 4).
    one_more = still_needed(10.0, [running, lost], 1)
    assert math.isclose(one_more, 10.0 / scaling_factor(3) - 3.5)
    # Whatever the new machine delivers by its own scaling then completes the job exactly.
    new_raw = one_more / scaling_factor(1)
    ran_out = Work(1.0, 3.0, 0.0)  # the running member, once its paid time is over
    assert math.isclose(sum(delivered([ran_out, lost, Work(1.0, new_raw, 0.0)])), 10.0)
    assert still_needed(1.0, [running, lost]) == 0.0


@given(
    st.integers(0, 10**12),
    st.lists(st.floats(0, 1), min_size=1, max_size=12),
    st.data(),
)
def test_a_split_sums_exactly_and_follows_the_weights(
    amount: int, weights: list[float], data: st.DataObject
) -> None:
    fallback = data.draw(
        st.lists(st.integers(0, 10**9), min_size=len(weights), max_size=len(weights))
    )
    parts = split(amount, weights, fallback)
    assert sum(parts) == amount and all(p >= 0 for p in parts)
    basis = weights if sum(weights) > 0 else fallback if sum(fallback) > 0 else [1] * len(weights)
    for part, w in zip(parts, basis, strict=True):
        assert abs(part - amount * w / sum(basis)) < 1 + amount * 1e-12


def test_a_split_by_contribution_pays_the_faster_member_more() -> None:
    assert split(700_000, [0.65, 0.35], [400_000, 300_000]) == [455_000, 245_000]
    assert split(10, [1 / 3, 1 / 3, 1 / 3], [0, 0, 0]) in ([4, 3, 3], [3, 4, 3], [3, 3, 4])
    assert split(5, [0.0, 0.0], [3, 1]) == [4, 1]  # nothing measured: by what each cost
    assert split(0, [0.5, 0.5], [1, 1]) == [0, 0]

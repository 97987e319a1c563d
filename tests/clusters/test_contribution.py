"""Delivered compute and contribution scores (pure): shares follow throughput × running time,
sum to 1 whenever anything ran, and the remainder is what the running members will not do."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from gp4u.clusters.contribution import Work, delivered, remainder, shares
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


def test_the_remainder_counts_the_time_running_members_have_left() -> None:
    running = Work(1.0, 1.0, 2.0)  # ran 1 h, 2 h paid time left
    lost = Work(1.0, 0.5, 0.0)  # ran half an hour, then was lost
    factor = scaling_factor(2)
    assert math.isclose(remainder(10.0, [running, lost]), 10.0 - 3.5 * factor)
    assert remainder(1.0, [running, lost]) == 0.0

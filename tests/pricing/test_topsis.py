"""TOPSIS: published worked examples, invariance to units, criterion direction, explanations
and degenerate columns."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gp4u.pricing.topsis import contributions, explain, topsis


def test_reproduces_tzeng_and_huang_2011_exactly() -> None:
    """Tzeng, G.-H. & Huang, J.-J. (2011), Multiple Attribute Decision Making: Methods and
    Applications, CRC Press: TOPSIS example with 4 alternatives and 3 benefit criteria,
    weights (0.3, 0.4, 0.3), vector normalisation. Published closeness coefficients
    C* = 0.5037, 0.6581, 0.7482, 0.3340, ranking A3 > A2 > A1 > A4 (numbers as transcribed in
    scikit-criteria's test suite, tests/agg/test_similarity.py, test_TOPSIS_tzeng2011multiple).
    """
    result = topsis(
        [[5, 8, 4], [7, 6, 8], [8, 8, 6], [7, 4, 6]], [0.3, 0.4, 0.3], [True, True, True]
    )
    assert np.round(result.closeness, 4).tolist() == [0.5037, 0.6581, 0.7482, 0.3340]
    assert result.ranks.tolist() == [3, 2, 1, 4]
    assert result.order.tolist() == [2, 1, 0, 3]


def test_reproduces_hwang_and_yoon_1981_fighter_aircraft() -> None:
    """Hwang, C.-L. & Yoon, K. (1981), Multiple Attribute Decision Making: Methods and
    Applications, Springer (Lecture Notes in Economics and Mathematical Systems 186),
    pp. 133-134: four fighter aircraft on max speed (Mach), ferry range (NM), max payload (lb),
    purchase cost ($M, the only cost criterion), reliability and manoeuvrability (qualitative,
    scored), weights (0.2, 0.1, 0.1, 0.1, 0.2, 0.3). Published: A+ = (0.1168, 0.0659, 0.0531,
    0.0414, 0.1347, 0.2012), A- = (0.0841, 0.0366, 0.0455, 0.0598, 0.0577, 0.1118),
    S+ = (0.0545, 0.1197, 0.0580, 0.1009), S- = (0.0983, 0.0439, 0.0920, 0.0458),
    C* = (0.643, 0.268, 0.613, 0.312), ranking A1 > A3 > A4 > A2.

    The book works with 4-decimal intermediates and slightly mis-normalises the cost column
    (0.5063, 0.5983, 0.4143, 0.4603 where x / ||x|| = 0.5069, 0.5990, 0.4147, 0.4608), so its
    figures match exact arithmetic to within 2e-4 (C* to 1e-3: A3 is 0.6135 exactly, 0.613
    from the rounded separations); the ranking is identical."""
    result = topsis(
        [
            [2.0, 1500, 20000, 5.5, 5, 9],
            [2.5, 2700, 18000, 6.5, 3, 5],
            [1.8, 2000, 21000, 4.5, 7, 7],
            [2.2, 1800, 20000, 5.0, 5, 5],
        ],
        [0.2, 0.1, 0.1, 0.1, 0.2, 0.3],
        [True, True, True, False, True, True],
    )
    published = {
        "ideal": [0.1168, 0.0659, 0.0531, 0.0414, 0.1347, 0.2012],
        "anti_ideal": [0.0841, 0.0366, 0.0455, 0.0598, 0.0577, 0.1118],
        "distance_ideal": [0.0545, 0.1197, 0.0580, 0.1009],
        "distance_anti_ideal": [0.0983, 0.0439, 0.0920, 0.0458],
    }
    for name, values in published.items():
        np.testing.assert_allclose(getattr(result, name), values, atol=2e-4, err_msg=name)
    np.testing.assert_allclose(result.closeness, [0.643, 0.268, 0.613, 0.312], atol=1e-3)
    assert result.ranks.tolist() == [1, 4, 2, 3]


# ---- units and direction ----


def _same_order(a: np.ndarray, b: np.ndarray, gap: float = 1e-9) -> bool:
    """Every pair that one ranking separates clearly is ordered the same way by the other."""
    clear = np.abs(a[:, None] - a[None, :]) > gap
    return bool((np.sign(a[:, None] - a[None, :]) == np.sign(b[:, None] - b[None, :]))[clear].all())


def test_dollars_per_hour_or_per_day_rank_alike() -> None:
    offers = np.array(
        # $/h, PFLOPS, VRAM GB, reliability
        [
            [2.49, 0.99, 80, 0.99],
            [1.29, 0.99, 80, 0.90],
            [0.35, 0.17, 24, 0.97],
            [3.9, 0.99, 94, 0.999],
        ]
    )
    weights, benefit = [0.4, 0.3, 0.2, 0.1], [False, True, True, True]
    hourly = topsis(offers, weights, benefit)
    daily = topsis(offers * [24, 1, 1, 1], weights, benefit)
    in_gib_and_percent = topsis(offers * [1, 1, 1 / 1.073741824, 100], weights, benefit)
    assert hourly.ranks.tolist() == daily.ranks.tolist() == in_gib_and_percent.ranks.tolist()
    np.testing.assert_allclose(daily.closeness, hourly.closeness, rtol=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 12), st.just(4)),
        elements=st.floats(0.01, 1e4, allow_nan=False),
    ),
    hnp.arrays(np.float64, 4, elements=st.floats(1e-3, 1e3)),
    hnp.arrays(np.float64, 4, elements=st.floats(0.01, 1)),
    hnp.arrays(np.bool_, 4),
)
def test_ranks_are_invariant_to_units(
    matrix: np.ndarray, units: np.ndarray, weights: np.ndarray, benefit: np.ndarray
) -> None:
    before = topsis(matrix, weights, benefit)
    after = topsis(matrix * units, weights, benefit)
    np.testing.assert_allclose(after.closeness, before.closeness, rtol=1e-9, atol=1e-12)
    assert _same_order(before.closeness, after.closeness)
    # Weights are relative: scaling them all changes nothing either.
    np.testing.assert_allclose(topsis(matrix, weights * 7, benefit).closeness, before.closeness)


def test_benefit_and_cost_point_opposite_ways() -> None:
    prices = [[3.0], [1.0], [2.0]]
    assert topsis(prices, [1], [False]).ranks.tolist() == [3, 1, 2]  # cheapest first
    assert topsis(prices, [1], [True]).ranks.tolist() == [1, 3, 2]  # largest first
    mixed = topsis([[1.0, 1.0], [2.0, 2.0]], [1, 1], [False, True])
    assert mixed.closeness.tolist() == [0.5, 0.5]  # each is best on one equal-weight criterion


# ---- explanations ----

CRITERIA = ["price", "performance", "vram", "reliability"]


def test_explanation_names_what_helped_and_hurt() -> None:
    offers = [
        # $/h, PFLOPS, VRAM GB, reliability
        [1.0, 1.0, 24, 0.80],  # cheap and fast, but small and flaky
        [3.0, 0.5, 80, 0.99],  # dear and slow, but roomy and reliable
        [2.0, 0.7, 48, 0.90],
    ]
    result = topsis(offers, [0.25, 0.25, 0.25, 0.25], [False, True, True, True])
    first = explain(result, 0, CRITERIA)
    assert {e.criterion for e in first.helped} == {"price", "performance"}
    assert {e.criterion for e in first.hurt} == {"vram", "reliability"}
    # B is the best on both VRAM and reliability, but VRAM spreads wider (24-80 GB against
    # 0.80-0.99), so it counts more; likewise the price spread beats the performance spread.
    second = explain(result, 1, CRITERIA, top=1)
    assert [e.criterion for e in second.helped] == ["vram"]
    assert [e.criterion for e in second.hurt] == ["price"]
    for effect in (*first.helped, *first.hurt):
        assert (effect.contribution > 0) == (effect in first.helped)
    assert sum(abs(e.share) for e in (*first.helped, *first.hurt)) == pytest.approx(1.0)


def test_explanation_ranks_the_strongest_effect_first() -> None:
    # B beats A only on price, by a lot; on reliability A beats B a little.
    result = topsis([[1.0, 0.95], [4.0, 0.99]], [0.5, 0.5], [False, True])
    a = explain(result, 0, ["price", "reliability"])
    assert [e.criterion for e in a.helped] == ["price"]
    assert [e.criterion for e in a.hurt] == ["reliability"]
    assert a.helped[0].contribution > -a.hurt[0].contribution


@settings(max_examples=50, deadline=None)
@given(
    hnp.arrays(
        np.float64, st.tuples(st.integers(1, 8), st.integers(1, 5)), elements=st.floats(0, 1e3)
    ),
    st.data(),
)
def test_contributions_decompose_the_separations(matrix: np.ndarray, data: st.DataObject) -> None:
    n = matrix.shape[1]
    weights = data.draw(hnp.arrays(np.float64, n, elements=st.floats(0.1, 1)))
    benefit = data.draw(hnp.arrays(np.bool_, n))
    result = topsis(matrix, weights, benefit)
    np.testing.assert_allclose(
        contributions(result).sum(axis=1),
        result.distance_anti_ideal**2 - result.distance_ideal**2,
        atol=1e-12,
    )
    np.testing.assert_allclose(result.weighted, matrix * result.scale)


# ---- degenerate input ----


def test_constant_and_zero_columns_change_nothing_and_make_no_nan() -> None:
    base = np.array([[2.0, 7.0], [1.0, 9.0], [3.0, 8.0]])
    reference = topsis(base, [0.5, 0.5], [False, True])
    constant = np.column_stack([base, [5.0, 5.0, 5.0], [0.0, 0.0, 0.0]])
    result = topsis(constant, [0.5, 0.5, 0.3, 0.3], [False, True, True, False])
    assert np.isfinite(result.closeness).all() and np.isfinite(result.weighted).all()
    # The degenerate columns add nothing to either distance; only the weights renormalise.
    assert result.ranks.tolist() == reference.ranks.tolist()
    explanation = explain(result, 0, ["price", "perf", "constant", "zeros"], top=4)
    named = {e.criterion for e in (*explanation.helped, *explanation.hurt)}
    assert named.isdisjoint({"constant", "zeros"})


def test_all_columns_degenerate_or_one_alternative_gives_half() -> None:
    assert topsis([[1.0, 2.0]] * 3, [1, 1], [True, False]).closeness.tolist() == [0.5] * 3
    assert topsis([[0.0, 0.0]] * 2, [1, 1], [True, True]).closeness.tolist() == [0.5] * 2
    single = topsis([[4.0, 2.0]], [1, 1], [True, False])
    assert single.closeness.tolist() == [0.5] and single.ranks.tolist() == [1]
    explanation = explain(single, 0, ["a", "b"])
    assert explanation.helped == explanation.hurt == ()


def test_no_alternatives() -> None:
    result = topsis(np.zeros((0, 3)), [1, 1, 1], [True, True, False])
    assert result.closeness.shape == result.ranks.shape == (0,)


def test_ties_keep_input_order() -> None:
    result = topsis([[1.0], [2.0], [1.0], [2.0]], [1], [True])
    assert result.ranks.tolist() == [3, 1, 4, 2]


@pytest.mark.parametrize(
    ("matrix", "weights", "benefit"),
    [
        ([[1.0, np.nan]], [1, 1], [True, True]),  # missing values are the caller's to handle
        ([[1.0, 2.0]], [1, -1], [True, True]),
        ([[1.0, 2.0]], [0, 0], [True, True]),
        ([[1.0, 2.0]], [1], [True, True]),
        ([[1.0, 2.0]], [1, 1], [True]),
        ([1.0, 2.0], [1, 1], [True, True]),
    ],
)
def test_rejects_unusable_input(matrix: object, weights: object, benefit: object) -> None:
    with pytest.raises(ValueError):
        topsis(matrix, weights, benefit)  # type: ignore[arg-type]

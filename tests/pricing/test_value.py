"""Value metrics and the G-Score: hand-computed figures from the reference table, fallbacks,
refusals, monotonicity, and the vectorised forms agreeing with the per-offer forms."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gp4u.catalog.reference import gpu_families
from gp4u.pricing.value import (
    FINETUNE_VRAM_GB,
    INFERENCE_VRAM_GB,
    GScoreWeights,
    coded_spec_columns,
    g_score,
    g_score_arrays,
    market_reference,
    offer_arrays,
    spec_columns,
    spec_for,
    value_arrays,
    value_metrics,
)

METRICS = (
    "usd_per_gpu_hour",
    "usd_per_pflop_hour",
    "usd_per_gb_vram_hour",
    "usd_per_mtok_inference",
    "usd_per_mtok_finetune",
)


def offer(
    gpu: str,
    variant: str | None,
    memory_gb: int,
    count: int,
    micros: int,
    reliability: float | None = None,
) -> dict[str, Any]:
    return {
        "gpu": gpu,
        "gpu_variant": variant,
        "gpu_memory_gb": memory_gb,
        "gpu_count": count,
        "price_per_gpu_hour": micros,
        "price_per_hour": micros * count,
        "reliability": reliability,
    }


# ---- reference lookup ----


def test_spec_for_prefers_variant_and_memory_then_memory_then_family_default() -> None:
    assert spec_for("H100", "PCIe", 80).variant == "PCIe"  # type: ignore[union-attr]
    assert spec_for("H100", None, 94).variant == "NVL"  # type: ignore[union-attr]
    a100 = spec_for("A100", "PCIe", 48)  # no 48 GB A100: the default size, same variant
    assert a100 is not None and (a100.variant, a100.memory_gb) == ("PCIe", 40)
    fallback = spec_for("A100", "OAM", 48)  # nothing matches: the family's default size
    assert fallback is not None and (fallback.variant, fallback.memory_gb) == ("SXM", 40)
    assert spec_for("NOT-A-GPU", None, 8) is None
    assert spec_for("H100", "SXM", 80) is spec_for("H100", "SXM", 80)  # cached


# ---- metrics computed by hand from the datasheet figures ----


def test_h100_sxm_by_hand() -> None:
    """8 x H100 SXM 80 GB at $2.49 per GPU-hour. Datasheet: 989.4 dense BF16 TFLOPS (1,979
    with sparsity, halved), 3,350 GB/s."""
    spec = spec_for("H100", "SXM", 80)
    assert spec is not None
    assert (spec.bf16_tflops, spec.memory_bandwidth_gbps) == (989.4, 3350.0)
    # decode: min(16 x 0.6 x 3350e9 / 16e9, 0.4 x 989.4e12 / (2 x 8e9)) = min(2010, 24735)
    inference_tps = 2010.0
    # training: 0.4 x 989.4e12 / (6 x 8e9) = 8245 tokens/s per GPU
    finetune_tps = 8245.0
    metrics = value_metrics(offer("H100", "SXM", 80, 8, 2_490_000))
    assert metrics == {
        "usd_per_gpu_hour": 2.49,
        "usd_per_pflop_hour": round(2.49 / 0.9894, 6),
        "flops_precision": "bf16",
        "usd_per_gb_vram_hour": round(2.49 / 80, 6),
        "usd_per_mtok_inference": round(2.49 * 1e6 / (3600 * inference_tps), 6),
        "usd_per_mtok_finetune": round(2.49 * 1e6 / (3600 * finetune_tps), 6),
    }
    assert metrics["usd_per_pflop_hour"] == 2.516677
    assert metrics["usd_per_mtok_inference"] == 0.344113
    assert metrics["usd_per_mtok_finetune"] == 0.083889


def test_rtx_4090_by_hand() -> None:
    """1 x RTX 4090 24 GB at $0.35 per GPU-hour. Table: 165.2 dense BF16 TFLOPS, 1,008 GB/s.
    24 GB holds the 20.3 GB inference job but not the 128 GB of full fine-tuning."""
    spec = spec_for("RTX4090", None, 24)
    assert spec is not None
    assert (spec.bf16_tflops, spec.memory_bandwidth_gbps) == (165.2, 1008.0)
    # decode: min(16 x 0.6 x 1008e9 / 16e9, 0.4 x 165.2e12 / 16e9) = min(604.8, 4130)
    metrics = value_metrics(offer("RTX4090", None, 24, 1, 350_000))
    assert metrics == {
        "usd_per_gpu_hour": 0.35,
        "usd_per_pflop_hour": 2.118644,  # 0.35 / 0.1652
        "flops_precision": "bf16",
        "usd_per_gb_vram_hour": 0.014583,  # 0.35 / 24
        "usd_per_mtok_inference": 0.160751,  # 0.35e6 / (3600 x 604.8)
        "usd_per_mtok_finetune": None,
    }


def test_fp16_then_fp32_fallback() -> None:
    # V100 has FP16 tensor cores but no BF16: its dense FP16 figure (125 TFLOPS) is used.
    v100 = value_metrics(offer("V100", "SXM", 16, 1, 1_000_000))
    assert v100["flops_precision"] == "fp16"
    assert v100["usd_per_pflop_hour"] == 8.0  # 1.00 / 0.125
    # K80 has neither: non-tensor FP32 (4.37 TFLOPS per GPU). Its decode is compute-bound:
    # min(16 x 0.6 x 240e9 / 16e9, 0.4 x 4.37e12 / 16e9) = min(144, 109.25) tokens/s.
    k80 = value_metrics(offer("K80", None, 12, 16, 100_000))
    assert k80["flops_precision"] == "fp32"
    assert k80["usd_per_pflop_hour"] == round(0.10 / 0.00437, 6)
    assert k80["usd_per_mtok_inference"] == round(0.10 * 1e6 / (3600 * 109.25), 6)
    assert k80["usd_per_mtok_finetune"] == round(0.10 * 1e6 / (3600 * 0.4 * 4.37e12 / 48e9), 6)


def test_refuses_where_the_model_does_not_fit() -> None:
    assert abs(INFERENCE_VRAM_GB - 20.29) < 0.01
    assert FINETUNE_VRAM_GB == 128.0
    assert value_metrics(offer("T4", None, 16, 1, 350_000))["usd_per_mtok_inference"] is None
    assert value_metrics(offer("T4", None, 16, 2, 350_000))["usd_per_mtok_inference"] is not None
    assert value_metrics(offer("H100", "SXM", 80, 1, 2_490_000))["usd_per_mtok_finetune"] is None
    assert value_metrics(offer("H100", "SXM", 80, 2, 2_490_000))["usd_per_mtok_finetune"] == (
        0.083889
    )


def test_refuses_without_figures() -> None:
    unknown = value_metrics(offer("MYSTERY9000", None, 48, 8, 1_000_000))
    assert unknown == {
        "usd_per_gpu_hour": 1.0,
        "usd_per_pflop_hour": None,
        "flops_precision": None,
        "usd_per_gb_vram_hour": round(1 / 48, 6),
        "usd_per_mtok_inference": None,
        "usd_per_mtok_finetune": None,
    }
    # A10G: AWS publishes the bandwidth but no FLOPS; decode stays bandwidth-bound.
    a10g = value_metrics(offer("A10G", None, 24, 1, 1_000_000))
    assert a10g["usd_per_pflop_hour"] is None and a10g["usd_per_mtok_finetune"] is None
    assert a10g["usd_per_mtok_inference"] == round(1e6 / (3600 * 16 * 0.6 * 600e9 / 16e9), 6)


# ---- vectorised forms ----

_SPECS = [(f.name, v.variant, v.memory_gb) for f in gpu_families() for v in f.variants]


@st.composite
def offers(draw: st.DrawFn) -> dict[str, Any]:
    name, variant, memory = draw(st.sampled_from([*_SPECS, ("MYSTERY", None, 40)]))
    if draw(st.booleans()):  # a spelling the table does not have
        variant = draw(st.sampled_from([None, "SXM", "PCIe", "OAM"]))
        memory = draw(st.sampled_from([8, 16, 24, 40, 48, 80, 96]))
    return offer(
        name,
        variant,
        memory,
        draw(st.sampled_from([1, 2, 4, 8, 16])),
        draw(st.integers(0, 40_000_000)),
        draw(st.none() | st.floats(0, 1)),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(offers(), min_size=1, max_size=40))
def test_vectorised_metrics_equal_the_per_offer_form(market: list[dict[str, Any]]) -> None:
    arrays = value_arrays(offer_arrays(market))
    for i, item in enumerate(market):
        single = value_metrics(item)
        for name in METRICS:
            vector = float(getattr(arrays, name)[i])
            assert (single[name] is None) == math.isnan(vector), (name, item)
            if single[name] is not None:
                assert round(vector, 6) == single[name], (name, item)


@settings(max_examples=30, deadline=None)
@given(st.lists(offers(), min_size=1, max_size=40))
def test_coded_spec_columns_equal_spec_columns(market: list[dict[str, Any]]) -> None:
    gpus = [o["gpu"] for o in market]
    variants = [o["gpu_variant"] for o in market]
    memories = [float(o["gpu_memory_gb"]) for o in market]
    gpu_names = sorted(set(gpus))
    variant_names = sorted({v for v in variants if v})
    coded = coded_spec_columns(
        [gpu_names.index(g) for g in gpus],
        gpu_names,
        [variant_names.index(v) if v else -1 for v in variants],
        variant_names,
        memories,
    )
    for got, want in zip(coded, spec_columns(gpus, variants, memories), strict=True):
        np.testing.assert_array_equal(got, want)


@settings(max_examples=40, deadline=None)
@given(st.lists(offers(), min_size=1, max_size=40))
def test_g_score_single_equals_vectorised_and_stays_in_range(market: list[dict[str, Any]]) -> None:
    arrays = offer_arrays(market)
    reference = market_reference(arrays)
    scores = g_score_arrays(arrays, market=reference)
    assert ((scores >= 0) & (scores <= 100)).all()
    np.testing.assert_array_equal(scores, g_score_arrays(arrays))  # default market = itself
    for i, item in enumerate(market):
        assert g_score(item, reference) == pytest.approx(float(scores[i]), abs=1e-9)


# ---- G-Score ----


def test_g_score_weights_validated() -> None:
    assert GScoreWeights() == GScoreWeights(0.5, 0.3, 0.2)
    GScoreWeights(1.0, 0.0, 0.0)
    for bad in ((0.5, 0.5, 0.5), (0.6, 0.6, -0.2), (math.nan, 0.5, 0.5), (0.2, 0.2, 0.2)):
        with pytest.raises(ValueError):
            GScoreWeights(*bad)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(offers(), min_size=1, max_size=30),
    offers(),
    st.floats(0.0, 1.0),
    st.sampled_from([GScoreWeights(), GScoreWeights(1, 0, 0), GScoreWeights(0.2, 0.2, 0.6)]),
)
def test_a_cheaper_identical_offer_never_scores_lower(
    market: list[dict[str, Any]], item: dict[str, Any], discount: float, weights: GScoreWeights
) -> None:
    cheaper = {**item, "price_per_gpu_hour": int(item["price_per_gpu_hour"] * (1 - discount))}
    # Against fixed reference points ...
    reference = market_reference(offer_arrays(market))
    assert g_score(cheaper, reference, weights) >= g_score(item, reference, weights)
    # ... and side by side in one market, whatever that does to the reference points.
    scores = g_score_arrays(offer_arrays([*market, item, cheaper]), weights)
    assert scores[-1] >= scores[-2]


def test_g_score_orders_a_small_market_sensibly() -> None:
    market = [
        offer("H100", "SXM", 80, 8, 2_000_000, 0.99),
        offer("H100", "SXM", 80, 8, 4_000_000, 0.99),
        offer("H100", "SXM", 80, 8, 2_000_000, 0.50),
        offer("H100", "SXM", 80, 8, 2_000_000, None),  # neutral: the market median, 0.95
        offer("RTX4090", None, 24, 1, 300_000, 0.95),
        offer("MYSTERY", None, 24, 1, 300_000, 0.95),  # no FLOPS figures: no performance
    ]
    scores = g_score_arrays(offer_arrays(market))
    assert scores[0] > scores[1]  # same GPU, half the price
    assert scores[0] > scores[2]  # same price, more reliable
    assert scores[2] < scores[3] < scores[0]
    assert scores[4] > scores[5]
    reliability_only = g_score_arrays(offer_arrays(market), GScoreWeights(0, 1, 0))
    np.testing.assert_allclose(reliability_only, [99, 99, 50, 95, 95, 95])

"""Value metrics per offer and the G-Score (pure: the reference table and numpy, no I/O).

Every metric is per GPU-hour: p = price_per_gpu_hour in dollars; F = the GPU's dense tensor
TFLOPS at BF16, else FP16, else (non-tensor) FP32, whichever the reference table has first
(`flops_precision` says which); BW = memory bandwidth, GB/s; M = the offer's GB per GPU.

    usd_per_gpu_hour        = p
    usd_per_pflop_hour      = p / (F / 1000)          one dense PFLOP/s at peak for an hour
    usd_per_gb_vram_hour    = p / M
    usd_per_mtok_inference  = p * 1e6 / (3600 * r_inf)
    usd_per_mtok_finetune   = p * 1e6 / (3600 * r_ft)

Throughput per GPU, tokens/s, from the assumptions below (named constants):

    r_inf = min(B * eta * BW * 1e9 / (N_inf * 2),  u * F * 1e12 / (2 * N_inf))
    r_ft  = u * F * 1e12 / (6 * N_ft)

Inference serves a Llama-3-8B-class model (N_inf = 8e9 parameters, BF16 weights, 2 bytes each)
to B = 16 concurrent sequences: each decode step streams the weights once at eta = 60 % of peak
bandwidth and yields B tokens; the compute roof (2 FLOPs per parameter and token, at MFU u) only
binds on GPUs with very little compute per byte. Fine-tuning is full fine-tuning of an
N_ft = 8e9 model at 6 FLOPs per parameter and token (Kaplan et al. 2020, "Scaling Laws for Neural
Language Models": 2N forward + 4N backward) at u = 40 % model FLOPs utilisation. A metric is None
where the offer's total VRAM (M x gpu_count) cannot hold the job, or the GPU lacks the figures.
Several GPUs are assumed to scale linearly (tensor or data parallel), so a per-GPU figure holds
for the whole instance.

The G-Score (0-100) is 100 x (w_p * performance + w_r * reliability + w_e * efficiency), each
term in [0, 1], computed the same way for every provider (see `g_score_arrays`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from gp4u.catalog.reference import GpuVariantSpec, families_by_name

Floats = npt.NDArray[np.float64]
Codes = npt.NDArray[np.int8]
SpecColumns = tuple[Floats, Floats, Codes]  # bandwidth GB/s, dense TFLOPS, precision code
Precision = Literal["bf16", "fp16", "fp32"]

# Precision codes in arrays: 0 = no figure, else 1 + index here.
PRECISIONS: tuple[Precision, ...] = ("bf16", "fp16", "fp32")

MICROS_PER_USD = 1_000_000.0
SECONDS_PER_HOUR = 3600.0
TOKENS_PER_MILLION = 1_000_000.0

# ---- workload assumptions ----

# Inference: a Llama-3-8B-class model (Meta Llama 3 8B has 8.03e9 parameters) in BF16.
INFERENCE_PARAMS = 8.0e9
BYTES_PER_PARAM_BF16 = 2.0
INFERENCE_BATCH = 16  # concurrent sequences per decode step
INFERENCE_CONTEXT_TOKENS = 2048  # per sequence, for the KV cache
# KV cache per token of Llama 3 8B (GQA): K and V x 32 layers x 8 KV heads x 128 dims x 2 bytes.
KV_CACHE_BYTES_PER_TOKEN = 2 * 32 * 8 * 128 * 2
# Share of peak memory bandwidth that decode achieves (model bandwidth utilisation): an
# assumption for a good serving stack at small batch, not a measurement.
BANDWIDTH_EFFICIENCY = 0.6
DECODE_FLOPS_PER_PARAM_TOKEN = 2.0
INFERENCE_WEIGHT_BYTES = INFERENCE_PARAMS * BYTES_PER_PARAM_BF16
INFERENCE_VRAM_GB = (
    INFERENCE_WEIGHT_BYTES + INFERENCE_BATCH * INFERENCE_CONTEXT_TOKENS * KV_CACHE_BYTES_PER_TOKEN
) / 1e9  # 16 GB of weights + 4.3 GB of KV cache

# Fine-tuning: full fine-tuning of an 8e9-parameter model with mixed-precision Adam.
FINETUNE_PARAMS = 8.0e9
TRAIN_FLOPS_PER_PARAM_TOKEN = 6.0
# Model FLOPs utilisation: PaLM (Chowdhery et al. 2022) reached 46 % on 6,144 TPU v4 chips;
# 40 % is a fair figure for a well-tuned single-node run.
MODEL_FLOPS_UTILISATION = 0.40
# BF16 weights and gradients + FP32 master weights and two Adam moments = 16 bytes per
# parameter (Rajbhandari et al. 2020, ZeRO), sharded across the GPUs; activations checkpointed.
FINETUNE_BYTES_PER_PARAM = 16.0
FINETUNE_VRAM_GB = FINETUNE_PARAMS * FINETUNE_BYTES_PER_PARAM / 1e9  # 128 GB

# ---- G-Score market reference ----

# The market's reference points are these percentiles of each ratio, so a few mispriced offers
# cannot stretch the scale; offers beyond them score 0 or 1 on that term.
MARKET_LOW_PERCENTILE = 5.0
MARKET_HIGH_PERCENTILE = 95.0
# Used as the neutral reliability only when no offer in the market states one.
FALLBACK_RELIABILITY = 0.95


# ---- reference specs ----


@lru_cache(maxsize=4096)
def spec_for(gpu: str, variant: str | None, memory_gb: float) -> GpuVariantSpec | None:
    """The reference variant that best describes an offer's GPU, or None for an unknown family.

    Tried in order: the same variant and memory size; any variant with that memory size (the
    first in the table, which lists the flagship form first); the family's default memory size,
    preferring the offer's variant; the family's first variant."""
    family = families_by_name().get(gpu)
    if family is None:
        return None
    wanted = variant.casefold() if variant else None

    def same_variant(spec: GpuVariantSpec) -> bool:
        return (spec.variant.casefold() if spec.variant else None) == wanted

    sized = [v for v in family.variants if v.memory_gb == memory_gb]
    default = [v for v in family.variants if v.memory_gb == family.default_memory_gb]
    for candidates in (
        [v for v in sized if same_variant(v)],
        sized,
        [v for v in default if same_variant(v)],
        default,
        list(family.variants),
    ):
        if candidates:
            return candidates[0]
    return None


def dense_flops(spec: GpuVariantSpec) -> tuple[float, Precision] | None:
    """The dense TFLOPS used for value metrics and its precision: BF16, else FP16, else FP32."""
    for precision, tflops in zip(
        PRECISIONS, (spec.bf16_tflops, spec.fp16_tflops, spec.fp32_tflops), strict=True
    ):
        if tflops:
            return tflops, precision
    return None


@lru_cache(maxsize=4096)
def spec_figures(gpu: str, variant: str | None, memory_gb: float) -> tuple[float, float, int]:
    """(bandwidth GB/s, dense TFLOPS, precision code) for an offer's GPU; NaN and 0 if unknown."""
    spec = spec_for(gpu, variant, memory_gb)
    if spec is None:
        return math.nan, math.nan, 0
    bandwidth = spec.memory_bandwidth_gbps or math.nan
    flops = dense_flops(spec)
    if flops is None:
        return bandwidth, math.nan, 0
    return bandwidth, flops[0], 1 + PRECISIONS.index(flops[1])


# ---- throughput (shared by the scalar and the vectorised forms) ----


def inference_tokens_per_second(bandwidth_gbps: float, tflops: float | None) -> float:
    """Decode tokens/s per GPU: bandwidth-bound at batch B, capped by compute where known."""
    memory_bound = (
        INFERENCE_BATCH * BANDWIDTH_EFFICIENCY * bandwidth_gbps * 1e9 / INFERENCE_WEIGHT_BYTES
    )
    if tflops is None:
        return memory_bound
    compute_bound = (
        MODEL_FLOPS_UTILISATION * tflops * 1e12 / (DECODE_FLOPS_PER_PARAM_TOKEN * INFERENCE_PARAMS)
    )
    return min(memory_bound, compute_bound)


def finetune_tokens_per_second(tflops: float) -> float:
    """Training tokens/s per GPU at the assumed MFU."""
    return MODEL_FLOPS_UTILISATION * tflops * 1e12 / (TRAIN_FLOPS_PER_PARAM_TOKEN * FINETUNE_PARAMS)


def _usd_per_mtok(usd_per_gpu_hour: float, tokens_per_second: float) -> float:
    return usd_per_gpu_hour * TOKENS_PER_MILLION / (SECONDS_PER_HOUR * tokens_per_second)


# ---- per-offer form ----


def _spec_of(offer: Mapping[str, Any]) -> GpuVariantSpec | None:
    return spec_for(str(offer["gpu"]), offer.get("gpu_variant"), float(offer["gpu_memory_gb"] or 0))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def value_metrics(offer: Mapping[str, Any]) -> dict[str, float | str | None]:
    """The value metrics of one offer in dollars (6 decimals), None where they do not apply.

    `offer` carries gpu, gpu_variant, gpu_memory_gb, gpu_count and price_per_gpu_hour (integer
    micro-USD), as the offers API returns them."""
    usd = int(offer["price_per_gpu_hour"]) / MICROS_PER_USD
    memory = float(offer["gpu_memory_gb"] or 0)
    vram = memory * int(offer["gpu_count"] or 0)
    spec = _spec_of(offer)
    flops = dense_flops(spec) if spec else None
    tflops = flops[0] if flops else None
    bandwidth = spec.memory_bandwidth_gbps if spec else None
    inference = finetune = None
    if bandwidth and vram >= INFERENCE_VRAM_GB:
        inference = _usd_per_mtok(usd, inference_tokens_per_second(bandwidth, tflops))
    if tflops and vram >= FINETUNE_VRAM_GB:
        finetune = _usd_per_mtok(usd, finetune_tokens_per_second(tflops))
    return {
        "usd_per_gpu_hour": _rounded(usd),
        "usd_per_pflop_hour": _rounded(usd / (tflops / 1000) if tflops else None),
        "flops_precision": flops[1] if flops else None,
        "usd_per_gb_vram_hour": _rounded(usd / memory if memory > 0 else None),
        "usd_per_mtok_inference": _rounded(inference),
        "usd_per_mtok_finetune": _rounded(finetune),
    }


# ---- vectorised form ----


@dataclass(frozen=True)
class OfferArrays:
    """Many offers as aligned columns: the input of the vectorised forms.

    Prices in micro-USD per GPU-hour; NaN where a figure is unknown; precision codes as in
    `PRECISIONS` (0 = none). `spec_columns` fills the three reference columns."""

    price_per_gpu_hour: Floats
    gpu_count: Floats
    gpu_memory_gb: Floats
    bandwidth_gbps: Floats
    dense_tflops: Floats
    precision: Codes
    reliability: Floats

    def __len__(self) -> int:
        return len(self.price_per_gpu_hour)


def _gathered(rows: Sequence[tuple[float, float, int]], index: npt.ArrayLike) -> SpecColumns:
    table = np.array(rows, dtype=np.float64).reshape(-1, 3)
    picked = table[np.asarray(index, dtype=np.intp)]
    return picked[:, 0], picked[:, 1], picked[:, 2].astype(np.int8)


def spec_columns(
    gpus: Sequence[str], variants: Sequence[str | None], memories: Sequence[float]
) -> SpecColumns:
    """Bandwidth, dense TFLOPS and precision code per offer; each distinct GPU resolved once."""
    slots: dict[tuple[str, str | None, float], int] = {}
    rows: list[tuple[float, float, int]] = []
    index = []
    for key in zip(gpus, variants, memories, strict=True):
        slot = slots.get(key)
        if slot is None:
            slot = slots[key] = len(rows)
            rows.append(spec_figures(key[0], key[1], float(key[2])))
        index.append(slot)
    return _gathered(rows, index)


GpuKey = tuple[str, str | None, float]  # family, variant, GB per GPU


def distinct_coded_gpus(
    gpu_codes: npt.ArrayLike,
    gpu_names: Sequence[str],
    variant_codes: npt.ArrayLike,
    variant_names: Sequence[str],
    memories: npt.ArrayLike,
) -> tuple[list[GpuKey], npt.NDArray[np.intp]]:
    """The distinct GPUs among offers whose text is stored as integer codes into tables of
    distinct values (-1 = missing), as the market index keeps them, and each offer's position
    among them: vectorised, so a per-GPU figure is worked out once, not once per offer."""
    gpu = np.asarray(gpu_codes, dtype=np.int64) + 1
    variant = np.asarray(variant_codes, dtype=np.int64) + 1
    sizes, size_codes = np.unique(np.asarray(memories, dtype=np.float64), return_inverse=True)
    width = len(variant_names) + 1
    keys, index = np.unique((gpu * width + variant) * len(sizes) + size_codes, return_inverse=True)
    distinct: list[GpuKey] = []
    for key in keys.tolist():
        rest, size = divmod(key, len(sizes))
        g, v = divmod(rest, width)
        name = gpu_names[g - 1] if g else ""
        distinct.append((name, variant_names[v - 1] if v else None, float(sizes[size])))
    return distinct, index.reshape(-1)


def coded_spec_columns(
    gpu_codes: npt.ArrayLike,
    gpu_names: Sequence[str],
    variant_codes: npt.ArrayLike,
    variant_names: Sequence[str],
    memories: npt.ArrayLike,
) -> SpecColumns:
    """`spec_columns` for coded text (see `distinct_coded_gpus`): a few ms at 100k offers."""
    distinct, index = distinct_coded_gpus(
        gpu_codes, gpu_names, variant_codes, variant_names, memories
    )
    return _gathered([spec_figures(*key) for key in distinct], index)


def _floats(values: Iterable[Any]) -> Floats:
    return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)


def offer_arrays(offers: Sequence[Mapping[str, Any]]) -> OfferArrays:
    """Columns of offers given as mappings (the fields of the offers API)."""
    memories = [float(o["gpu_memory_gb"] or 0) for o in offers]
    bandwidth, tflops, precision = spec_columns(
        [str(o["gpu"]) for o in offers], [o.get("gpu_variant") for o in offers], memories
    )
    return OfferArrays(
        price_per_gpu_hour=_floats(o["price_per_gpu_hour"] for o in offers),
        gpu_count=_floats(o["gpu_count"] or 0 for o in offers),
        gpu_memory_gb=np.array(memories, dtype=np.float64),
        bandwidth_gbps=bandwidth,
        dense_tflops=tflops,
        precision=precision,
        reliability=_floats(o.get("reliability") for o in offers),
    )


@dataclass(frozen=True)
class ValueArrays:
    """The value metrics of many offers, in dollars, NaN where `value_metrics` says None."""

    usd_per_gpu_hour: Floats
    usd_per_pflop_hour: Floats
    usd_per_gb_vram_hour: Floats
    usd_per_mtok_inference: Floats
    usd_per_mtok_finetune: Floats


def _inference_rate(a: OfferArrays) -> Floats:
    memory_bound = (
        INFERENCE_BATCH * BANDWIDTH_EFFICIENCY * a.bandwidth_gbps * 1e9 / INFERENCE_WEIGHT_BYTES
    )
    compute_bound = (
        MODEL_FLOPS_UTILISATION
        * a.dense_tflops
        * 1e12
        / (DECODE_FLOPS_PER_PARAM_TOKEN * INFERENCE_PARAMS)
    )
    return np.fmin(memory_bound, compute_bound)  # fmin: an unknown compute roof does not bind


def _finetune_rate(a: OfferArrays) -> Floats:
    return (
        MODEL_FLOPS_UTILISATION
        * a.dense_tflops
        * 1e12
        / (TRAIN_FLOPS_PER_PARAM_TOKEN * FINETUNE_PARAMS)
    )


def value_arrays(a: OfferArrays) -> ValueArrays:
    """`value_metrics` over many offers at once (unrounded)."""
    usd = a.price_per_gpu_hour / MICROS_PER_USD
    vram = a.gpu_memory_gb * a.gpu_count
    with np.errstate(divide="ignore", invalid="ignore"):
        per_pflop = usd / (a.dense_tflops / 1000)
        per_gb = np.where(a.gpu_memory_gb > 0, usd / a.gpu_memory_gb, np.nan)
        inference = usd * TOKENS_PER_MILLION / (SECONDS_PER_HOUR * _inference_rate(a))
        finetune = usd * TOKENS_PER_MILLION / (SECONDS_PER_HOUR * _finetune_rate(a))
    return ValueArrays(
        usd_per_gpu_hour=usd,
        usd_per_pflop_hour=per_pflop,
        usd_per_gb_vram_hour=per_gb,
        usd_per_mtok_inference=np.where(vram >= INFERENCE_VRAM_GB, inference, np.nan),
        usd_per_mtok_finetune=np.where(vram >= FINETUNE_VRAM_GB, finetune, np.nan),
    )


# ---- G-Score ----


@dataclass(frozen=True)
class GScoreWeights:
    """How much each term counts in the G-Score; non-negative and summing to 1."""

    performance: float = 0.5
    reliability: float = 0.3
    efficiency: float = 0.2

    def __post_init__(self) -> None:
        parts = (self.performance, self.reliability, self.efficiency)
        if not all(math.isfinite(p) and p >= 0 for p in parts):
            raise ValueError("G-Score weights must be finite and non-negative")
        if not math.isclose(sum(parts), 1.0, abs_tol=1e-9):
            raise ValueError(f"G-Score weights must sum to 1, not {sum(parts):g}")


@dataclass(frozen=True)
class MarketReference:
    """The market's reference points for the G-Score: low and high of each ratio per dollar
    (PFLOPS, GB of VRAM and GB/s of bandwidth per $/GPU-hour), and the neutral reliability."""

    performance: tuple[float, float]
    vram: tuple[float, float]
    bandwidth: tuple[float, float]
    reliability_default: float


@dataclass(frozen=True)
class _Ratios:
    performance: Floats
    vram: Floats
    bandwidth: Floats


def _ratios(a: OfferArrays) -> _Ratios:
    usd = a.price_per_gpu_hour / MICROS_PER_USD
    with np.errstate(divide="ignore", invalid="ignore"):
        return _Ratios(
            performance=(a.dense_tflops / 1000) / usd,
            vram=a.gpu_memory_gb / usd,
            bandwidth=a.bandwidth_gbps / usd,
        )


def _bounds(values: Floats) -> tuple[float, float]:
    usable = values[np.isfinite(values) & (values > 0)]
    if usable.size == 0:
        return 1.0, 1.0
    low, high = np.percentile(usable, (MARKET_LOW_PERCENTILE, MARKET_HIGH_PERCENTILE))
    return float(low), float(high)


def market_reference(a: OfferArrays) -> MarketReference:
    """Reference points of a market: the 5th and 95th percentiles of each ratio over the offers
    that have it, and the median stated reliability as the neutral default for offers without
    one (so a missing figure neither helps nor hurts against the typical offer)."""
    ratios = _ratios(a)
    stated = a.reliability[np.isfinite(a.reliability)]
    default = float(np.median(np.clip(stated, 0, 1))) if stated.size else FALLBACK_RELIABILITY
    return MarketReference(
        performance=_bounds(ratios.performance),
        vram=_bounds(ratios.vram),
        bandwidth=_bounds(ratios.bandwidth),
        reliability_default=default,
    )


def _log_scaled(values: Floats, bounds: tuple[float, float]) -> Floats:
    """log(x) placed linearly between log(low) and log(high), clipped to [0, 1]; unknown → 0."""
    low, high = bounds
    with np.errstate(divide="ignore", invalid="ignore"):
        if high > low:
            scaled = (np.log(values) - math.log(low)) / (math.log(high) - math.log(low))
        else:  # a market with one price level: at or above it is the best there is
            scaled = np.where(values >= high, 1.0, 0.0)
    return np.nan_to_num(np.clip(scaled, 0.0, 1.0), nan=0.0)


def g_score_arrays(
    a: OfferArrays,
    weights: GScoreWeights | None = None,
    market: MarketReference | None = None,
) -> Floats:
    """G-Score 0-100 of many offers; the market defaults to these offers themselves.

    performance = dense PFLOPS per $/GPU-hour, log-scaled between the market's reference points
    (a GPU without FLOPS figures scores 0); reliability = the offer's stated reliability in
    [0, 1], or the market's neutral default when it states none; efficiency = the mean of GB of
    VRAM per $ and GB/s of bandwidth per $, each log-scaled the same way. A lower price raises
    every ratio, so a cheaper, otherwise identical offer never scores lower."""
    weights = weights or GScoreWeights()
    market = market or market_reference(a)
    ratios = _ratios(a)
    performance = _log_scaled(ratios.performance, market.performance)
    efficiency = (
        _log_scaled(ratios.vram, market.vram) + _log_scaled(ratios.bandwidth, market.bandwidth)
    ) / 2
    reliability = np.clip(
        np.where(np.isfinite(a.reliability), a.reliability, market.reliability_default), 0, 1
    )
    return 100.0 * (
        weights.performance * performance
        + weights.reliability * reliability
        + weights.efficiency * efficiency
    )


def g_score(
    offer: Mapping[str, Any], market: MarketReference, weights: GScoreWeights | None = None
) -> float:
    """The G-Score of one offer against given market reference points (as `g_score_arrays`)."""
    return float(g_score_arrays(offer_arrays([offer]), weights, market)[0])

"""Workload catalog: what a training, serving or rendering job needs, by documented formulas (pure).

`estimate(workload)` turns model size, data size, precision and targets into what the planner reads:
useful compute (PFLOP-hours at one precision, as in `clusters.requirements`), memory per GPU and
the fewest GPUs per machine, with every constant it used stated in words in the result.

Compute (useful FLOPs, the ones the job itself performs; the throughput model supplies the
efficiency, so recomputation under activation checkpointing is not counted here):

- LLM pre-training and full fine-tuning, per token: 6·N (2N forward + 4N backward, Kaplan et al.
  2020) + 12·L·H·Q·s for attention (PaLM, Chowdhery et al. 2022, appendix B), N the parameters
  used per token, L layers, H·Q the attention width, s the sequence length.
- LoRA, per token: 4·N + 12·L·H·Q·s + 6·A. The frozen weights need the forward pass (2N) and the
  gradients of their inputs (2N) but not their own (2N saved); A adapter parameters train fully.
  Hu et al. 2021 measured a 25 % speed-up over full fine-tuning on GPT-3 175B (this gives ~31 %).
- Image (latent diffusion) training, per image: the same 6·N + attention per latent token, with
  (resolution / 16)² tokens (an 8x VAE, Rombach et al. 2022, then 2x2 patches, Peebles & Xie 2023).
  For a UNet this is an upper bound on model FLOPs: its widest layers see fewer positions.
- Batch rendering: frames x minutes per frame on a named GPU, as GPU-hours of that GPU at FP32
  (`compute_from_gpu_hours`), so the planner scales them to every other GPU by its FP32 rate.
- Serving: see `_serving`: the target is converted into H100-equivalents running for the period.

Memory per GPU (GB = 1e9 bytes), model state sharded over the GPUs of one machine (ZeRO-3/FSDP):
mixed-precision Adam keeps 16 bytes per trained parameter (Rajbhandari et al. 2020); activations
under full checkpointing take s·b·h·(2L + 34) bytes at 16 bits (Korthikanti et al. 2022); a serving
replica holds the weights and the KV cache of its users (Kwon et al. 2023).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from gp4u.catalog.reference import GpuVariantSpec, families_by_name
from gp4u.clusters.requirements import PRECISIONS, Compute, Precision
from gp4u.clusters.throughput import compute_from_gpu_hours, efficiency_of, peak_tflops
from gp4u.wizard.fit import (
    GPU_COUNTS,
    LARGEST_TIER_GB,
    MAX_SHARDING_MACHINES,
    PREFERRED_TIER_GB,
    USABLE_VRAM_FRACTION,
    Fit,
    MemoryAt,
    fit_gpus,
    memory_gb,
    round_up_gb,
)
from gp4u.wizard.kinds import KIND_LABELS, WorkloadKind
from gp4u.wizard.models import (
    ACTIVATION_BYTES_PER_LAYER_INPUT,
    ACTIVATION_BYTES_WORKING_LAYER,
    ATTENTION_FLOPS_FACTOR,
    BILLION,
    DECODE_FLOPS_PER_PARAM,
    FALLBACK_FFN_RATIO,
    FALLBACK_HEAD_DIM,
    FALLBACK_HIDDEN_PER_LAYER,
    FALLBACK_KV_HEADS,
    FALLBACK_PARAMS_PER_LAYER_H2,
    GB,
    IMAGE_MODEL_PARAMS_B,
    KV_CACHE_BYTES,
    LORA_FROZEN_FLOPS_PER_PARAM,
    MODEL_SHAPES,
    REFERENCES,
    STATE_BYTES,
    TRAIN_FLOPS_PER_PARAM,
    WEIGHT_BYTES,
    ModelShape,
    activation_bytes,
    fallback_shape,
    kv_cache_bytes_per_token,
    lora_adapter_params,
    training_flops_per_token,
)

# The public names, with those of the workload kinds (`kinds`), the model tables (`models`) and
# the GPU-count policy (`fit`), so they stay importable from here.
__all__ = [
    "ACTIVATION_BYTES_PER_LAYER_INPUT", "ACTIVATION_BYTES_WORKING_LAYER", "ATTENTION_FLOPS_FACTOR",
    "BILLION", "DECODE_BANDWIDTH_EFFICIENCY", "DECODE_FLOPS_PER_PARAM", "DEFAULT_LORA_RANK",
    "FALLBACK_FFN_RATIO", "FALLBACK_HEAD_DIM", "FALLBACK_HIDDEN_PER_LAYER", "FALLBACK_KV_HEADS",
    "FALLBACK_PARAMS_PER_LAYER_H2", "GB", "GPU_COUNTS", "IMAGE_MODEL_PARAMS_B",
    "IMAGE_PIXELS_PER_TOKEN", "KIND_LABELS", "KV_CACHE_BYTES", "LARGEST_TIER_GB",
    "LORA_FROZEN_FLOPS_PER_PARAM", "MAX_SHARDING_MACHINES", "MINUTES_PER_HOUR", "MODEL_SHAPES",
    "MODEL_SIZE_TOLERANCE", "PREFERRED_TIER_GB", "REFERENCES", "SECONDS_PER_HOUR",
    "SERVING_REFERENCE_GPU", "STATE_BYTES", "TOKENS_PER_SECOND_PER_USER", "TRAIN_FLOPS_PER_PARAM",
    "USABLE_VRAM_FRACTION", "WEIGHT_BYTES", "MemoryAt", "ModelShape", "Workload",
    "WorkloadEstimate", "WorkloadKind", "activation_bytes", "estimate", "fallback_shape",
    "kv_cache_bytes_per_token", "lora_adapter_params", "training_flops_per_token"
]  # fmt: skip

SECONDS_PER_HOUR = 3600.0
MINUTES_PER_HOUR = 60.0

DEFAULT_LORA_RANK = 16
IMAGE_PIXELS_PER_TOKEN = 16  # 8x VAE downsampling, then 2x2 latent patches

# Serving: conversion into H100-equivalents (see `_serving`).
SERVING_REFERENCE_GPU = "H100"
DECODE_BANDWIDTH_EFFICIENCY = 0.6  # share of peak memory bandwidth decode reaches (assumed)
TOKENS_PER_SECOND_PER_USER = 20.0  # a comfortable streaming speed, faster than people read

MODEL_SIZE_TOLERANCE = 0.05  # a stated size may differ this much from the table's


# ---- the workload ----


@dataclass(frozen=True)
class Workload:
    """What the user wants to run. Which fields matter depends on `kind`:

    - LLM pre-training, full and LoRA fine-tuning: the model (`model`, a key of MODEL_SHAPES,
      or `params_billion`), `training_tokens` per epoch, `epochs`, `sequence_length`,
      `micro_batch` per GPU, `lora_rank`; `weight_bits` 4 or 8 quantises LoRA's frozen weights.
    - Serving: the model, `tokens_per_second` (all users together) and/or `concurrent_users`,
      `context_length` per user, `serving_hours`; `weight_bits` 8 or 4 for quantised weights.
    - Image training: the model (a key of IMAGE_MODEL_PARAMS_B or `params_billion`), `images`
      x `epochs` or `steps` x `batch_size`, `resolution` in pixels, `micro_batch` per GPU.
    - Batch rendering: `frames` x `minutes_per_frame` measured on `reference_gpu` (a GPU family
      of the reference table), `scene_vram_gb` if known.

    `gpus_per_machine` overrides the GPU-count policy."""

    kind: WorkloadKind
    model: str | None = None
    params_billion: float | None = None
    training_tokens: float | None = None
    epochs: float = 1.0
    precision: Precision = "bf16"
    weight_bits: int | None = None
    sequence_length: int = 4096
    micro_batch: int = 1
    lora_rank: int = DEFAULT_LORA_RANK
    tokens_per_second: float | None = None
    concurrent_users: int | None = None
    context_length: int = 4096
    serving_hours: float | None = None
    images: float | None = None
    steps: int | None = None
    batch_size: int | None = None
    resolution: int = 512
    frames: int | None = None
    minutes_per_frame: float | None = None
    reference_gpu: str | None = None
    scene_vram_gb: float | None = None
    gpus_per_machine: int | None = None

    def __post_init__(self) -> None:
        _check_ranges(self)
        _check_model(self)
        _check_inputs(self)

    @property
    def shape(self) -> ModelShape:
        """The model's dimensions: from the table, else the generic shape for its size."""
        if self.model in MODEL_SHAPES:
            return MODEL_SHAPES[self.model]
        if self.params_billion is None:
            raise ValueError("model: the workload names no model and no size")
        return fallback_shape(self.params_billion)

    @property
    def size_billion(self) -> float:
        if self.params_billion is not None:
            return self.params_billion
        if self.model in IMAGE_MODEL_PARAMS_B:
            return IMAGE_MODEL_PARAMS_B[self.model]
        return self.shape.params_billion

    @property
    def bits(self) -> int:
        """Bit width of the stored weights (LoRA's frozen base, a served model)."""
        if self.weight_bits is not None:
            return self.weight_bits
        return 32 if self.precision == "fp32" else 16


def _positive(name: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be positive (got {value})")


def _check_ranges(w: Workload) -> None:
    if w.precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)} (got {w.precision!r})")
    for name in (
        "params_billion", "training_tokens", "epochs", "sequence_length", "micro_batch",
        "lora_rank", "tokens_per_second", "concurrent_users", "context_length", "serving_hours",
        "images", "steps", "batch_size", "resolution", "frames", "minutes_per_frame",
        "scene_vram_gb", "gpus_per_machine",
    ):  # fmt: skip
        _positive(name, getattr(w, name))
    if w.weight_bits is not None and w.weight_bits not in WEIGHT_BYTES:
        raise ValueError(f"weight_bits must be one of 4, 8, 16, 32 (got {w.weight_bits})")
    quantised = w.weight_bits is not None and w.weight_bits < 16
    if quantised and w.kind not in (WorkloadKind.LORA_FINETUNING, WorkloadKind.INFERENCE_SERVING):
        raise ValueError(
            "weight_bits: 4- and 8-bit weights are only for LoRA (QLoRA) and serving; "
            f"{KIND_LABELS[w.kind]} trains every weight"
        )


def _check_model(w: Workload) -> None:
    if w.kind is WorkloadKind.BATCH_RENDERING:
        return
    sizes = (
        IMAGE_MODEL_PARAMS_B
        if w.kind is WorkloadKind.IMAGE_TRAINING
        else {key: shape.params_billion for key, shape in MODEL_SHAPES.items()}
    )
    if w.model is not None and w.model not in sizes:
        known = ", ".join(sorted(sizes))
        raise ValueError(f"model: {w.model!r} is not a known {KIND_LABELS[w.kind]} model ({known})")
    if w.model is None and w.params_billion is None:
        raise ValueError(f"model: {KIND_LABELS[w.kind]} needs a model or params_billion")
    if w.model is not None and w.params_billion is not None:
        known_size = sizes[w.model]
        if abs(w.params_billion - known_size) > MODEL_SIZE_TOLERANCE * known_size:
            raise ValueError(
                f"params_billion: {w.params_billion:g} contradicts {w.model} "
                f"({known_size:g} billion)"
            )


def _check_inputs(w: Workload) -> None:
    label = KIND_LABELS[w.kind]
    if w.kind in (
        WorkloadKind.LLM_PRETRAINING,
        WorkloadKind.FULL_FINETUNING,
        WorkloadKind.LORA_FINETUNING,
    ):
        if w.training_tokens is None:
            raise ValueError(f"training_tokens: {label} needs the number of training tokens")
    elif w.kind is WorkloadKind.INFERENCE_SERVING:
        if w.tokens_per_second is None and w.concurrent_users is None:
            raise ValueError(f"tokens_per_second: {label} needs tokens per second or users")
        if w.serving_hours is None:
            raise ValueError(f"serving_hours: {label} needs the serving period")
    elif w.kind is WorkloadKind.IMAGE_TRAINING:
        if w.images is None and (w.steps is None or w.batch_size is None):
            raise ValueError(f"images: {label} needs images (x epochs) or steps x batch_size")
    elif w.frames is None or w.minutes_per_frame is None:
        raise ValueError(f"frames: {label} needs frames and minutes_per_frame")
    elif w.reference_gpu not in families_by_name():
        raise ValueError(
            f"reference_gpu: {w.reference_gpu!r} is not a GPU of the reference table "
            "(the GPU the minutes per frame were measured on)"
        )


# ---- the estimate ----


@dataclass(frozen=True)
class WorkloadEstimate:
    """What the planner needs for a workload, and why.

    `memory` is GB per GPU at `min_gpus_per_machine` GPUs (weights, gradients, optimizer,
    activations, kv_cache, scene); `min_vram_gb` is its sum over the usable share of a GPU.
    `fits_one_machine` is False when even 8 GPUs of the largest size cannot hold the job: its
    state is then sharded over at least `min_machines` machines of 80 GB GPUs, a minimum the
    planner's `JobRequirement` cannot express yet (`to_requirement` refuses a cap below it)."""

    workload: Workload
    compute: Compute
    min_vram_gb: float
    min_gpus_per_machine: int
    sustained: bool
    duration_hours: float | None
    memory: dict[str, float]
    fits_one_machine: bool
    min_machines: int
    assumptions: list[str]
    references: list[str]


def estimate(workload: Workload) -> WorkloadEstimate:
    """Compute, memory and GPUs per machine for a workload, with assumptions and references."""
    handlers: dict[WorkloadKind, Callable[[Workload], WorkloadEstimate]] = {
        WorkloadKind.LLM_PRETRAINING: _full_training,
        WorkloadKind.FULL_FINETUNING: _full_training,
        WorkloadKind.LORA_FINETUNING: _lora,
        WorkloadKind.INFERENCE_SERVING: _serving,
        WorkloadKind.IMAGE_TRAINING: _image_training,
        WorkloadKind.BATCH_RENDERING: _rendering,
    }
    return handlers[workload.kind](workload)


def _pflop_hours(flops: float) -> float:
    return flops / 1e15 / SECONDS_PER_HOUR


def _size_words(w: Workload) -> str:
    if w.model:
        return f"{w.model} ({w.size_billion:g}B parameters)"
    return f"a {w.size_billion:g}B model"


def _shape_words(w: Workload, shape: ModelShape) -> str:
    source = "known shape" if w.model in MODEL_SHAPES else "generic Llama-style shape"
    moe = (
        f", {shape.experts} experts, {shape.active_params / BILLION:g}B used per token"
        if shape.experts > 1
        else ""
    )
    return (
        f"Model: {_size_words(w)}, {source}: {shape.layers} layers, hidden {shape.hidden}, "
        f"{shape.heads} heads of {shape.head_dim}, {shape.kv_heads} KV heads, "
        f"MLP {shape.ffn}{moe}"
    )


def _activation_words(w: Workload, shape: ModelShape, sequence: int) -> str:
    gb = activation_bytes(shape, sequence, w.micro_batch, w.precision) / GB
    return (
        f"Activations with full checkpointing: s·b·h·(2L + 34) bytes = {sequence} x "
        f"{w.micro_batch} x {shape.hidden} x {2 * shape.layers + 34}"
        f"{' x 2 (FP32)' if w.precision == 'fp32' else ''} = {gb:.3g} GB per GPU, not sharded"
    )


def _estimate(
    w: Workload,
    compute: Compute,
    fit: Fit,
    assumptions: list[str],
    refs: list[str],
    *,
    sustained: bool = False,
    duration: float | None = None,
) -> WorkloadEstimate:
    return WorkloadEstimate(
        workload=w,
        compute=compute,
        min_vram_gb=fit.min_vram_gb,
        min_gpus_per_machine=fit.gpus,
        sustained=sustained,
        duration_hours=duration,
        memory=fit.memory,
        fits_one_machine=fit.fits,
        min_machines=fit.machines,
        assumptions=[*assumptions, fit.explanation],
        references=[REFERENCES[r] for r in refs],
    )


def _full_training(w: Workload) -> WorkloadEstimate:
    shape = w.shape
    tokens = (w.training_tokens or 0.0) * w.epochs
    per_token = training_flops_per_token(shape, w.sequence_length, TRAIN_FLOPS_PER_PARAM)
    weight_b, grad_b, optim_b = STATE_BYTES[w.precision]
    activations = activation_bytes(shape, w.sequence_length, w.micro_batch, w.precision)

    def memory_at(gpus: int) -> dict[str, float]:
        n = shape.params / gpus
        return memory_gb(n * weight_b, n * grad_b, n * optim_b, activations)

    compute = Compute(
        pflop_hours=_pflop_hours(per_token * tokens),
        precision=w.precision,
        described_as=(
            f"{KIND_LABELS[w.kind]} of {_size_words(w)} on {_count(tokens)} tokens: "
            f"(6N + 12·L·H·Q·s) FLOPs per token"
        ),
    )
    assumptions = [
        _shape_words(w, shape),
        f"Compute: 6 FLOPs per parameter and token (2 forward + 4 backward) plus attention "
        f"12·L·H·Q·s with s = {w.sequence_length} tokens: {per_token:.3g} FLOPs per token x "
        f"{_count(tokens)} tokens ({w.epochs:g} epoch(s)); recomputation is not counted",
        f"Model state: {weight_b:g} + {grad_b:g} + {optim_b:g} = 16 bytes per parameter "
        f"({w.precision.upper()} weights, gradients, Adam state), sharded over the GPUs of one "
        "machine (ZeRO-3/FSDP)",
        _activation_words(w, shape, w.sequence_length),
    ]
    fit = fit_gpus(memory_at, w.gpus_per_machine)
    return _estimate(w, compute, fit, assumptions, ["kaplan", "palm", "zero", "korthikanti"])


def _lora(w: Workload) -> WorkloadEstimate:
    shape = w.shape
    tokens = (w.training_tokens or 0.0) * w.epochs
    adapters = lora_adapter_params(shape, w.lora_rank)
    frozen = training_flops_per_token(shape, w.sequence_length, LORA_FROZEN_FLOPS_PER_PARAM)
    per_token = frozen + TRAIN_FLOPS_PER_PARAM * adapters
    weight_bytes = WEIGHT_BYTES[w.bits]
    activations = activation_bytes(shape, w.sequence_length, w.micro_batch, w.precision)
    weight_b, grad_b, optim_b = STATE_BYTES[w.precision]

    def memory_at(gpus: int) -> dict[str, float]:
        base = shape.params * weight_bytes / gpus
        a = adapters / gpus
        return memory_gb(base + a * weight_b, a * grad_b, a * optim_b, activations)

    quantised = f" ({w.bits}-bit, QLoRA)" if w.bits < 16 else ""
    compute = Compute(
        pflop_hours=_pflop_hours(per_token * tokens),
        precision=w.precision,
        described_as=(
            f"LoRA fine-tuning{quantised} of {_size_words(w)} on {_count(tokens)} tokens: "
            f"(4N + 12·L·H·Q·s + 6A) FLOPs per token"
        ),
    )
    assumptions = [
        _shape_words(w, shape),
        f"LoRA rank {w.lora_rank} on every linear layer: {_count(adapters)} adapter parameters",
        f"Compute: 4 FLOPs per frozen parameter and token (forward and input gradients; the "
        f"weight gradients are skipped), attention 12·L·H·Q·s with s = {w.sequence_length}, "
        f"6 per adapter parameter: {per_token:.3g} FLOPs per token x {_count(tokens)} tokens",
        f"Frozen weights: {weight_bytes:.3g} bytes per parameter ({w.bits}-bit"
        f"{', NF4 with double quantisation' if w.bits == 4 else ''}); adapters: 16 bytes per "
        "parameter (weights, gradients, Adam state); all sharded over the GPUs of one machine",
        _activation_words(w, shape, w.sequence_length),
    ]
    refs = ["lora", "palm", "zero", "korthikanti"] + (["qlora"] if w.bits < 16 else [])
    return _estimate(w, compute, fit_gpus(memory_at, w.gpus_per_machine), assumptions, refs)


def _reference_spec() -> GpuVariantSpec:
    family = families_by_name()[SERVING_REFERENCE_GPU]
    return next(v for v in family.variants if v.memory_gb == family.default_memory_gb)


def _serving(w: Workload) -> WorkloadEstimate:
    """Serving as H100-equivalents running for the whole period (`sustained`).

    The planner only compares useful compute (peak x training efficiency). Decode is
    memory-bound, so the target is first turned into reference GPUs (H100 SXM) and then into
    the useful compute those GPUs deliver. With U users (one decode step yields U tokens),
    T tokens/s in all, weights W bytes, KV cache k bytes per token and context c:

        G_bw = (T / U) x (R·W + U·c·k) / (eta x BW)     bandwidth: bytes streamed per second
        G_fl = 2·N·T / (peak x efficiency)             compute roof, at the training efficiency
        G    = max(G_bw, G_fl);  compute = G x hours x H100 useful PFLOPS

    R = ceil(G_bw / 8) replicas (machines of 8 reference GPUs) each stream the weights once per
    step. In the compute-bound limit this is exactly 2·N·T; when bandwidth binds it is more,
    which is the point: a GPU with a different bandwidth-to-FLOPs ratio than an H100 is valued
    as if it had the H100's, a limitation of a compute-only planner."""
    shape = w.shape
    hours = w.serving_hours or 0.0
    users, rate = _serving_load(w)
    spec = _reference_spec()
    bandwidth = (spec.memory_bandwidth_gbps or 0.0) * GB * DECODE_BANDWIDTH_EFFICIENCY
    peak = (peak_tflops(spec, w.precision) or 0.0) * 1e12
    efficiency = efficiency_of(SERVING_REFERENCE_GPU)
    weights = shape.params * WEIGHT_BYTES[w.bits]
    kv_token = kv_cache_bytes_per_token(shape)
    kv_all = users * w.context_length * kv_token
    single = (rate / users) * (weights + kv_all) / bandwidth
    replicas = max(1, math.ceil(single / GPU_COUNTS[-1]))
    g_bandwidth = (rate / users) * (replicas * weights + kv_all) / bandwidth
    g_flops = DECODE_FLOPS_PER_PARAM * shape.active_params * rate / (peak * efficiency)
    gpus = max(g_bandwidth, g_flops)
    users_per_replica = math.ceil(users / replicas)

    def memory_at(n: int) -> dict[str, float]:
        return memory_gb(weights / n, kv_cache=users_per_replica * w.context_length * kv_token / n)

    base = compute_from_gpu_hours(gpus * hours, SERVING_REFERENCE_GPU, w.precision)
    compute = replace(
        base,
        described_as=(
            f"serving {_size_words(w)} at {rate:,.0f} tokens/s to {users:,} users for "
            f"{hours:g} h: {gpus:.3g} {SERVING_REFERENCE_GPU}-equivalents throughout"
        ),
    )
    bound = "memory bandwidth" if g_bandwidth >= g_flops else "compute"
    assumptions = [
        _shape_words(w, shape),
        f"Load: {users:,} concurrent users, {rate:,.0f} tokens/s in all"
        + (
            f" (assumed {TOKENS_PER_SECOND_PER_USER:g} tokens/s per user)"
            if w.tokens_per_second is None or w.concurrent_users is None
            else ""
        ),
        f"KV cache: 2 x {shape.layers} layers x {shape.kv_heads} KV heads x {shape.head_dim} x "
        f"{KV_CACHE_BYTES:g} bytes = {kv_token / 1e3:,.1f} kB per token, every user at the full "
        f"{w.context_length}-token context",
        f"Weights: {WEIGHT_BYTES[w.bits]:.3g} bytes per parameter ({w.bits}-bit)",
        f"Decode is {bound}-bound: each step streams the weights and the KV cache at "
        f"{DECODE_BANDWIDTH_EFFICIENCY:.0%} of an {SERVING_REFERENCE_GPU} SXM's "
        f"{spec.memory_bandwidth_gbps:g} GB/s, capped by 2 FLOPs per parameter and token at its "
        f"training efficiency {efficiency:.0%}: {gpus:.3g} {SERVING_REFERENCE_GPU}-equivalents "
        f"({replicas} replica(s)), bought as useful compute for the whole period",
        "Prompt processing (prefill) is not counted: compute-bound and short next to decode",
        f"Each replica holds the weights and the KV cache of {users_per_replica:,} users, tensor-"
        "parallel over the GPUs of one machine",
    ]
    fit = fit_gpus(memory_at, w.gpus_per_machine)
    return _estimate(
        w, compute, fit, assumptions, ["vllm", "throughput"], sustained=True, duration=hours
    )


def _serving_load(w: Workload) -> tuple[int, float]:
    """(concurrent users, tokens per second in all), one from the other when only one is given."""
    if w.concurrent_users is not None and w.tokens_per_second is not None:
        return w.concurrent_users, w.tokens_per_second
    if w.concurrent_users is not None:
        return w.concurrent_users, w.concurrent_users * TOKENS_PER_SECOND_PER_USER
    rate = w.tokens_per_second or 0.0
    return max(1, math.ceil(rate / TOKENS_PER_SECOND_PER_USER)), rate


def _image_training(w: Workload) -> WorkloadEstimate:
    shape = fallback_shape(w.size_billion)
    tokens_per_image = (w.resolution // IMAGE_PIXELS_PER_TOKEN) ** 2
    if w.images is not None:
        samples, samples_words = w.images * w.epochs, f"{_count(w.images)} images x {w.epochs:g}"
    else:
        samples = float((w.steps or 0) * (w.batch_size or 0))
        samples_words = f"{w.steps:,} steps x batch {w.batch_size}"
    per_token = training_flops_per_token(shape, tokens_per_image, TRAIN_FLOPS_PER_PARAM)
    flops = per_token * tokens_per_image * samples
    weight_b, grad_b, optim_b = STATE_BYTES[w.precision]
    activations = activation_bytes(shape, tokens_per_image, w.micro_batch, w.precision)

    def memory_at(gpus: int) -> dict[str, float]:
        n = shape.params / gpus
        return memory_gb(n * weight_b, n * grad_b, n * optim_b, activations)

    compute = Compute(
        pflop_hours=_pflop_hours(flops),
        precision=w.precision,
        described_as=(
            f"image-model training of {_size_words(w)}: {samples_words} at {w.resolution} px"
        ),
    )
    assumptions = [
        f"Model: {_size_words(w)}, treated as a latent-diffusion transformer of generic shape "
        f"({shape.layers} layers, hidden {shape.hidden}); for a UNet this overestimates",
        f"Tokens per image: ({w.resolution} / {IMAGE_PIXELS_PER_TOKEN})² = {tokens_per_image} "
        "(8x VAE downsampling, 2x2 patches); frozen encoders (VAE, text) are not counted",
        f"Compute: (6N + 12·L·H·Q·s) FLOPs per token x {tokens_per_image} tokens x "
        f"{_count(samples)} samples ({samples_words})",
        "Model state: 16 bytes per parameter (mixed-precision Adam), sharded over one machine",
        _activation_words(w, shape, tokens_per_image),
    ]
    refs = ["ldm", "dit", "kaplan", "zero", "korthikanti"]
    return _estimate(w, compute, fit_gpus(memory_at, w.gpus_per_machine), assumptions, refs)


def _rendering(w: Workload) -> WorkloadEstimate:
    gpu = w.reference_gpu or ""
    gpu_hours = (w.frames or 0) * (w.minutes_per_frame or 0.0) / MINUTES_PER_HOUR
    base = compute_from_gpu_hours(gpu_hours, gpu, "fp32")
    compute = replace(
        base,
        described_as=(
            f"rendering {w.frames:,} frames x {w.minutes_per_frame:g} min on {gpu} = "
            f"{gpu_hours:,.4g} {gpu} GPU-hours (FP32)"
        ),
    )
    family = families_by_name()[gpu]
    scene = w.scene_vram_gb if w.scene_vram_gb is not None else float(family.default_memory_gb)
    gpus = w.gpus_per_machine or 1
    fit = Fit(
        gpus=gpus,
        memory=memory_gb(scene=scene * GB),
        min_vram_gb=round_up_gb(scene),
        fits=True,
        explanation=(
            f"GPUs per machine: {gpus} "
            f"({'as asked' if w.gpus_per_machine else 'frames render independently'}); "
            + (
                f"scene memory {scene:g} GB, as stated"
                if w.scene_vram_gb is not None
                else f"scene memory unknown: a GPU needs the {family.default_memory_gb} GB of "
                f"the {gpu} the frame times were measured on"
            )
        ),
    )
    assumptions = [
        f"Compute: {gpu_hours:,.4g} {gpu} GPU-hours at FP32, scaled to other GPUs by their FP32 "
        "rate and generation efficiency (rendering speed across GPU models only roughly follows "
        "FP32 FLOPS)",
    ]
    return _estimate(w, compute, fit, assumptions, ["throughput"])


def _count(value: float) -> str:
    """1.5e9 → '1.5B', 2e12 → '2T', 800 → '800'."""
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.4g}{suffix}"
    return f"{value:.4g}"

"""Model tables and per-model formulas for the workload catalog (pure).

Decoder-only transformer shapes (`MODEL_SHAPES`), image-model sizes (`IMAGE_MODEL_PARAMS_B`), the
generic shape for a model of unknown dimensions (`fallback_shape`), the constants of the formulas
and the formulas that read only a shape (KV cache, activations, LoRA adapters, training FLOPs per
token), with the literature they come from (`REFERENCES`). `workloads` re-exports every name.
"""

from __future__ import annotations

from dataclasses import dataclass

from gp4u.clusters.requirements import Precision

GB = 1e9
BILLION = 1e9


# ---- model shapes ----


@dataclass(frozen=True)
class ModelShape:
    """A decoder-only transformer's dimensions. MoE models name the parameters used per token."""

    params_billion: float
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn: int
    active_params_billion: float | None = None
    experts: int = 1

    @property
    def attention_width(self) -> int:
        return self.heads * self.head_dim

    @property
    def params(self) -> float:
        return self.params_billion * BILLION

    @property
    def active_params(self) -> float:
        return (self.active_params_billion or self.params_billion) * BILLION


# Dimensions from each model's config.json on Hugging Face (num_hidden_layers, hidden_size,
# num_attention_heads, num_key_value_heads, head_dim, intermediate_size); parameters as published.
MODEL_SHAPES: dict[str, ModelShape] = {
    "llama-2-7b": ModelShape(6.74, 32, 4096, 32, 32, 128, 11008),
    "llama-2-13b": ModelShape(13.0, 40, 5120, 40, 40, 128, 13824),
    "llama-2-70b": ModelShape(69.0, 80, 8192, 64, 8, 128, 28672),
    "llama-3-8b": ModelShape(8.03, 32, 4096, 32, 8, 128, 14336),
    "llama-3-70b": ModelShape(70.6, 80, 8192, 64, 8, 128, 28672),
    "llama-3.1-405b": ModelShape(405.9, 126, 16384, 128, 8, 128, 53248),
    "llama-3.2-1b": ModelShape(1.24, 16, 2048, 32, 8, 64, 8192),
    "llama-3.2-3b": ModelShape(3.21, 28, 3072, 24, 8, 128, 8192),
    "mistral-7b": ModelShape(7.24, 32, 4096, 32, 8, 128, 14336),
    "mixtral-8x7b": ModelShape(46.7, 32, 4096, 32, 8, 128, 14336, 12.9, 8),
    "mixtral-8x22b": ModelShape(141.0, 56, 6144, 48, 8, 128, 16384, 39.0, 8),
    "qwen-2.5-0.5b": ModelShape(0.49, 24, 896, 14, 2, 64, 4864),
    "qwen-2.5-1.5b": ModelShape(1.54, 28, 1536, 12, 2, 128, 8960),
    "qwen-2.5-3b": ModelShape(3.09, 36, 2048, 16, 2, 128, 11008),
    "qwen-2.5-7b": ModelShape(7.61, 28, 3584, 28, 4, 128, 18944),
    "qwen-2.5-14b": ModelShape(14.7, 48, 5120, 40, 8, 128, 13824),
    "qwen-2.5-32b": ModelShape(32.5, 64, 5120, 40, 8, 128, 27648),
    "qwen-2.5-72b": ModelShape(72.7, 80, 8192, 64, 8, 128, 29568),
    "gemma-2-2b": ModelShape(2.61, 26, 2304, 8, 4, 256, 9216),
    "gemma-2-9b": ModelShape(9.24, 42, 3584, 16, 8, 256, 14336),
    "gemma-2-27b": ModelShape(27.2, 46, 4608, 32, 16, 128, 36864),
    "falcon-7b": ModelShape(7.2, 32, 4544, 71, 1, 64, 18176),
    "falcon-40b": ModelShape(40.0, 60, 8192, 128, 8, 64, 32768),
    "falcon-180b": ModelShape(180.0, 80, 14848, 232, 8, 64, 59392),
    "gpt-2-xl": ModelShape(1.56, 48, 1600, 25, 25, 64, 6400),
}
# Denoising networks, parameters in billions (model cards: Stable Diffusion v1.5 "860M UNet";
# SDXL "2.6B UNet", Podell et al. 2023; FLUX.1 "12 billion parameter rectified flow transformer").
IMAGE_MODEL_PARAMS_B: dict[str, float] = {
    "stable-diffusion-1.5": 0.86,
    "sdxl": 2.6,
    "flux.1": 12.0,
}

# Unknown sizes get a Llama-style shape: N ≈ 12·L·h² (Kaplan et al. 2020) with h = 128·L (Llama 3
# 8B: 4096/32; 405B: 16384/126), 128-wide heads, 8 KV heads (grouped-query attention, as every
# recent open model) and an MLP 3.5 h wide. A model with full multi-head attention has a KV cache
# several times larger than this assumes.
FALLBACK_PARAMS_PER_LAYER_H2 = 12
FALLBACK_HIDDEN_PER_LAYER = 128
FALLBACK_HEAD_DIM = 128
FALLBACK_KV_HEADS = 8
FALLBACK_FFN_RATIO = 3.5


def fallback_shape(params_billion: float) -> ModelShape:
    """A generic shape for a model of this size (see the constants above)."""
    per_layer = FALLBACK_PARAMS_PER_LAYER_H2 * FALLBACK_HIDDEN_PER_LAYER**2
    layers = max(1, round((params_billion * BILLION / per_layer) ** (1 / 3)))
    hidden = FALLBACK_HIDDEN_PER_LAYER * layers
    heads = max(1, hidden // FALLBACK_HEAD_DIM)
    return ModelShape(
        params_billion=params_billion,
        layers=layers,
        hidden=hidden,
        heads=heads,
        kv_heads=min(FALLBACK_KV_HEADS, heads),
        head_dim=FALLBACK_HEAD_DIM,
        ffn=round(FALLBACK_FFN_RATIO * hidden),
    )


# ---- constants of the formulas ----

TRAIN_FLOPS_PER_PARAM = 6.0  # 2 forward + 4 backward (Kaplan et al. 2020)
LORA_FROZEN_FLOPS_PER_PARAM = 4.0  # forward + input gradients only
ATTENTION_FLOPS_FACTOR = 12.0  # 12·L·H·Q·s per token (PaLM, appendix B)
DECODE_FLOPS_PER_PARAM = 2.0  # one multiply-add per parameter per generated token

# Mixed-precision Adam: 16-bit weights and gradients, FP32 master weights and two moments (ZeRO).
# Pure FP32 training keeps no master copy: 4 + 4 + 8, the same 16 bytes in total.
STATE_BYTES: dict[Precision, tuple[float, float, float]] = {
    "bf16": (2.0, 2.0, 12.0),
    "fp16": (2.0, 2.0, 12.0),
    "fp32": (4.0, 4.0, 8.0),
}
# Frozen or served weights, bytes per parameter by bit width. 4-bit is NF4 with double
# quantisation: 4 + 8/64 + 32/(64·256) = 4.127 bits (Dettmers et al. 2023, QLoRA, section 3).
WEIGHT_BYTES: dict[int, float] = {4: 4.127 / 8, 8: 1.0, 16: 2.0, 32: 4.0}
KV_CACHE_BYTES = 2.0  # keys and values kept at 16 bits, whatever the weights' width

# Activation checkpointing keeps each layer's 16-bit input (2·s·b·h bytes) and recomputes one
# layer at a time, whose activations take 34·s·b·h bytes (Korthikanti et al. 2022, eq. 1, the
# 5·a·s²·b attention-score term dropped: FlashAttention never materialises the scores).
ACTIVATION_BYTES_PER_LAYER_INPUT = 2.0
ACTIVATION_BYTES_WORKING_LAYER = 34.0

REFERENCES: dict[str, str] = {
    "kaplan": "Kaplan et al. 2020, 'Scaling Laws for Neural Language Models', arXiv:2001.08361",
    "palm": "Chowdhery et al. 2022, 'PaLM: Scaling Language Modeling with Pathways', "
    "arXiv:2204.02311, appendix B",
    "zero": "Rajbhandari et al. 2020, 'ZeRO: Memory Optimizations Toward Training Trillion "
    "Parameter Models', SC'20",
    "korthikanti": "Korthikanti et al. 2022, 'Reducing Activation Recomputation in Large "
    "Transformer Models', arXiv:2205.05198",
    "lora": "Hu et al. 2021, 'LoRA: Low-Rank Adaptation of Large Language Models', "
    "arXiv:2106.09685",
    "qlora": "Dettmers et al. 2023, 'QLoRA: Efficient Finetuning of Quantized LLMs', "
    "arXiv:2305.14314",
    "vllm": "Kwon et al. 2023, 'Efficient Memory Management for Large Language Model Serving "
    "with PagedAttention', SOSP'23",
    "ldm": "Rombach et al. 2022, 'High-Resolution Image Synthesis with Latent Diffusion "
    "Models', CVPR",
    "dit": "Peebles & Xie 2023, 'Scalable Diffusion Models with Transformers', ICCV",
    "throughput": "gp4u.clusters.throughput: per-generation training efficiencies "
    "(Narayanan et al. 2021; Dubey et al. 2024)",
}


def kv_cache_bytes_per_token(shape: ModelShape, bytes_per_value: float = KV_CACHE_BYTES) -> float:
    """Keys and values of one token over all layers: 2 x L x KV heads x head dim x bytes."""
    return 2 * shape.layers * shape.kv_heads * shape.head_dim * bytes_per_value


def activation_bytes(
    shape: ModelShape, sequence: int, micro_batch: int, precision: Precision
) -> float:
    """Activations per GPU under full checkpointing: s·b·h·(2L + 34) bytes at 16 bits."""
    per_value = 2.0 if precision == "fp32" else 1.0
    factor = ACTIVATION_BYTES_PER_LAYER_INPUT * shape.layers + ACTIVATION_BYTES_WORKING_LAYER
    return sequence * micro_batch * shape.hidden * factor * per_value


def lora_adapter_params(shape: ModelShape, rank: int) -> float:
    """LoRA on every linear layer (q, k, v, o and the three MLP projections of every expert):
    rank x (inputs + outputs) per adapted matrix."""
    d, q = shape.hidden, shape.attention_width
    kv = shape.kv_heads * shape.head_dim
    attention = (d + q) + 2 * (d + kv) + (q + d)
    mlp = 3 * (d + shape.ffn) * shape.experts
    return float(rank * shape.layers * (attention + mlp))


def training_flops_per_token(shape: ModelShape, sequence: int, per_param: float) -> float:
    """per_param x N (active) + 12·L·H·Q·s for attention."""
    attention = ATTENTION_FLOPS_FACTOR * shape.layers * shape.attention_width * sequence
    return per_param * shape.active_params + attention

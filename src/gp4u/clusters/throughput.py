"""How much useful compute an offer delivers, and what spreading a job over machines costs (pure).

Useful PFLOPS of one instance = GPUs x dense peak TFLOPS at the job's precision (vendor figures
from `catalog/gpu_models.toml`) x the efficiency of its GPU generation / 1000.

The efficiency is the share of peak that well-tuned training reaches end to end (model FLOPs
utilisation). Figures, by architecture:

- Ampere 0.50: Megatron-LM reached 163 TFLOPS per A100, 52 % of peak, training a 1T-parameter
  model on 3,072 GPUs (Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on
  GPU Clusters Using Megatron-LM", SC'21).
- Hopper 0.40: Llama 3 405B pre-training ran at 38-43 % BF16 MFU on 8-16k H100s (Dubey et al.
  2024, "The Llama 3 Herd of Models", table 4).
- Volta 0.30: Megatron-LM sustained 15.1 PFLOPS on 512 V100s, 30 % of peak (Shoeybi et al.
  2019, "Megatron-LM: Training Multi-Billion Parameter Language Models Using Model Parallelism").
- Blackwell 0.35, Ada Lovelace 0.40, Turing 0.30, CDNA 2/3/4 0.30, Gaudi 0.35, older parts
  0.25-0.35: assumptions, set at or below the nearest measured generation until published MFU
  figures exist (newer stacks mature slowly; AMD's public training results trail NVIDIA's).

Measured figures: where a machine's own node agent timed a dense matrix multiply (GP4U hosts'
machines, `agent.benchmark`), its throughput is the measured TFLOPS / HEALTHY_GEMM_SHARE x the
efficiency, and never more than the spec figure. The healthy shares are set low on purpose, so
a healthy machine keeps its spec figure: a large cuBLAS GEMM reaches 70-75 % of the dense peak
at BF16/FP16 on an H100 SXM (700-750 of 989 TFLOPS) and more on an A100, and FP32 SGEMM without
tensor cores about 60-70 % on Ada consumer cards (whose FP32 peak counts dual issue). A machine
that measures slower (power-capped, throttling, a shared or badly seated GPU) is planned at its
real speed. The cap keeps a host from buying a larger share of a cluster's pay with an inflated
benchmark. A precision the spec has no figure for stays unusable, measured or not.

Scaling: a job on m machines delivers `scaling_factor(m)` of the sum of its members' throughput,
losing 5 % per doubling of machines (1 machine 100 %, 2: 95 %, 3-4: 90.25 %, 5-8: 85.7 %, ...),
a rule of thumb for data-parallel training over a datacentre network (Horovod measured about
90 % at 128 machines with a much better network than rented GPUs across providers have; we
assume worse). The factor is a step per power of two, so the planner can handle it exactly with
one binary per band.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from gp4u.catalog.reference import GpuVariantSpec, families_by_name
from gp4u.clusters.requirements import Compute, Precision
from gp4u.pricing.value import spec_for

EFFICIENCY_BY_ARCHITECTURE: dict[str, float] = {
    "Hopper": 0.40,
    "Blackwell": 0.35,
    "Blackwell Ultra": 0.35,
    "Ampere": 0.50,
    "Ada Lovelace": 0.40,
    "Turing": 0.30,
    "Volta": 0.30,
    "Pascal": 0.35,
    "Maxwell": 0.30,
    "Kepler": 0.25,
    "CDNA": 0.25,
    "CDNA 2": 0.30,
    "CDNA 3": 0.30,
    "CDNA 4": 0.30,
    "Vega (GCN 5)": 0.25,
    "Vega 20 (GCN 5.1)": 0.25,
    "Gaudi": 0.30,
    "Gaudi 2": 0.35,
    "Gaudi 3": 0.35,
}
DEFAULT_EFFICIENCY = 0.30
LOSS_PER_DOUBLING = 0.05
# Share of the vendor's dense peak a long, large GEMM reaches on a healthy GPU (see above).
HEALTHY_GEMM_SHARE: dict[Precision, float] = {"bf16": 0.70, "fp16": 0.70, "fp32": 0.60}

Floats = npt.NDArray[np.float64]


def efficiency_of(gpu: str) -> float:
    """The end-to-end efficiency assumed for a GPU family's generation."""
    family = families_by_name().get(gpu)
    if family is None:
        return DEFAULT_EFFICIENCY
    return EFFICIENCY_BY_ARCHITECTURE.get(family.architecture, DEFAULT_EFFICIENCY)


def peak_tflops(spec: GpuVariantSpec, precision: Precision) -> float | None:
    """Dense peak TFLOPS at a precision; None when the GPU has no such rate (no BF16 before
    Ampere: a BF16 job cannot run there at speed). FP16 jobs also run on BF16-only figures."""
    if precision == "bf16":
        return spec.bf16_tflops
    if precision == "fp16":
        return spec.fp16_tflops or spec.bf16_tflops
    return spec.fp32_tflops


@lru_cache(maxsize=8192)
def gpu_pflops(gpu: str, variant: str | None, memory_gb: float, precision: Precision) -> float:
    """Useful PFLOPS of one GPU of this kind; NaN when unknown or unsupported."""
    spec = spec_for(gpu, variant, memory_gb)
    peak = peak_tflops(spec, precision) if spec else None
    if not peak:
        return math.nan
    return peak * efficiency_of(gpu) / 1000.0


def instance_pflops(
    gpus: Sequence[str],
    variants: Sequence[str | None],
    memories: Sequence[float],
    counts: npt.ArrayLike,
    precision: Precision,
) -> Floats:
    """Useful PFLOPS of whole instances (GPUs x per-GPU), NaN where the GPU is unknown."""
    per_gpu = np.array(
        [
            gpu_pflops(g, v, float(m), precision)
            for g, v, m in zip(gpus, variants, memories, strict=True)
        ],
        dtype=np.float64,
    )
    return per_gpu * np.asarray(counts, dtype=np.float64)


def with_measured(
    spec_pflops: Floats, measured_tflops: Floats, efficiency: Floats, precision: Precision
) -> tuple[Floats, npt.NDArray[np.bool_]]:
    """Useful PFLOPS of instances given what their agents measured at `precision` (NaN: not
    measured): the measured rate as a healthy GPU's peak at the generation's efficiency, at most
    the spec figure; and where the measured figure set it. Without a spec figure (an unknown GPU,
    or one without that precision) there is no throughput, measured or not."""
    measured = np.asarray(measured_tflops, dtype=np.float64)
    share = HEALTHY_GEMM_SHARE[precision]
    scaled = measured / share * np.asarray(efficiency, dtype=np.float64) / 1000.0
    pflops = np.fmin(spec_pflops, np.where(np.isnan(measured), np.inf, scaled))
    pflops = np.where(np.isnan(spec_pflops), np.nan, pflops)
    return pflops, pflops < spec_pflops


def compute_from_gpu_hours(gpu_hours: float, gpu: str, precision: Precision = "bf16") -> Compute:
    """`gpu_hours` of a reference GPU (by its default memory size) as useful compute."""
    family = families_by_name().get(gpu)
    if family is None:
        raise ValueError(f"unknown reference GPU {gpu!r}")
    rate = gpu_pflops(gpu, None, float(family.default_memory_gb), precision)
    if not math.isfinite(rate):
        raise ValueError(f"{gpu} has no {precision.upper()} figure to use as a reference")
    return Compute(
        pflop_hours=gpu_hours * rate,
        precision=precision,
        described_as=f"{gpu_hours:,.6g} {gpu} GPU-hours ({precision.upper()})",
    )


# ---- scaling over machines ----


def band_of(machines: int) -> int:
    """The scaling band of a machine count: 0 for 1 machine, then one per power of two."""
    return 0 if machines <= 1 else math.ceil(math.log2(machines))


def scaling_factor(machines: int) -> float:
    """Share of the members' summed throughput a job on `machines` machines delivers."""
    return float((1.0 - LOSS_PER_DOUBLING) ** band_of(machines))


def band_limits(max_machines: int) -> list[tuple[int, int, float]]:
    """(fewest, most machines, factor) of every band up to `max_machines`."""
    bands = []
    for band in range(band_of(max_machines) + 1):
        low = 1 if band == 0 else 2 ** (band - 1) + 1
        high = min(1 if band == 0 else 2**band, max_machines)
        bands.append((low, high, (1.0 - LOSS_PER_DOUBLING) ** band))
    return bands

"""GPUs per machine: the policy that turns memory per GPU into a GPU count (pure).

Workload estimators describe their memory as a function of the GPUs it is sharded over
(`MemoryAt`); `fit_gpus` picks the fewest GPUs per machine whose share fits a common GPU size,
else the fewest machines that hold the state sharded over all of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from gp4u.wizard.models import GB

# GPUs per machine: the fewest of GPU_COUNTS whose share fits the most common datacentre size
# (A100/H100 80 GB), else the largest size sold (MI300X 192 GB); else 8 GPUs of 80 GB per
# machine, on the fewest machines that hold the state sharded over all of them.
GPU_COUNTS = (1, 2, 4, 8)
PREFERRED_TIER_GB = 80.0
LARGEST_TIER_GB = 192.0
USABLE_VRAM_FRACTION = 0.9  # the rest: CUDA context, allocator fragmentation, buffers

MAX_SHARDING_MACHINES = 4096  # search limit for the fewest machines that hold a sharded state


MemoryAt = Callable[[int], dict[str, float]]


@dataclass(frozen=True)
class Fit:
    gpus: int
    memory: dict[str, float]
    min_vram_gb: float
    fits: bool
    explanation: str
    machines: int = 1


def _vram_needed(memory: dict[str, float]) -> float:
    return sum(memory.values()) / USABLE_VRAM_FRACTION


def fit_gpus(memory_at: MemoryAt, override: int | None) -> Fit:
    """Apply the GPUs-per-machine policy (see GPU_COUNTS) to a per-GPU memory function."""
    rule = (
        f"GPUs per machine: the fewest of {', '.join(map(str, GPU_COUNTS))} whose share fits a "
        f"{PREFERRED_TIER_GB:g} GB GPU (the common A100/H100 size), else a {LARGEST_TIER_GB:g} GB "
        f"GPU; a GPU's memory counts as usable up to {USABLE_VRAM_FRACTION:.0%}"
    )
    candidates: list[tuple[int, float]] = (
        [(override, LARGEST_TIER_GB)]
        if override
        else [(g, tier) for tier in (PREFERRED_TIER_GB, LARGEST_TIER_GB) for g in GPU_COUNTS]
    )
    if override:
        rule = f"GPUs per machine: {override}, as asked"
    for gpus, tier in candidates:
        memory = memory_at(gpus)
        if _vram_needed(memory) <= tier:
            vram = round_up_gb(_vram_needed(memory))
            return Fit(gpus, memory, vram, True, f"{rule}: {gpus} GPU(s) of at least {vram:g} GB")
    return _sharded(memory_at, override or GPU_COUNTS[-1], rule)


def _sharded(memory_at: MemoryAt, gpus: int, rule: str) -> Fit:
    """Too big for one machine: the fewest machines of `gpus` GPUs of the preferred size that
    hold the state sharded over all of them (activations are not sharded)."""
    for machines in range(2, MAX_SHARDING_MACHINES + 1):
        memory = memory_at(gpus * machines)
        if _vram_needed(memory) <= PREFERRED_TIER_GB:
            break
    vram = round_up_gb(_vram_needed(memory))
    note = (
        f"{rule}. Even {gpus} GPUs of {LARGEST_TIER_GB:g} GB cannot hold it on one machine: its "
        f"state is sharded over at least {machines} machines of {gpus} GPUs of at least "
        f"{vram:g} GB (ZeRO-3/FSDP across the network, or pipeline parallelism), the memory "
        "above being per GPU at that size. The planner has no minimum machine count: a plan "
        "with fewer machines would not fit"
    )
    return Fit(gpus, memory, vram, False, note, machines)


def round_up_gb(gb: float) -> float:
    return float(max(1, math.ceil(gb - 1e-9)))


def memory_gb(
    weights: float = 0.0,
    gradients: float = 0.0,
    optimizer: float = 0.0,
    activations: float = 0.0,
    kv_cache: float = 0.0,
    scene: float = 0.0,
) -> dict[str, float]:
    return {
        "weights": weights / GB,
        "gradients": gradients / GB,
        "optimizer": optimizer / GB,
        "activations": activations / GB,
        "kv_cache": kv_cache / GB,
        "scene": scene / GB,
    }

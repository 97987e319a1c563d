"""The throughput a host machine's agent measured (pure): the `throughput` part of its facts
(`gp4u.agent.benchmark`), read defensively.

The figures count only while the agent's GPUs match the listing (`gpucheck`): a benchmark of
other hardware says nothing about the listed one. They are scaled from the GPUs the agent
measured to the listed count, and dropped when it measured fewer than listed (a
CUDA_VISIBLE_DEVICES or MIG setting hid some). Values that are not positive, finite numbers
below a bound no machine reaches are dropped; an agent's `error` (why it could not measure) is
shown to the host as it is."""

from __future__ import annotations

import math
from typing import Any

from gp4u.hosts import gpucheck
from gp4u.offers.fields import MEASURED_PRECISIONS

# Far above any machine's dense throughput (8x B200 at BF16 is ~18,000): larger is garbage.
MAX_TFLOPS = 100_000.0


def _throughput(facts: dict[str, Any] | None) -> dict[str, Any]:
    part = (facts or {}).get("throughput")
    return part if isinstance(part, dict) else {}


def _text(value: Any) -> str | None:
    return value[:100] if isinstance(value, str) else None


def measured_tflops(
    facts: dict[str, Any] | None, gpu_check: str | None, gpu_count: int
) -> dict[str, float]:
    """Precision -> TFLOPS of the listed GPUs, as the agent measured them; {} when none count."""
    part = _throughput(facts)
    figures, devices = part.get("tflops"), part.get("devices")
    if gpu_check != gpucheck.OK or not isinstance(figures, dict):
        return {}
    if not isinstance(devices, int) or isinstance(devices, bool) or devices < max(gpu_count, 1):
        return {}
    return {
        precision: float(value) / devices * gpu_count
        for precision, value in figures.items()
        if precision in MEASURED_PRECISIONS
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 < value < MAX_TFLOPS
    }


def throughput_view(
    facts: dict[str, Any] | None, gpu_check: str | None, gpu_count: int
) -> dict[str, Any]:
    """What the owner sees: the figures the market uses, when and how they were measured, and
    why there are none."""
    part = _throughput(facts)
    figures = measured_tflops(facts, gpu_check, gpu_count)
    devices = part.get("devices")
    if figures:
        note = None
    elif part.get("error"):
        note = str(part["error"])[:300]
    elif not part:
        note = "the agent has not measured this machine yet"
    elif gpu_check != gpucheck.OK:
        note = "not used until the agent's GPUs match the listing"
    elif isinstance(devices, int) and devices < gpu_count:
        note = f"the agent measured {devices} of the {gpu_count} listed GPUs"
    else:
        note = "the agent's figures were unreadable"
    return {
        "tflops": figures or None,
        "measured_at": _text(part.get("measured_at")) if figures else None,
        "method": _text(part.get("method")) if figures else None,
        "note": note,
    }

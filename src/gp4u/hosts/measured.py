"""The throughput a host machine's agent measured (pure): the `throughput` part of its facts
(`gp4u.agent.benchmark`), read defensively.

The figures count only while the agent's GPUs match the listing (`gpucheck`): a benchmark of
other hardware says nothing about the listed one. Values that are not positive, finite numbers
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


def measured_tflops(facts: dict[str, Any] | None, gpu_check: str | None) -> dict[str, float]:
    """Precision -> whole-machine TFLOPS the agent measured; {} when none count."""
    if gpu_check != gpucheck.OK:
        return {}
    figures = _throughput(facts).get("tflops")
    if not isinstance(figures, dict):
        return {}
    return {
        precision: float(value)
        for precision, value in figures.items()
        if precision in MEASURED_PRECISIONS
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 < value < MAX_TFLOPS
    }


def throughput_view(facts: dict[str, Any] | None, gpu_check: str | None) -> dict[str, Any]:
    """What the owner sees: the figures the market uses, when and how they were measured, and
    why there are none."""
    part = _throughput(facts)
    figures = measured_tflops(facts, gpu_check)
    if figures:
        note = None
    elif part.get("error"):
        note = str(part["error"])[:300]
    elif not part:
        note = "the agent has not measured this machine yet"
    elif gpu_check != gpucheck.OK:
        note = "not used until the agent's GPUs match the listing"
    else:
        note = "the agent's figures were unreadable"
    return {
        "tflops": figures or None,
        "measured_at": part.get("measured_at") if figures else None,
        "method": part.get("method") if figures else None,
        "note": note,
    }

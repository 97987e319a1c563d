"""Does what a machine's agent reports match what its owner listed (pure)? The agent sends the
GPUs nvidia-smi sees; each is normalised like every offer's GPU, and the listing holds when at
least the listed number of the listed family (and memory, within 10 %) is there."""

from __future__ import annotations

from typing import Any

from gp4u.catalog.normalise import normalise_gpu

OK, MISMATCH, NO_GPUS = "ok", "mismatch", "no_gpus_seen"


def check(
    facts: dict[str, Any] | None, gpu: str, gpu_count: int, memory_gb: float | None
) -> tuple[str, str]:
    """(verdict, human detail) for a listing of `gpu_count`× `gpu` against the agent's facts."""
    reported = [g for g in (facts or {}).get("gpus") or [] if isinstance(g, dict)]
    if not reported:
        return NO_GPUS, "the agent saw no GPUs (is nvidia-smi installed and working?)"
    matching = 0
    seen = []
    for item in reported:
        name = str(item.get("name") or "")
        size = item.get("memory_gb")
        found = normalise_gpu(name, float(size) if isinstance(size, int | float) else None)
        seen.append(found.gpu)
        same_memory = memory_gb is None or abs(found.memory_gb - memory_gb) <= 0.1 * memory_gb
        if found.gpu == gpu and same_memory:
            matching += 1
    if matching >= gpu_count:
        return OK, f"the agent sees {matching}× {gpu}"
    listed = f"{gpu_count}× {gpu}"
    return MISMATCH, f"listed as {listed}, the agent sees {', '.join(seen)}"

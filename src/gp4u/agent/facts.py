"""Facts about this machine for the broker: GPUs from `nvidia-smi` (parsed defensively: any
failure means no GPU facts, never a crash), hostname, CPU count, memory and the agent version."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from gp4u.agent import AGENT_VERSION

NVIDIA_SMI_FIELDS = ("name", "memory.total", "driver_version", "utilization.gpu", "temperature.gpu")
NVIDIA_SMI_QUERY = [
    "nvidia-smi",
    f"--query-gpu={','.join(NVIDIA_SMI_FIELDS)}",
    "--format=csv,noheader,nounits",
]
MEMINFO = Path("/proc/meminfo")


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_gb: float | None
    driver_version: str | None
    utilization_pct: float | None
    temperature_c: float | None


def _number(text: str | None) -> float | None:
    """nvidia-smi prints `[N/A]` or `[Not Supported]` for values it does not know."""
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def parse_nvidia_smi(output: str) -> list[Gpu]:
    """One Gpu per row of the five queried columns with a name; other rows are skipped and
    unreadable values become None."""
    gpus = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split(",")]
        if len(cells) != len(NVIDIA_SMI_FIELDS) or not cells[0]:
            continue
        name, memory_mb, driver, utilization, temperature = cells
        memory = _number(memory_mb)
        gpus.append(
            Gpu(
                name=name,
                memory_gb=memory / 1024 if memory is not None else None,
                driver_version=driver if driver and not driver.startswith("[") else None,
                utilization_pct=_number(utilization),
                temperature_c=_number(temperature),
            )
        )
    return gpus


def query_gpus(timeout: float = 5.0) -> list[Gpu]:
    """This machine's NVIDIA GPUs, or [] when there is no nvidia-smi or it fails."""
    if not shutil.which("nvidia-smi"):
        return []
    try:
        result = subprocess.run(
            NVIDIA_SMI_QUERY, capture_output=True, text=True, timeout=timeout, check=True
        )
    except (OSError, subprocess.SubprocessError, UnicodeDecodeError):
        return []
    return parse_nvidia_smi(result.stdout)


def detect_gpus() -> tuple[str, int, float | None]:
    """(GPU name, count, memory GB) of this machine, or ("Local CPU", 1, None) without a GPU."""
    gpus = query_gpus()
    if not gpus:
        return "Local CPU", 1, None
    return gpus[0].name, len(gpus), gpus[0].memory_gb


def parse_meminfo(text: str) -> float | None:
    """MemTotal from /proc/meminfo, in GB."""
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key == "MemTotal":
            parts = rest.split()
            try:
                return round(float(parts[0]) / 1024 / 1024, 2)
            except (IndexError, ValueError):
                return None
    return None


def memory_gb(path: Path = MEMINFO) -> float | None:
    try:
        return parse_meminfo(path.read_text())
    except (OSError, UnicodeDecodeError):
        return None


def collect_facts() -> dict[str, Any]:
    """Everything the agent reports. The top-level `gpu_*` keys summarise `gpus` (the first GPU's
    model and memory, the count), the way offers describe a machine."""
    gpus = [
        replace(gpu, memory_gb=None if gpu.memory_gb is None else round(gpu.memory_gb, 2))
        for gpu in query_gpus()
    ]
    first = gpus[0] if gpus else None
    return {
        "agent_version": AGENT_VERSION,
        "hostname": socket.gethostname(),
        "cpu_count": os.cpu_count() or 1,
        "memory_gb": memory_gb(),
        "gpu_name": first.name if first else None,
        "gpu_count": len(gpus),
        "gpu_memory_gb": first.memory_gb if first else None,
        "driver_version": first.driver_version if first else None,
        "gpus": [asdict(gpu) for gpu in gpus],
    }

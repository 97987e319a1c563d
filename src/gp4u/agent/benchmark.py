"""Measured throughput for the broker: a dense matrix multiply timed on each of this machine's
GPUs, at BF16, FP16 and FP32, summed over the GPUs (TFLOPS of the whole machine).

A square GEMM of side `size` is 2·size³ floating-point operations; after a warm-up the agent
times `repeats` of them and waits for the device to finish. The figure is what the hardware
delivers as installed (power cap, clocks, cooling, PCIe or a shared GPU included), which a
vendor's peak cannot say; the broker plans a machine at its measured speed when that is lower
than its spec (`clusters.throughput`).

Backends: PyTorch on CUDA when the machine has it (the usual stack of an ML host), otherwise
NumPy on the CPU (FP32 only) for a machine without GPUs. A GPU machine without PyTorch is not
measured (its CPU speed would say nothing about its GPUs): the facts then say why.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from gp4u.agent.facts import query_gpus

PRECISIONS = ("bf16", "fp16", "fp32")


class Backend(Protocol):
    """Runs square matrix multiplies on one device of a machine."""

    name: str

    def devices(self) -> int: ...

    def precisions(self) -> tuple[str, ...]: ...

    def prepare(self, device: int, precision: str, size: int) -> Callable[[], None]:
        """A function doing one GEMM of side `size` on `device` (its inputs allocated)."""
        ...

    def synchronise(self, device: int) -> None: ...


def gemm_tflops(size: int, repeats: int, seconds: float) -> float:
    """TFLOPS of `repeats` square GEMMs of side `size` done in `seconds`."""
    return 2.0 * size**3 * repeats / seconds / 1e12


def time_gemm(
    backend: Backend,
    device: int,
    precision: str,
    size: int,
    repeats: int,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """TFLOPS of one device at one precision: two warm-up multiplies, then `repeats` timed."""
    multiply = backend.prepare(device, precision, size)
    for _ in range(2):
        multiply()
    backend.synchronise(device)
    start = clock()
    for _ in range(repeats):
        multiply()
    backend.synchronise(device)
    return gemm_tflops(size, repeats, max(clock() - start, 1e-9))


@dataclass(frozen=True)
class Measurement:
    method: str
    devices: int
    tflops: dict[str, float]  # precision -> whole machine
    measured_at: datetime
    seconds: float

    def as_facts(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "devices": self.devices,
            "tflops": {p: round(v, 3) for p, v in self.tflops.items()},
            "measured_at": self.measured_at.isoformat(),
            "seconds": round(self.seconds, 3),
        }


def measure(
    backend: Backend, size: int, repeats: int, clock: Callable[[], float] = time.perf_counter
) -> Measurement:
    """Every device at every precision the backend supports, summed per precision."""
    started = clock()
    totals = dict.fromkeys(backend.precisions(), 0.0)
    for device in range(backend.devices()):
        for precision in totals:
            totals[precision] += time_gemm(backend, device, precision, size, repeats, clock)
    return Measurement(
        method=f"{backend.name} gemm {size}x{size}",
        devices=backend.devices(),
        tflops=totals,
        measured_at=datetime.now(UTC),
        seconds=clock() - started,
    )


class TorchCuda:
    """PyTorch on every visible CUDA device (imported only when present)."""

    name = "torch-cuda"

    def __init__(self, torch: Any) -> None:
        self.torch = torch
        self._dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}

    def devices(self) -> int:
        return int(self.torch.cuda.device_count())

    def precisions(self) -> tuple[str, ...]:
        return PRECISIONS

    def prepare(self, device: int, precision: str, size: int) -> Callable[[], None]:
        dtype, where = self._dtypes[precision], f"cuda:{device}"
        a = self.torch.randn(size, size, dtype=dtype, device=where)
        b = self.torch.randn(size, size, dtype=dtype, device=where)
        return lambda: self.torch.matmul(a, b)

    def synchronise(self, device: int) -> None:
        self.torch.cuda.synchronize(device)


class NumpyCpu:
    """NumPy's BLAS on the CPU, FP32: the one 'device' of a machine without GPUs."""

    name = "numpy-cpu"

    def __init__(self) -> None:
        import numpy as np

        self.np = np

    def devices(self) -> int:
        return 1

    def precisions(self) -> tuple[str, ...]:
        return ("fp32",)

    def prepare(self, device: int, precision: str, size: int) -> Callable[[], None]:
        rng = self.np.random.default_rng(0)
        a = rng.standard_normal((size, size), dtype=self.np.float32)
        b = rng.standard_normal((size, size), dtype=self.np.float32)
        out = self.np.empty_like(a)
        return lambda: self.np.matmul(a, b, out=out)

    def synchronise(self, device: int) -> None:
        """NumPy returns when the multiply is done."""


def _torch_cuda() -> TorchCuda | None:
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        return None
    return TorchCuda(torch) if torch.cuda.is_available() and torch.cuda.device_count() else None


def machine_throughput(has_gpus: bool) -> dict[str, Any]:
    """The `throughput` facts of this machine: a measurement, or `{"error": why}`."""
    try:
        torch = _torch_cuda()
        if torch is not None:
            return measure(torch, size=8192, repeats=20).as_facts()
        if has_gpus:
            return {"error": "not measured: PyTorch with CUDA is not installed on this machine"}
        return measure(NumpyCpu(), size=1024, repeats=5).as_facts()
    except Exception as exc:  # a failed benchmark must never stop the agent
        return {"error": f"benchmark failed: {type(exc).__name__}: {exc}"}


def throughput_facts() -> dict[str, Any]:
    """This machine's `throughput` facts (what host mode sends)."""
    return machine_throughput(has_gpus=bool(query_gpus()))

"""Measured throughput for the broker: a dense matrix multiply timed on all of this machine's
GPUs at once, at BF16, FP16 and FP32 (TFLOPS of the whole machine).

A square GEMM of side `size` is 2·size³ floating-point operations. Every device gets the same
batches of multiplies and the clock stops when the slowest has finished them, first for a
warm-up (clocks ramp up), then for at least `seconds`: long enough for a power cap or heat to
show, and what a data-parallel job sees, since its slowest GPU sets its pace. The figure is what
the hardware delivers as installed (power cap, clocks, cooling, PCIe, a shared GPU), which a
vendor's peak cannot say; the broker plans a machine at its measured speed when that is below a
healthy GPU's (`clusters.throughput`).

Backends: PyTorch on CUDA when the machine has it (the usual stack of an ML host), otherwise
NumPy on the CPU (FP32 only) for a machine without GPUs. A GPU machine without PyTorch is not
measured (its CPU speed would say nothing about its GPUs): the facts then say why. A precision
that fails (no BF16 on an old GPU, out of memory) is left out; the others still count.

The host agent runs this module as a child process (`python -m gp4u.agent.benchmark`, one JSON
object on stdout), so it can be killed at any time and PyTorch's CUDA contexts and cached
memory go with it instead of staying in the long-lived agent.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from gp4u.agent.facts import query_gpus

PRECISIONS = ("bf16", "fp16", "fp32")
BATCH = 10  # multiplies queued per device between synchronisations
BUSY_PCT = 10.0  # a GPU busier than this is in use: measure later


class Backend(Protocol):
    """Runs square matrix multiplies on the devices of a machine."""

    name: str

    def devices(self) -> int: ...

    def precisions(self) -> tuple[str, ...]: ...

    def prepare(self, device: int, precision: str, size: int) -> Callable[[], None]:
        """A function queueing one GEMM of side `size` on `device` (inputs allocated)."""
        ...

    def synchronise(self, device: int) -> None: ...


def gemm_tflops(size: int, multiplies: int, seconds: float) -> float:
    """TFLOPS of `multiplies` square GEMMs of side `size` done in `seconds`."""
    return 2.0 * size**3 * multiplies / seconds / 1e12


def _run_for(
    backend: Backend,
    multiplies: list[Callable[[], None]],
    seconds: float,
    clock: Callable[[], float],
) -> tuple[int, float]:
    """Batches on every device until `seconds` have passed: (multiplies per device, seconds)."""
    for device in range(len(multiplies)):
        backend.synchronise(device)
    start, done = clock(), 0
    while True:
        for multiply in multiplies:
            for _ in range(BATCH):
                multiply()
        for device in range(len(multiplies)):
            backend.synchronise(device)
        done += BATCH
        elapsed = clock() - start
        if elapsed >= seconds:
            return done, elapsed


def time_gemm(
    backend: Backend,
    precision: str,
    size: int,
    seconds: float,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """TFLOPS of all devices together at one precision, after a warm-up of a quarter as long."""
    multiplies = [backend.prepare(d, precision, size) for d in range(backend.devices())]
    _run_for(backend, multiplies, seconds / 4, clock)
    done, elapsed = _run_for(backend, multiplies, seconds, clock)
    return gemm_tflops(size, done, elapsed) * len(multiplies)


@dataclass(frozen=True)
class Measurement:
    method: str
    devices: int
    tflops: dict[str, float]  # precision -> whole machine
    failed: dict[str, str]  # precision -> why it could not be measured
    measured_at: datetime
    seconds: float

    def as_facts(self) -> dict[str, Any]:
        facts: dict[str, Any] = {
            "method": self.method,
            "devices": self.devices,
            "tflops": {p: round(v, 3) for p, v in self.tflops.items()},
            "measured_at": self.measured_at.isoformat(),
            "seconds": round(self.seconds, 3),
        }
        if self.failed:
            facts["failed"] = self.failed
        if not self.tflops:
            facts["error"] = "no precision could be measured"
        return facts


def measure(
    backend: Backend, size: int, seconds: float, clock: Callable[[], float] = time.perf_counter
) -> Measurement:
    """Every precision the backend supports, all devices at once."""
    started = clock()
    tflops, failed = {}, {}
    for precision in backend.precisions():
        try:
            tflops[precision] = time_gemm(backend, precision, size, seconds, clock)
        except Exception as exc:  # one precision's failure leaves the others' figures
            failed[precision] = f"{type(exc).__name__}: {exc}"[:200]
    return Measurement(
        method=f"{backend.name} gemm {size}",
        devices=backend.devices(),
        tflops=tflops,
        failed=failed,
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
        out = self.torch.empty(size, size, dtype=dtype, device=where)
        return lambda: self.torch.matmul(a, b, out=out)

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


def machine_throughput(has_gpus: bool, seconds: float = 5.0) -> dict[str, Any]:
    """The `throughput` facts of this machine: a measurement, or `{"error": why}`."""
    try:
        torch = _torch_cuda()
        if torch is not None:
            return measure(torch, size=8192, seconds=seconds).as_facts()
        if has_gpus:
            return {"error": "not measured: PyTorch with CUDA is not installed on this machine"}
        return measure(NumpyCpu(), size=1024, seconds=seconds / 5).as_facts()
    except Exception as exc:  # a failed benchmark must never stop the agent
        return {"error": f"benchmark failed: {type(exc).__name__}: {exc}"[:300]}


def throughput_facts() -> dict[str, Any]:
    """This machine's `throughput` facts, or `{"retry": true, ...}` when its GPUs are in use
    (by anything: the owner's own work too) and it should be measured later."""
    gpus = query_gpus()
    busy = max((g.utilization_pct or 0.0 for g in gpus), default=0.0)
    if busy > BUSY_PCT:
        return {"retry": True, "error": f"GPUs in use ({busy:.0f} % busy): measuring later"}
    return machine_throughput(has_gpus=bool(gpus))


def main() -> None:
    sys.stdout.buffer.write(orjson.dumps(throughput_facts()) + b"\n")


if __name__ == "__main__":
    main()

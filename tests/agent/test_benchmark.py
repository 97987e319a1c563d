"""The node agent's throughput benchmark: the GEMM arithmetic, the timing loop over a backend,
and a real measurement of this machine's CPU through NumPy."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

import pytest

from gp4u.agent import benchmark
from gp4u.agent.benchmark import NumpyCpu, gemm_tflops, machine_throughput, measure, time_gemm


def test_a_gemm_of_side_n_is_two_n_cubed_operations() -> None:
    assert gemm_tflops(1000, 1, 1.0) == pytest.approx(2e-3)
    assert gemm_tflops(8192, 20, 2.0) == pytest.approx(2 * 8192**3 * 20 / 2 / 1e12)


class CountingBackend:
    """Two devices; every multiply and synchronise is recorded, and the clock advances 0.5 s
    per multiply of device 0 and 1 s per multiply of device 1."""

    name = "counting"

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str]] = []
        self.now = 0.0

    def devices(self) -> int:
        return 2

    def precisions(self) -> tuple[str, ...]:
        return ("bf16", "fp32")

    def prepare(self, device: int, precision: str, size: int) -> Callable[[], None]:
        def multiply() -> None:
            self.calls.append(("mm", device, precision))
            self.now += 0.5 * (device + 1)

        return multiply

    def synchronise(self, device: int) -> None:
        self.calls.append(("sync", device, ""))


def test_the_timing_loop_warms_up_then_times_the_repeats_between_synchronisations() -> None:
    backend = CountingBackend()
    tflops = time_gemm(backend, 1, "bf16", 1000, 4, clock=lambda: backend.now)
    assert backend.calls == [("mm", 1, "bf16")] * 2 + [("sync", 1, "")] + [
        ("mm", 1, "bf16")
    ] * 4 + [("sync", 1, "")]
    assert tflops == pytest.approx(gemm_tflops(1000, 4, 4.0))


def test_a_measurement_sums_every_device_per_precision() -> None:
    backend = CountingBackend()
    result = measure(backend, size=1000, repeats=2, clock=lambda: backend.now)
    one = gemm_tflops(1000, 2, 1.0) + gemm_tflops(1000, 2, 2.0)  # device 0 + device 1
    assert result.tflops == {"bf16": pytest.approx(one), "fp32": pytest.approx(one)}
    assert result.devices == 2 and result.method == "counting gemm 1000x1000"
    facts = result.as_facts()
    assert set(facts) == {"method", "devices", "tflops", "measured_at", "seconds"}
    datetime.fromisoformat(facts["measured_at"])


def test_numpy_measures_this_cpu_for_real() -> None:
    result = measure(NumpyCpu(), size=256, repeats=3)
    assert list(result.tflops) == ["fp32"]
    assert math.isfinite(result.tflops["fp32"]) and 0 < result.tflops["fp32"] < 100


def test_a_gpu_machine_without_pytorch_is_not_measured_and_says_why() -> None:
    # PyTorch is not installed here: a machine with GPUs must not report its CPU's speed.
    assert machine_throughput(has_gpus=True) == {
        "error": "not measured: PyTorch with CUDA is not installed on this machine"
    }
    facts = machine_throughput(has_gpus=False)
    assert facts["method"] == "numpy-cpu gemm 1024x1024" and facts["tflops"]["fp32"] > 0


def test_a_crashing_benchmark_becomes_an_error_not_an_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken() -> None:
        raise RuntimeError("driver mismatch")

    monkeypatch.setattr(benchmark, "_torch_cuda", broken)
    assert machine_throughput(has_gpus=True) == {
        "error": "benchmark failed: RuntimeError: driver mismatch"
    }

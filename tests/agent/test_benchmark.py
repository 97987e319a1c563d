"""The node agent's throughput benchmark: the GEMM arithmetic, the timed loop over all devices
at once, a precision that fails, the busy-GPU deferral, and a real run of the module as the
host agent starts it (NumPy on this machine's CPU)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable

import pytest

from gp4u.agent import benchmark
from gp4u.agent.benchmark import BATCH, gemm_tflops, machine_throughput, measure, time_gemm
from gp4u.agent.facts import Gpu


def test_a_gemm_of_side_n_is_two_n_cubed_operations() -> None:
    assert gemm_tflops(1000, 1, 1.0) == pytest.approx(2e-3)
    assert gemm_tflops(8192, 20, 2.0) == pytest.approx(2 * 8192**3 * 20 / 2 / 1e12)


class FakeDevices:
    """Two devices on a fake clock: a batch on device 0 takes 1 s, on device 1 2 s, and they
    run side by side, so a synchronisation waits for the slower. `broken` precisions fail."""

    name = "fake"

    def __init__(self, broken: tuple[str, ...] = ()) -> None:
        self.now = 0.0
        self.queued = [0.0, 0.0]  # seconds of work queued per device since the last sync
        self.calls: list[tuple[str, int]] = []
        self.broken = broken

    def devices(self) -> int:
        return 2

    def precisions(self) -> tuple[str, ...]:
        return ("bf16", "fp32")

    def prepare(self, device: int, precision: str, size: int) -> Callable[[], None]:
        if precision in self.broken:
            raise RuntimeError(f"{precision} is not supported")

        def multiply() -> None:
            self.calls.append(("mm", device))
            self.queued[device] += (device + 1) / BATCH

        return multiply

    def synchronise(self, device: int) -> None:
        self.calls.append(("sync", device))
        self.now += max(self.queued)
        self.queued = [0.0, 0.0]


def test_all_devices_work_at_once_and_the_slowest_sets_the_pace() -> None:
    devices = FakeDevices()
    tflops = time_gemm(devices, "bf16", 1000, seconds=3.0, clock=lambda: devices.now)
    # Warm-up: one 2 s round covers its 0.75 s; then two rounds of 2 s cover the 3 s.
    assert devices.calls.count(("mm", 0)) == devices.calls.count(("mm", 1)) == 3 * BATCH
    assert tflops == pytest.approx(2 * gemm_tflops(1000, 2 * BATCH, 4.0))


def test_a_precision_that_fails_is_left_out_and_the_others_count() -> None:
    devices = FakeDevices(broken=("bf16",))
    result = measure(devices, size=1000, seconds=4.0, clock=lambda: devices.now)
    assert list(result.tflops) == ["fp32"] and result.devices == 2
    facts = result.as_facts()
    assert facts["failed"] == {"bf16": "RuntimeError: bf16 is not supported"}
    assert "error" not in facts and facts["method"] == "fake gemm 1000"
    nothing = measure(FakeDevices(broken=("bf16", "fp32")), size=10, seconds=1.0)
    assert nothing.as_facts()["error"] == "no precision could be measured"


def test_a_gpu_machine_without_pytorch_is_not_measured_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(benchmark, "_torch_cuda", lambda: None)
    assert machine_throughput(has_gpus=True) == {
        "error": "not measured: PyTorch with CUDA is not installed on this machine"
    }


def test_a_crashing_benchmark_becomes_an_error_not_an_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken() -> None:
        raise RuntimeError("driver mismatch")

    monkeypatch.setattr(benchmark, "_torch_cuda", broken)
    assert machine_throughput(has_gpus=True) == {
        "error": "benchmark failed: RuntimeError: driver mismatch"
    }


def test_busy_gpus_are_measured_later(monkeypatch: pytest.MonkeyPatch) -> None:
    busy = Gpu("NVIDIA H100 80GB HBM3", 80.0, "550.54", 87.0, 61.0)
    monkeypatch.setattr(benchmark, "query_gpus", lambda: [busy])
    assert benchmark.throughput_facts() == {
        "retry": True,
        "error": "GPUs in use (87 % busy): measuring later",
    }


def test_the_module_prints_this_machines_measurement_as_the_agent_reads_it() -> None:
    # No GPUs and no PyTorch here: NumPy measures the CPU for real.
    done = subprocess.run(
        [sys.executable, "-m", "gp4u.agent.benchmark"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    facts = json.loads(done.stdout)
    assert facts["method"] == "numpy-cpu gemm 1024" and facts["devices"] == 1
    assert list(facts["tflops"]) == ["fp32"] and math.isfinite(facts["tflops"]["fp32"])
    assert facts["tflops"]["fp32"] > 0 and "error" not in facts

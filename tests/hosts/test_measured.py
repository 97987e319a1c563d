"""What a host machine's agent measured, as the broker reads it: only readable figures of
machines whose GPUs match the listing count, and the owner is told why when none do."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from gp4u.clusters.throughput import HEALTHY_GEMM_SHARE, efficiency_of, gpu_pflops, with_measured
from gp4u.hosts import gpucheck
from gp4u.hosts.measured import measured_tflops, throughput_view


def facts(throughput: Any) -> dict[str, Any]:
    if isinstance(throughput, dict):
        throughput.setdefault("devices", 1)
    return {"gpus": [], "throughput": throughput}


def test_readable_figures_of_a_matching_machine_count() -> None:
    measured = facts({"method": "torch-cuda gemm 8192", "tflops": {"bf16": 150, "fp32": 80.5}})
    assert measured_tflops(measured, gpucheck.OK, 1) == {"bf16": 150.0, "fp32": 80.5}
    view = throughput_view(measured, gpucheck.OK, 1)
    assert view["tflops"] == {"bf16": 150.0, "fp32": 80.5} and view["note"] is None
    assert view["method"] == "torch-cuda gemm 8192"


def test_figures_are_for_the_listed_gpus_and_need_every_one_measured() -> None:
    eight = facts({"devices": 8, "tflops": {"bf16": 800}})
    assert measured_tflops(eight, gpucheck.OK, 4) == {"bf16": 400.0}  # 4 of 8 listed
    assert measured_tflops(eight, gpucheck.OK, 8) == {"bf16": 800.0}
    two = facts({"devices": 2, "tflops": {"bf16": 200}})  # CUDA_VISIBLE_DEVICES hid six
    assert measured_tflops(two, gpucheck.OK, 8) == {}
    assert (
        throughput_view(two, gpucheck.OK, 8)["note"] == "the agent measured 2 of the 8 listed GPUs"
    )
    for devices in (None, "8", True, 0):
        assert measured_tflops(facts({"devices": devices, "tflops": {"bf16": 1}}), "ok", 1) == {}


def test_what_the_owner_sees_is_plain_text_whatever_the_agent_sent() -> None:
    odd = facts({"tflops": {"bf16": 150}, "method": {"x": 1}, "measured_at": 5})
    view = throughput_view(odd, gpucheck.OK, 1)
    assert view["tflops"] == {"bf16": 150.0}
    assert view["method"] is None and view["measured_at"] is None


@pytest.mark.parametrize(
    "figures",
    [
        {"bf16": -1},
        {"bf16": 0},
        {"bf16": "150"},
        {"bf16": True},
        {"bf16": math.inf},
        {"bf16": math.nan},
        {"bf16": 1e9},
        {"int8": 600},
        [150],
        None,
    ],
)
def test_unreadable_figures_are_dropped(figures: Any) -> None:
    assert measured_tflops(facts({"tflops": figures}), gpucheck.OK, 1) == {}
    assert throughput_view(facts({"tflops": figures}), gpucheck.OK, 1)["note"] == (
        "the agent's figures were unreadable"
    )


def test_a_machine_whose_gpus_do_not_match_its_listing_has_no_measured_speed() -> None:
    measured = facts({"tflops": {"bf16": 150}})
    for check in (gpucheck.MISMATCH, gpucheck.NO_GPUS, None):
        assert measured_tflops(measured, check, 1) == {}
    assert throughput_view(measured, gpucheck.MISMATCH, 1)["note"] == (
        "not used until the agent's GPUs match the listing"
    )


def test_the_owner_sees_why_nothing_was_measured() -> None:
    assert throughput_view({"gpus": []}, gpucheck.OK, 1)["note"] == (
        "the agent has not measured this machine yet"
    )
    error = facts({"error": "not measured: PyTorch with CUDA is not installed on this machine"})
    assert throughput_view(error, gpucheck.OK, 1) == {
        "tflops": None,
        "measured_at": None,
        "method": None,
        "note": "not measured: PyTorch with CUDA is not installed on this machine",
    }


def test_a_measured_speed_lowers_the_spec_never_raises_it_nor_stands_in_for_a_missing_one() -> None:
    spec = gpu_pflops("RTX4090", None, 24.0, "bf16")
    efficiency = efficiency_of("RTX4090")
    healthy = spec * 1000 / efficiency * HEALTHY_GEMM_SHARE["bf16"]  # what a healthy one measures
    pflops, used = with_measured(
        np.array([spec, spec, spec, np.nan, np.nan]),
        np.array([healthy / 2, healthy * 3, np.nan, 100.0, np.nan]),
        np.full(5, efficiency),
        "bf16",
    )
    assert pflops[:3] == pytest.approx([spec / 2, spec, spec])
    assert math.isnan(pflops[3]) and math.isnan(pflops[4])  # no BF16 figure: unusable
    assert used.tolist() == [True, False, False, False, False]

"""From a parsed request to the planner's requirement: compute, memory, GPUs per machine, money
in micro-USD, defaults, and refusals that name what is missing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gp4u.clusters.requirements import DEFAULT_MAX_MACHINES, Compute, Placement
from gp4u.clusters.throughput import compute_from_gpu_hours
from gp4u.wizard.parser import ParsedRequest, parse
from gp4u.wizard.requirement import to_requirement
from gp4u.wizard.workloads import Workload, WorkloadKind, estimate

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # a Wednesday


def test_lora_request_becomes_a_requirement() -> None:
    parsed = parse("fine-tune llama 3 70B with LoRA on 200M tokens in 2 days under $1500", NOW)
    requirement, workload_estimate = to_requirement(parsed)
    assert workload_estimate == estimate(
        Workload(WorkloadKind.LORA_FINETUNING, model="llama-3-70b", training_tokens=200e6)
    )
    assert requirement.compute == workload_estimate.compute
    assert requirement.deadline_hours == 48.0
    assert requirement.budget_micros == 1_500_000_000
    assert requirement.min_vram_gb == workload_estimate.min_vram_gb
    assert requirement.min_gpus_per_machine == workload_estimate.min_gpus_per_machine == 4
    assert not requirement.sustained
    assert requirement.placement is Placement.ANY
    assert requirement.max_machines == DEFAULT_MAX_MACHINES
    assert requirement.spot_allowed is False


def test_explicit_pflop_hours() -> None:
    parsed = parse("5,000 PFLOP-hours of BF16, 80 GB per GPU, by Friday", NOW)
    requirement, workload_estimate = to_requirement(parsed)
    assert workload_estimate is None
    assert requirement.compute.pflop_hours == 5000.0
    assert requirement.compute.precision == "bf16"
    assert requirement.min_vram_gb == 80.0
    assert requirement.deadline_hours == 57.0
    assert requirement.min_gpus_per_machine == 1
    assert requirement.budget_micros is None


def test_gpu_hours_and_machine_constraints() -> None:
    parsed = parse(
        "1,000 H100 GPU-hours by tomorrow, $1.5k, no spot, at most 4 machines, "
        "8 GPUs per machine, same provider, reliability at least 98%",
        NOW,
    )
    requirement, _ = to_requirement(parsed, default_spot_allowed=True)
    assert requirement.compute == compute_from_gpu_hours(1000, "H100", "bf16")
    assert requirement.budget_micros == 1_500_000_000
    assert requirement.spot_allowed is False
    assert requirement.max_machines == 4
    assert requirement.min_gpus_per_machine == 8
    assert requirement.placement is Placement.SAME_PROVIDER
    assert requirement.min_reliability == 0.98
    assert requirement.deadline_hours == 33.0


def test_gpu_hours_at_the_stated_precision() -> None:
    parsed = parse("2000 gpu hours of A100 in 5 days at fp16", NOW)
    requirement, _ = to_requirement(parsed)
    assert requirement.compute == compute_from_gpu_hours(2000, "A100", "fp16")


def test_serving_is_sustained_for_its_period() -> None:
    parsed = parse("serve llama 3 70b to 100 users for 3 days, spot ok", NOW)
    requirement, workload_estimate = to_requirement(parsed)
    assert workload_estimate is not None and workload_estimate.sustained
    assert requirement.sustained
    assert requirement.deadline_hours == 72.0
    assert requirement.spot_allowed is True
    assert requirement.min_gpus_per_machine == workload_estimate.min_gpus_per_machine
    assert requirement.compute == workload_estimate.compute


def test_stated_compute_wins_and_the_workload_still_sets_memory() -> None:
    parsed = parse(
        "fine-tune llama 3 70B with LoRA on 200M tokens, 900 PFLOP-hours, in 2 days", NOW
    )
    requirement, workload_estimate = to_requirement(parsed)
    assert workload_estimate is not None
    assert requirement.compute.pflop_hours == 900.0
    assert requirement.min_vram_gb == workload_estimate.min_vram_gb
    assert requirement.min_gpus_per_machine == 4


@pytest.mark.parametrize(
    ("stated", "wins"), [("at least 80 GB per GPU", 80.0), ("16 GB VRAM", None)]
)
def test_memory_is_the_larger_of_stated_and_needed(stated: str, wins: float | None) -> None:
    parsed = parse(f"fine-tune llama 3 70B with LoRA on 200M tokens in 2 days, {stated}", NOW)
    requirement, workload_estimate = to_requirement(parsed)
    assert workload_estimate is not None
    assert requirement.min_vram_gb == (wins or workload_estimate.min_vram_gb)


def test_more_gpus_per_machine_than_needed_is_honoured() -> None:
    parsed = parse("fine-tune llama 3 8B with LoRA on 100M tokens in 2 days, 8xA100", NOW)
    requirement, workload_estimate = to_requirement(parsed)
    assert workload_estimate is not None
    assert requirement.min_gpus_per_machine == 8 == workload_estimate.min_gpus_per_machine


def test_rendering_uses_the_reference_gpu() -> None:
    parsed = parse("render 2,000 frames at 10 minutes per frame on an RTX 4090 in 2 days", NOW)
    requirement, _ = to_requirement(parsed)
    reference = compute_from_gpu_hours(2000 * 10 / 60, "RTX4090", "fp32")
    assert requirement.compute.pflop_hours == pytest.approx(reference.pflop_hours)
    assert requirement.compute.precision == "fp32"
    assert requirement.min_vram_gb == 24.0
    assert requirement.min_gpus_per_machine == 1


def test_defaults_fill_what_the_request_leaves_out() -> None:
    parsed = parse("5,000 PFLOP-hours", NOW)
    requirement, _ = to_requirement(
        parsed, default_precision="fp16", default_deadline_hours=24.0, default_max_machines=6
    )
    assert requirement.compute.precision == "fp16"
    assert requirement.deadline_hours == 24.0
    assert requirement.max_machines == 6


def test_no_compute_is_refused_naming_what_is_missing() -> None:
    parsed = parse("fine-tune gpt-7 on 1B tokens in 3 days", NOW)
    with pytest.raises(ValueError, match="no compute") as error:
        to_requirement(parsed)
    assert "the model" in str(error.value)


def test_no_deadline_is_refused() -> None:
    parsed = parse("fine-tune llama 3 8B with LoRA on 100M tokens", NOW)
    with pytest.raises(ValueError, match="no deadline"):
        to_requirement(parsed)


def test_gpu_hours_without_a_gpu_are_refused() -> None:
    parsed = parse("1,000 GPU-hours in 2 days", NOW)
    assert any("GPU-hours are counted on" in m for m in parsed.missing)
    with pytest.raises(ValueError, match="GPU-hours"):
        to_requirement(parsed)


def test_a_hand_built_request() -> None:
    """The service layer may build a ParsedRequest from a form as well as from text."""
    parsed = ParsedRequest(text="", pflop_hours=10.0, precision="fp32", deadline_hours=5.0)
    requirement, workload_estimate = to_requirement(parsed)
    assert workload_estimate is None
    assert requirement.compute == Compute(10.0, "fp32", "10 PFLOP-hours of FP32, as stated")
    assert requirement.deadline_hours == 5.0


def test_a_job_sharded_over_machines_refuses_a_lower_cap() -> None:
    parsed = parse("pretrain llama 3.1 405B on 1B tokens in 3 days, at most 4 machines", NOW)
    with pytest.raises(ValueError, match=r"at least \d+ machines"):
        to_requirement(parsed)
    single = parse("pretrain llama 3.1 405B on 1B tokens in 3 days on a single machine", NOW)
    with pytest.raises(ValueError, match="at most 1 are allowed"):
        to_requirement(single)
    requirement, workload_estimate = to_requirement(
        parse("pretrain llama 3.1 405B on 1B tokens in 3 days", NOW)
    )
    assert workload_estimate is not None and workload_estimate.min_machines > 4
    assert requirement.min_vram_gb <= 80
    assert requirement.min_gpus_per_machine == 8

"""The plain-language parser: phrasings that must be understood (every field checked), and
phrasings whose parts must be reported as not understood, with nothing invented."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from gp4u.clusters.requirements import Placement
from gp4u.wizard.parser import ParsedRequest, parse
from gp4u.wizard.workloads import Workload, WorkloadKind

K = WorkloadKind
NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # a Wednesday, 15:00 UTC
FIELDS = (
    "workload", "kind", "pflop_hours", "precision", "gpu_hours", "reference_gpu",
    "deadline_hours", "budget_usd", "spot_allowed", "min_reliability", "placement",
    "max_machines", "min_vram_gb", "gpus_per_machine", "gpu_model",
)  # fmt: skip


def hours_until_end_of(day: str) -> float:
    end = datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(days=1)
    return (end - NOW).total_seconds() / 3600


def assert_fields(parsed: ParsedRequest, **expected: object) -> None:
    """Every field as expected; the ones not named must be None."""
    for name in FIELDS:
        assert getattr(parsed, name) == expected.get(name), name


def assert_fully_understood(parsed: ParsedRequest) -> None:
    assert parsed.not_understood == []
    assert parsed.missing == []


def spans(parsed: ParsedRequest) -> dict[str, str]:
    return {u.text: u.field for u in parsed.understood}


# ---- the issue's phrasings ----


def test_issue_lora_phrasing() -> None:
    p = parse("fine-tune llama 3 70B with LoRA on 200M tokens in 2 days under $1500", NOW)
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(K.LORA_FINETUNING, model="llama-3-70b", training_tokens=200e6),
        kind=K.LORA_FINETUNING,
        deadline_hours=48.0,
        budget_usd=Decimal(1500),
    )
    assert spans(p) == {
        "fine-tune": "kind",
        "llama 3 70B": "model",
        "LoRA": "kind",
        "200M tokens": "training_tokens",
        "in 2 days": "deadline_hours",
        "under $1500": "budget_usd",
    }
    meaning = {u.text: u.meaning for u in p.understood}
    assert "70.6B parameters" in meaning["llama 3 70B"]
    assert "200 million tokens" in meaning["200M tokens"]


def test_issue_bare_size_phrasing() -> None:
    p = parse("fine-tune a 70B model on 2B tokens within 48 hours, at most $4,000", NOW)
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(K.FULL_FINETUNING, params_billion=70.0, training_tokens=2e9),
        kind=K.FULL_FINETUNING,
        deadline_hours=48.0,
        budget_usd=Decimal(4000),
    )
    assert spans(p)["70B model"] == "params_billion"


def test_issue_explicit_compute_phrasing() -> None:
    """ "By Friday" on a Wednesday at 15:00 UTC: the end of Friday, 57 hours later."""
    p = parse("5,000 PFLOP-hours of BF16, 80 GB per GPU, by Friday", NOW)
    assert_fully_understood(p)
    assert_fields(p, pflop_hours=5000.0, precision="bf16", min_vram_gb=80.0, deadline_hours=57.0)
    assert "2026-03-06" in next(u.meaning for u in p.understood if u.text == "by Friday")


# ---- more phrasings that must be understood ----


def test_serving_with_constraints() -> None:
    p = parse(
        "serve llama 3 8b to 200 concurrent users for 3 days, spot ok, reliability >= 99%, "
        "same region",
        NOW,
    )
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(
            K.INFERENCE_SERVING, model="llama-3-8b", concurrent_users=200, serving_hours=72.0
        ),
        kind=K.INFERENCE_SERVING,
        deadline_hours=72.0,
        spot_allowed=True,
        min_reliability=0.99,
        placement=Placement.SAME_REGION,
    )


def test_rendering() -> None:
    p = parse(
        "render 2,000 frames at 10 minutes per frame on an RTX 4090 by 2026-03-20, budget 2k",
        NOW,
    )
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(
            K.BATCH_RENDERING, frames=2000, minutes_per_frame=10.0, reference_gpu="RTX4090"
        ),
        kind=K.BATCH_RENDERING,
        reference_gpu="RTX4090",
        gpu_model="RTX4090",
        deadline_hours=hours_until_end_of("2026-03-20"),
        budget_usd=Decimal(2000),
    )


def test_rendering_seconds_per_frame_and_scene_memory() -> None:
    p = parse("render 600 frames at 30 s/frame on an A40 in 1 day, 20 GB VRAM", NOW)
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(
            K.BATCH_RENDERING,
            frames=600,
            minutes_per_frame=0.5,
            reference_gpu="A40",
            scene_vram_gb=20.0,
        ),
        kind=K.BATCH_RENDERING,
        reference_gpu="A40",
        gpu_model="A40",
        deadline_hours=24.0,
        min_vram_gb=20.0,
    )


def test_image_training_by_images_and_epochs() -> None:
    p = parse("train SDXL on 10M images for 2 epochs at 1024px within a week", NOW)
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(K.IMAGE_TRAINING, model="sdxl", images=10e6, epochs=2.0, resolution=1024),
        kind=K.IMAGE_TRAINING,
        deadline_hours=168.0,
    )


def test_image_training_by_steps_and_batch() -> None:
    p = parse("train stable diffusion 1.5 for 100k steps at batch 256 at 512px in 5 days", NOW)
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(
            K.IMAGE_TRAINING,
            model="stable-diffusion-1.5",
            steps=100_000,
            batch_size=256,
            resolution=512,
        ),
        kind=K.IMAGE_TRAINING,
        deadline_hours=120.0,
    )


def test_gpu_hours_with_machine_constraints() -> None:
    p = parse(
        "1,000 H100 GPU-hours by tomorrow, $1.5k, no spot, at most 4 machines, 8 GPUs per machine",
        NOW,
    )
    assert_fully_understood(p)
    assert_fields(
        p,
        gpu_hours=1000.0,
        reference_gpu="H100",
        deadline_hours=33.0,
        budget_usd=Decimal("1500"),
        spot_allowed=False,
        max_machines=4,
        gpus_per_machine=8,
    )


def test_gpu_hours_of_a_named_gpu() -> None:
    p = parse("2000 gpu hours of A100 in 5 days", NOW)
    assert_fully_understood(p)
    assert_fields(p, gpu_hours=2000.0, reference_gpu="A100", deadline_hours=120.0)


def test_qlora_with_rank_and_single_machine() -> None:
    p = parse("qlora llama 2 13b on 50M tokens, rank 64, in 12 hours on one machine", NOW)
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(
            K.LORA_FINETUNING,
            model="llama-2-13b",
            training_tokens=50e6,
            weight_bits=4,
            lora_rank=64,
        ),
        kind=K.LORA_FINETUNING,
        deadline_hours=12.0,
        placement=Placement.SINGLE_MACHINE,
    )


def test_moe_serving_with_machine_shape() -> None:
    """ "8xH100" is 8 GPUs per machine; the GPU model is not a constraint and a remark says so."""
    p = parse("serve mixtral 8x7b at 500 tokens/s for 2 weeks, at least 48GB per GPU, 8xH100", NOW)
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(
            K.INFERENCE_SERVING,
            model="mixtral-8x7b",
            tokens_per_second=500.0,
            serving_hours=336.0,
            gpus_per_machine=8,
        ),
        kind=K.INFERENCE_SERVING,
        deadline_hours=336.0,
        min_vram_gb=48.0,
        gpus_per_machine=8,
        gpu_model="H100",
    )
    assert any("H100 is not a constraint" in r for r in p.remarks)


def test_gpu_with_memory_sets_memory_per_gpu() -> None:
    p = parse(
        "Serve Llama 3 70B Instruct to 100 users for 3 days on 4x A100 80GB, 99.5% uptime", NOW
    )
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(
            K.INFERENCE_SERVING,
            model="llama-3-70b",
            concurrent_users=100,
            serving_hours=72.0,
            gpus_per_machine=4,
        ),
        kind=K.INFERENCE_SERVING,
        deadline_hours=72.0,
        min_reliability=0.995,
        gpus_per_machine=4,
        gpu_model="A100",
        min_vram_gb=80.0,
    )


def test_quantised_serving_by_a_month_day() -> None:
    p = parse("serve qwen 2.5 72b to 50 users by Dec 24, 4-bit", NOW)
    assert_fully_understood(p)
    hours = hours_until_end_of("2026-12-24")
    assert_fields(
        p,
        workload=Workload(
            K.INFERENCE_SERVING,
            model="qwen-2.5-72b",
            concurrent_users=50,
            weight_bits=4,
            serving_hours=hours,
        ),
        kind=K.INFERENCE_SERVING,
        deadline_hours=hours,
    )


def test_serving_rate_users_context_and_machines() -> None:
    p = parse(
        "serve Falcon 40B at 1,000 tok/s and 40 concurrent users for 1 week, "
        "no more than 8 machines, 8k context",
        NOW,
    )
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(
            K.INFERENCE_SERVING,
            model="falcon-40b",
            tokens_per_second=1000.0,
            concurrent_users=40,
            context_length=8192,
            serving_hours=168.0,
        ),
        kind=K.INFERENCE_SERVING,
        deadline_hours=168.0,
        max_machines=8,
    )


def test_big_finetune_with_every_constraint() -> None:
    p = parse(
        "fine-tune llama 3.1 405b on 100M tokens in 3 days, budget of $20,000, reliability at "
        "least 95 %, same provider, at most two nodes",
        NOW,
    )
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(K.FULL_FINETUNING, model="llama-3.1-405b", training_tokens=100e6),
        kind=K.FULL_FINETUNING,
        deadline_hours=72.0,
        budget_usd=Decimal(20000),
        min_reliability=0.95,
        placement=Placement.SAME_PROVIDER,
        max_machines=2,
    )


def test_precision_and_micro_batch() -> None:
    p = parse("fine-tune gemma 2 9b on 300M tokens in 2 days at fp32 with micro-batch 4", NOW)
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(
            K.FULL_FINETUNING,
            model="gemma-2-9b",
            training_tokens=300e6,
            precision="fp32",
            micro_batch=4,
        ),
        kind=K.FULL_FINETUNING,
        precision="fp32",
        deadline_hours=48.0,
    )


def test_pretraining_a_sized_model() -> None:
    p = parse(
        "pretrain a 1.5 billion parameter model on 30B tokens with a sequence length of 2048 "
        "within 10 days, spot instances are fine",
        NOW,
    )
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(
            K.LLM_PRETRAINING, params_billion=1.5, training_tokens=30e9, sequence_length=2048
        ),
        kind=K.LLM_PRETRAINING,
        deadline_hours=240.0,
        spot_allowed=True,
    )


def test_pretraining_with_hyphenated_name_and_millions() -> None:
    p = parse("Pre-train Llama-3-8B on 15T tokens by 2026-06-30 under $2M, single machine", NOW)
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(K.LLM_PRETRAINING, model="llama-3-8b", training_tokens=15e12),
        kind=K.LLM_PRETRAINING,
        deadline_hours=hours_until_end_of("2026-06-30"),
        budget_usd=Decimal(2_000_000),
        placement=Placement.SINGLE_MACHINE,
    )


def test_epochs_weekday_and_model_suffix() -> None:
    p = parse(
        "fine-tune mistral-7b-instruct on 250M tokens for 2 epochs by Sunday, max $300, "
        "spot allowed",
        NOW,
    )
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(K.FULL_FINETUNING, model="mistral-7b", training_tokens=250e6, epochs=2.0),
        kind=K.FULL_FINETUNING,
        deadline_hours=hours_until_end_of("2026-03-08"),
        budget_usd=Decimal(300),
        spot_allowed=True,
    )


def test_gpt2_lora() -> None:
    p = parse("LoRA fine-tune gpt-2 on 10M tokens in 6 hours", NOW)
    assert_fully_understood(p)
    assert_fields(
        p,
        workload=Workload(K.LORA_FINETUNING, model="gpt-2-xl", training_tokens=10e6),
        kind=K.LORA_FINETUNING,
        deadline_hours=6.0,
    )


def test_by_weekday_on_that_weekday_means_today() -> None:
    friday_morning = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    p = parse("5,000 PFLOP-hours by Friday", friday_morning)
    assert p.deadline_hours == 15.0


def test_placements_combine_to_the_strictest() -> None:
    p = parse("fine-tune llama 3 8B on 100M tokens in 2 days, same provider and same region", NOW)
    assert_fully_understood(p)
    assert p.placement is Placement.SAME_REGION
    assert any("strictest" in r for r in p.remarks)


def test_train_alone_is_pretraining_with_a_remark() -> None:
    p = parse("train a 350M-parameter model on 7B tokens in 3 days", NOW)
    assert_fully_understood(p)
    assert p.workload == Workload(K.LLM_PRETRAINING, params_billion=0.35, training_tokens=7e9)
    assert any("'train' read as LLM pre-training" in r for r in p.remarks)


def test_parse_is_deterministic_and_needs_an_aware_clock() -> None:
    text = "fine-tune llama 3 70B with LoRA on 200M tokens in 2 days under $1500"
    assert parse(text, NOW) == parse(text, NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        parse(text, datetime(2026, 3, 4, 15, 0))


# ---- phrasings that must be reported, with nothing invented ----


def test_unknown_model_name_is_reported_and_no_size_invented() -> None:
    p = parse("fine-tune gpt-7 on 1B tokens in 3 days", NOW)
    assert p.not_understood == ["gpt-7"]
    assert p.workload is None
    assert "params_billion" not in {u.field for u in p.understood}
    assert any("the model" in m for m in p.missing)
    assert p.kind is K.FULL_FINETUNING and p.deadline_hours == 72.0


@pytest.mark.parametrize(
    ("text", "fragment", "reason"),
    [
        ("fine-tune llama 70b on 1B tokens in 2 days", "llama 70b", "which Llama version"),
        ("fine-tune llama 5 70b on 1B tokens in 2 days", "llama 5 70b", "not a model"),
        ("fine-tune qwen 72b on 1B tokens in 2 days", "qwen 72b", "which Qwen version"),
        ("fine-tune llama 3 13b on 1B tokens in 2 days", "llama 3 13b", "not a model"),
    ],
)
def test_unknown_or_ambiguous_versions_are_reported(text: str, fragment: str, reason: str) -> None:
    p = parse(text, NOW)
    assert p.not_understood == [fragment]
    assert any(reason in r for r in p.remarks)
    assert p.workload is None
    assert "model" not in {u.field for u in p.understood}
    assert "params_billion" not in {u.field for u in p.understood}


def test_data_in_gigabytes_is_not_memory_and_vague_speed_is_reported() -> None:
    p = parse("train a model on 500 GB of text as fast as possible", NOW)
    assert p.not_understood == ["500 GB of text as fast as possible"]
    assert p.min_vram_gb is None
    assert p.workload is None


def test_bare_millions_are_ambiguous() -> None:
    p = parse("run 200M on llama 3 8b", NOW)
    assert p.not_understood == ["200M"]
    assert p.workload is None and p.kind is None
    assert any("a workload" in m for m in p.missing)


def test_bare_spot_is_ambiguous() -> None:
    p = parse("fine-tune mistral 7b on 200M tokens in 2 days, spot", NOW)
    assert p.not_understood == ["spot"]
    assert p.spot_allowed is None


def test_next_weekday_is_ambiguous() -> None:
    p = parse("pretrain a 7B model on 1T tokens with 8k context by next Friday", NOW)
    assert p.not_understood == ["by next Friday"]
    assert p.deadline_hours is None
    assert any("deadline" in m for m in p.missing)


def test_money_without_a_currency_and_gpus_without_per_machine() -> None:
    p = parse(
        "fine-tune llama 3 70B on 200M tokens in 2 days under 1500, with 8 H100s and 80GB", NOW
    )
    assert p.not_understood == ["under 1500", "8 H100s and 80GB"]
    assert p.budget_usd is None
    assert p.gpus_per_machine is None and p.min_vram_gb is None and p.gpu_model is None


def test_gpu_without_a_family_name_is_reported() -> None:
    p = parse("render 500 frames at 30 s/frame on a 4090 in 1 day", NOW)
    assert p.not_understood == ["4090"]
    assert p.workload is None
    assert any("the GPU the frame time was measured on" in m for m in p.missing)


def test_two_workloads_at_once_are_refused() -> None:
    for text in (
        "fine-tune and serve llama 3 8b on 1B tokens in 2 days",
        "fine-tune llama 3 8B on 100M tokens with 200 users in 2 days",
    ):
        p = parse(text, NOW)
        assert p.workload is None and p.kind is None
        assert any("one workload at a time" in m for m in p.missing)


def test_unsupported_precision_is_reported() -> None:
    p = parse("serve llama 3 8b at fp8 for 2 days to 10 users", NOW)
    assert p.not_understood == ["fp8"]
    assert p.workload is not None and p.workload.weight_bits is None


def test_a_bare_duration_is_not_a_deadline() -> None:
    p = parse("fine-tune a 7B model on 100M tokens, 3 days", NOW)
    assert p.not_understood == ["3 days"]
    assert p.deadline_hours is None


@pytest.mark.parametrize(
    ("date_text", "reason"),
    [("by 2026-02-30", "not a calendar date"), ("by 2026-01-01", "already passed")],
)
def test_impossible_or_past_dates_are_reported(date_text: str, reason: str) -> None:
    p = parse(f"fine-tune a 7B model on 100M tokens {date_text}", NOW)
    assert p.not_understood == [date_text]
    assert p.deadline_hours is None
    assert any(reason in r for r in p.remarks)


def test_contradicting_values_are_both_reported() -> None:
    p = parse("fine-tune a 7B model on 100M tokens in 2 days or in 3 days, $300 budget $500", NOW)
    assert p.deadline_hours is None and p.budget_usd is None
    assert p.not_understood == ["in 2 days", "in 3 days", "$300", "budget $500"]
    assert sum("neither is used" in r for r in p.remarks) == 4
    assert any("deadline" in m for m in p.missing)


def test_fields_the_workload_does_not_use_are_reported() -> None:
    p = parse("serve llama 3 8b to 10 users for 2 days on 5M tokens", NOW)
    assert p.not_understood == ["5M tokens"]
    assert any("not used for inference serving" in r for r in p.remarks)
    assert p.workload is not None and p.workload.training_tokens is None


def test_lora_of_an_image_model_is_not_in_the_catalog() -> None:
    p = parse("LoRA fine-tune SDXL on 5k images in 2 days", NOW)
    assert p.workload is None
    assert any("LoRA of image models" in m for m in p.missing)


def test_nf4_means_4_bit_weights() -> None:
    parsed = parse("qlora fine-tune llama 3 8B in nf4 on 10M tokens in 1 day", NOW)
    assert parsed.workload is not None and parsed.workload.weight_bits == 4
    assert "nf4" not in " ".join(parsed.not_understood).lower()

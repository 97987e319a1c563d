"""Plain-language front door: a request in words → a structured request (pure, deterministic).

`parse(text, now)` applies a fixed list of regular-expression rules, most specific first; each
match claims its span of the text and records what it meant (`Understood`), so a UI can show
"'70B' → model size 70 billion parameters" before anything is planned. Nothing is guessed: what
no rule claims and is not a filler word is returned in `not_understood`; a match that is
ambiguous or unknown (an unknown model version, "by next Friday") is claimed as not understood
with a remark, so none of its parts is read by a looser rule; two values that contradict each
other (two deadlines) are both reported and neither is used, as is a value the workload does not
use (tokens for serving); what a workload still needs is listed in `missing`, and then no
workload is built.
The rules and their handlers are in `rules`, the vocabulary and the draft they fill in `draft`;
this module runs them and assembles the result.

Conventions:
- "by <weekday>", "by tomorrow", "by 2026-12-01", "by December 1": the end of that day in UTC
  (midnight after it). A weekday is the first such day from today on (today counts); "by next
  Friday" is ambiguous and reported. "for 3 days" is a period: the deadline, and for serving the
  serving period. A month is 30 days.
- Quantities: k = thousand, M = million, B = billion, T = trillion; "8k context" is 8,192.
  "70B" (or "7B parameters", "350M-parameter model") is a model size; a bare "200M" is not.
- "8xH100" is 8 GPUs per machine; the GPU model only names the reference GPU of GPU-hours or
  frame times, it never restricts the plan (a remark says so when nothing else uses it).
- Money stays a Decimal of dollars; `requirement.to_requirement` turns it into micro-USD.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import cast

from gp4u.clusters.requirements import Placement, Precision
from gp4u.wizard.draft import (
    CONTEXT_K,
    FIELD_WORDS,
    HOURS_PER_UNIT,
    LLM_NAMES,
    MONTHS,
    PRECISION_WORDS,
    SCALES,
    WEEKDAYS,
    WORD_NUMBERS,
    Draft,
    Handler,
    Outcome,
    Reject,
    field_words,
)
from gp4u.wizard.rules import compiled_rules
from gp4u.wizard.workloads import (
    IMAGE_MODEL_PARAMS_B,
    KIND_LABELS,
    Workload,
    WorkloadKind,
)

# The public names, with the vocabulary that moved to `draft`, so it stays importable from here.
__all__ = [
    "CONTEXT_K", "FIELD_WORDS", "HOURS_PER_UNIT", "LLM_NAMES", "MONTHS", "PLACEMENT_STRICTNESS",
    "PRECISION_WORDS", "SCALES", "STOPWORDS", "TRAINING_WORDS", "USED_FIELDS", "WEEKDAYS",
    "WORD_NUMBERS", "WORKLOAD_FIELDS", "Handler", "Outcome", "ParsedRequest", "Understood", "parse"
]  # fmt: skip

# ---- the result ----


@dataclass(frozen=True)
class Understood:
    """One claimed span of the request: its exact text, what it set, and the meaning in words."""

    text: str
    field: str
    meaning: str
    start: int
    end: int


@dataclass(frozen=True)
class ParsedRequest:
    """What the request says, field by field; None where it says nothing."""

    text: str
    workload: Workload | None = None
    kind: WorkloadKind | None = None
    pflop_hours: float | None = None
    precision: Precision | None = None
    gpu_hours: float | None = None
    reference_gpu: str | None = None
    deadline_hours: float | None = None
    budget_usd: Decimal | None = None
    spot_allowed: bool | None = None
    min_reliability: float | None = None
    placement: Placement | None = None
    max_machines: int | None = None
    min_vram_gb: float | None = None
    gpus_per_machine: int | None = None
    gpu_model: str | None = None
    understood: list[Understood] = field(default_factory=list)
    not_understood: list[str] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


# ---- vocabulary ----

_FILLER = """a an the with on of for in and or to into using use via at by from as my our me i we
    us please it its is be that this these want wants need needs would like let's lets can could
    you job run running model some data dataset text corpus about around approximately roughly
    also then gpu gpus per each total just only so should must get do"""
STOPWORDS = frozenset(_FILLER.split())


# ---- parsing ----

TRAINING_WORDS = frozenset({"pretrain", "qlora", "lora", "finetune", "train"})
PLACEMENT_STRICTNESS = (Placement.SINGLE_MACHINE, Placement.SAME_REGION, Placement.SAME_PROVIDER)
_TEXT_TRAINING = {"model", "params_billion", "training_tokens", "epochs", "context", "micro_batch"}
USED_FIELDS: dict[WorkloadKind, frozenset[str]] = {
    WorkloadKind.LLM_PRETRAINING: frozenset(_TEXT_TRAINING | {"precision"}),
    WorkloadKind.FULL_FINETUNING: frozenset(_TEXT_TRAINING | {"precision"}),
    WorkloadKind.LORA_FINETUNING: frozenset(
        _TEXT_TRAINING | {"precision", "lora_rank", "weight_bits"}
    ),
    WorkloadKind.INFERENCE_SERVING: frozenset(
        {"model", "params_billion", "tokens_per_second", "concurrent_users", "context"}
        | {"weight_bits", "precision"}
    ),
    WorkloadKind.IMAGE_TRAINING: frozenset(
        {"model", "params_billion", "images", "epochs", "steps", "batch_size", "resolution"}
        | {"micro_batch", "precision"}
    ),
    WorkloadKind.BATCH_RENDERING: frozenset({"frames", "minutes_per_frame"}),
}
WORKLOAD_FIELDS = frozenset().union(*USED_FIELDS.values())


@dataclass
class _Claims:
    """Spans claimed so far, and what they meant."""

    text: str
    taken: bytearray
    understood: list[Understood] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)


def parse(text: str, now: datetime) -> ParsedRequest:
    """Read a request in words. `now` (timezone-aware) anchors relative deadlines."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    draft = Draft(now=now.astimezone(UTC))
    claims = _claim_all(text, draft)
    _drop_fields(draft.conflicts, claims, "contradicts another {}: neither is used")
    missing: list[str] = []
    kind = _resolve_kind(draft, claims, missing)
    if kind is not None:
        _drop_unused(kind, draft, claims)
    workload = _build_workload(kind, draft, missing)
    reference = _reference_gpu(kind, draft, claims, missing)
    if draft.get("deadline_hours") is None:
        missing.append("a deadline or period, e.g. 'in 2 days', 'by Friday' or 'for 3 days'")
    explicit = draft.get("pflop_hours") is not None or draft.get("gpu_hours") is not None
    if not draft.kinds and not explicit:
        missing.append(
            "a workload (pre-train, fine-tune, LoRA, serve, render, train an image model) "
            "or an amount of compute ('5,000 PFLOP-hours', '1,000 H100 GPU-hours')"
        )
    values = draft.values
    return ParsedRequest(
        text=text,
        workload=workload,
        kind=kind,
        pflop_hours=cast(float | None, values.get("pflop_hours")),
        precision=cast(Precision | None, values.get("precision")),
        gpu_hours=cast(float | None, values.get("gpu_hours")),
        reference_gpu=reference,
        deadline_hours=cast(float | None, values.get("deadline_hours")),
        budget_usd=cast(Decimal | None, values.get("budget_usd")),
        spot_allowed=cast(bool | None, values.get("spot_allowed")),
        min_reliability=cast(float | None, values.get("min_reliability")),
        placement=_placement_of(draft, claims),
        max_machines=cast(int | None, values.get("max_machines")),
        min_vram_gb=cast(float | None, values.get("min_vram_gb")),
        gpus_per_machine=cast(int | None, values.get("gpus_per_machine")),
        gpu_model=cast(str | None, values.get("gpu_model")),
        understood=sorted(claims.understood, key=lambda u: u.start),
        not_understood=[t for _, t in sorted(claims.rejected + _leftovers(claims))],
        remarks=claims.remarks,
        missing=missing,
    )


def _lowered(text: str) -> str:
    """Lower case with every character kept in place, so spans map back to the original."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _claim_all(text: str, draft: Draft) -> _Claims:
    lower = _lowered(text)
    claims = _Claims(text=text, taken=bytearray(len(text)))
    for pattern, handler in compiled_rules():
        for match in pattern.finditer(lower):
            start, end = _trimmed(lower, match.start(), match.end())
            if start >= end or any(claims.taken[start:end]):
                continue
            draft.touched = []
            try:
                outcome = handler(match, draft)
            except OverflowError:  # a number or a date beyond any float or calendar
                outcome = Reject("the number is out of range")
            if outcome is None:
                continue
            claims.taken[start:end] = b"\x01" * (end - start)
            span = text[start:end]
            if isinstance(outcome, Reject):
                claims.rejected.append((start, span))
                claims.remarks.append(f"'{span}': {outcome.reason}")
            else:
                name = draft.touched[0] if draft.touched else "kind"
                claims.understood.append(Understood(span, name, outcome, start, end))
    return claims


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _leftovers(claims: _Claims) -> list[tuple[int, str]]:
    """Unclaimed fragments that hold more than filler words, with their positions."""
    masked = "".join("\n" if t else c for c, t in zip(claims.text, claims.taken, strict=True))
    fragments: list[tuple[int, str]] = []
    for region in re.finditer(r"[^\n,;]+", masked):
        words = [
            w
            for w in re.finditer(r"\S+", region.group(0))
            if _core(w.group(0)) and _core(w.group(0)).lower() not in STOPWORDS
        ]
        if not words:
            continue
        start = region.start() + words[0].start()
        end = region.start() + words[-1].end()
        fragment = claims.text[start:end].strip(".:!?\"'()[]{}")
        fragments.append((start, fragment))
    return fragments


def _core(word: str) -> str:
    core = word.strip(".:!?\"'()[]{}")
    return core if re.search(r"\w", core) else ""


def _resolve_kind(draft: Draft, claims: _Claims, missing: list[str]) -> WorkloadKind | None:
    kinds = set(draft.kinds)
    groups = [
        name
        for name, present in (
            ("training", bool(kinds & TRAINING_WORDS) or kinds == {"image"}),
            ("serving", "serve" in kinds),
            ("rendering", "render" in kinds),
        )
        if present
    ]
    if len(groups) > 1:
        missing.append(f"one workload at a time (the request names {' and '.join(groups)})")
        return None
    if not groups:
        return None
    if groups[0] == "serving":
        return WorkloadKind.INFERENCE_SERVING
    if groups[0] == "rendering":
        return WorkloadKind.BATCH_RENDERING
    lora = bool(kinds & {"lora", "qlora"})
    if "image" in kinds or draft.get("model") in IMAGE_MODEL_PARAMS_B:
        if lora:
            missing.append("LoRA of image models is not in the workload catalog")
            return None
        return WorkloadKind.IMAGE_TRAINING
    if lora:
        return WorkloadKind.LORA_FINETUNING
    if "pretrain" in kinds:
        return WorkloadKind.LLM_PRETRAINING
    if "finetune" in kinds:
        return WorkloadKind.FULL_FINETUNING
    claims.remarks.append(
        "'train' read as LLM pre-training (every weight, on the given tokens); "
        "say 'fine-tune' or 'LoRA' otherwise"
    )
    return WorkloadKind.LLM_PRETRAINING


def _drop_unused(kind: WorkloadKind, draft: Draft, claims: _Claims) -> None:
    """Fields the workload does not use are reported, not silently kept."""
    unused = {f for f in WORKLOAD_FIELDS - USED_FIELDS[kind] if f in draft.values}
    if draft.get("pflop_hours") is not None:
        unused.discard("precision")
    for name in unused:
        draft.values.pop(name)
    _drop_fields(unused, claims, f"not used for {KIND_LABELS[kind]}")


def _drop_fields(names: set[str], claims: _Claims, reason: str) -> None:
    """Move the understood spans that set these fields to the not-understood ones."""
    kept: list[Understood] = []
    for item in claims.understood:
        if item.field in names:
            claims.rejected.append((item.start, item.text))
            claims.remarks.append(f"'{item.text}': {reason.format(field_words(item.field))}")
        else:
            kept.append(item)
    claims.understood = kept


def _needs(kind: WorkloadKind, draft: Draft) -> list[str]:
    has = draft.values.__contains__
    needs: list[str] = []
    if kind is not WorkloadKind.BATCH_RENDERING and not (has("model") or has("params_billion")):
        needs.append("the model: a known name such as 'llama 3 70B' or a size such as '70B'")
    if kind in (
        WorkloadKind.LLM_PRETRAINING,
        WorkloadKind.FULL_FINETUNING,
        WorkloadKind.LORA_FINETUNING,
    ) and not has("training_tokens"):
        needs.append("the training data in tokens, e.g. 'on 200M tokens'")
    if kind is WorkloadKind.INFERENCE_SERVING and not (
        has("tokens_per_second") or has("concurrent_users")
    ):
        needs.append("the serving load: tokens per second or concurrent users")
    if kind is WorkloadKind.IMAGE_TRAINING and not (
        has("images") or (has("steps") and has("batch_size"))
    ):
        needs.append("the training data: images (x epochs) or steps x batch size")
    if kind is WorkloadKind.BATCH_RENDERING:
        for name, words in (
            ("frames", "the number of frames"),
            ("minutes_per_frame", "the time per frame, e.g. '10 minutes per frame'"),
            ("gpu_model", "the GPU the frame time was measured on, e.g. 'on an RTX 4090'"),
        ):
            if not has(name):
                needs.append(words)
    return needs


def _build_workload(kind: WorkloadKind | None, draft: Draft, missing: list[str]) -> Workload | None:
    if kind is None:
        return None
    needs = _needs(kind, draft)
    if kind is WorkloadKind.INFERENCE_SERVING and draft.get("deadline_hours") is None:
        needs.append("the serving period, e.g. 'for 3 days'")
    if needs:
        missing.extend(needs)
        return None
    fields: dict[str, object] = {
        name: draft.values[name] for name in USED_FIELDS[kind] - {"context"} if name in draft.values
    }
    if "context" in draft.values:
        length = "context_length" if kind is WorkloadKind.INFERENCE_SERVING else "sequence_length"
        fields[length] = draft.values["context"]
    if kind is WorkloadKind.INFERENCE_SERVING:
        fields["serving_hours"] = draft.get("deadline_hours")
    if kind is WorkloadKind.BATCH_RENDERING:
        fields["reference_gpu"] = draft.get("gpu_model")
        fields["scene_vram_gb"] = draft.get("min_vram_gb")
    fields["gpus_per_machine"] = draft.get("gpus_per_machine")
    try:
        return Workload(kind=kind, **fields)  # type: ignore[arg-type]
    except ValueError as exc:
        missing.append(str(exc))
        return None


def _reference_gpu(
    kind: WorkloadKind | None, draft: Draft, claims: _Claims, missing: list[str]
) -> str | None:
    """The GPU that GPU-hours are counted on: named with them, else the GPU model named."""
    named = cast(str | None, draft.get("reference_gpu"))
    model = cast(str | None, draft.get("gpu_model"))
    if draft.get("gpu_hours") is not None:
        if named is None and model is None:
            missing.append("the GPU the GPU-hours are counted on, e.g. '1,000 H100 GPU-hours'")
        return named or model
    if kind is WorkloadKind.BATCH_RENDERING:
        return model
    if model is not None:
        claims.remarks.append(
            f"GPU model {model} is not a constraint: plans may use any GPU with enough memory "
            "(say 'at least 80 GB per GPU' to require memory)"
        )
    return None


def _placement_of(draft: Draft, claims: _Claims) -> Placement | None:
    if not draft.placements:
        return None
    strictest = next(p for p in PLACEMENT_STRICTNESS if p in draft.placements)
    if len(set(draft.placements)) > 1:
        claims.remarks.append(f"placements combined: the strictest, {strictest.value}, is used")
    return strictest

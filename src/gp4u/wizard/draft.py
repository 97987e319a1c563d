"""The parser's vocabulary and the draft its rules fill (pure).

Word tables (scales, number words, units, precisions, known model names), the `Draft` each rule
handler records its fields in, the `Reject` a handler returns for a match it claims as not
understood, and the small readers of numbers and GPU names the handlers share.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from gp4u.clusters.requirements import Placement, Precision

# ---- vocabulary ----

SCALES: dict[str, float] = {
    "k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6,
    "b": 1e9, "bn": 1e9, "billion": 1e9, "t": 1e12, "trillion": 1e12,
}  # fmt: skip
WORD_NUMBERS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
HOURS_PER_UNIT: dict[str, float] = {"h": 1, "d": 24, "w": 168, "mo": 720}
CONTEXT_K = 1024  # "8k context" = 8,192 tokens
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
PRECISION_WORDS: dict[str, Precision] = {
    "bf16": "bf16", "bfloat16": "bf16", "mixed precision": "bf16", "fp16": "fp16",
    "float16": "fp16", "half precision": "fp16", "fp32": "fp32", "float32": "fp32",
    "full precision": "fp32",
}  # fmt: skip

FIELD_WORDS: dict[str, str] = {
    "budget_usd": "budget",
    "deadline_hours": "deadline",
    "min_vram_gb": "memory per GPU",
    "params_billion": "model size",
    "min_reliability": "reliability",
    "gpu_model": "GPU model",
}

# Known model names: (family, version, size) → key of MODEL_SHAPES. Version None: the family has
# one generation at that size.
LLM_NAMES: dict[tuple[str, str | None, str], str] = {
    ("llama", "2", "7"): "llama-2-7b",
    ("llama", "2", "13"): "llama-2-13b",
    ("llama", "2", "70"): "llama-2-70b",
    ("llama", "3", "8"): "llama-3-8b",
    ("llama", "3.1", "8"): "llama-3-8b",
    ("llama", "3", "70"): "llama-3-70b",
    ("llama", "3.1", "70"): "llama-3-70b",
    ("llama", "3.3", "70"): "llama-3-70b",
    ("llama", "3", "405"): "llama-3.1-405b",
    ("llama", "3.1", "405"): "llama-3.1-405b",
    ("llama", "3.2", "1"): "llama-3.2-1b",
    ("llama", "3.2", "3"): "llama-3.2-3b",
    ("mistral", None, "7"): "mistral-7b",
    ("mixtral", None, "8x7"): "mixtral-8x7b",
    ("mixtral", None, "8x22"): "mixtral-8x22b",
    **{("qwen", "2.5", s): f"qwen-2.5-{s}b" for s in ("0.5", "1.5", "3", "7", "14", "32", "72")},
    ("gemma", "2", "2"): "gemma-2-2b",
    ("gemma", "2", "9"): "gemma-2-9b",
    ("gemma", "2", "27"): "gemma-2-27b",
    ("falcon", None, "7"): "falcon-7b",
    ("falcon", None, "40"): "falcon-40b",
    ("falcon", None, "180"): "falcon-180b",
}


# ---- the draft being filled ----


@dataclass(frozen=True)
class Reject:
    """A match claimed as not understood, with the reason shown to the user."""

    reason: str


Outcome = str | Reject | None


@dataclass
class Draft:
    now: datetime
    values: dict[str, object] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)
    placements: list[Placement] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)
    conflicts: set[str] = field(default_factory=set)

    def set(self, name: str, value: object, meaning: str) -> Outcome:
        """Record a field; two different values contradict each other and neither is used."""
        if name in self.conflicts or (name in self.values and self.values[name] != value):
            self.conflicts.add(name)
            self.values.pop(name, None)
            return Reject(f"contradicts another {field_words(name)}: neither is used")
        self.values[name] = value
        self.touched.append(name)
        return meaning

    def get(self, name: str) -> object:
        return self.values.get(name)


Handler = Callable[[re.Match[str], Draft], Outcome]


def field_words(name: str) -> str:
    return FIELD_WORDS.get(name, name.replace("_", " "))


def number(text: str) -> float:
    return float(text.replace(",", ""))


def quantity(m: re.Match[str]) -> float:
    scale = m.group("s")
    return number(m.group("n")) * (SCALES[scale] if scale else 1.0)


def count_words(value: float) -> str:
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if value >= scale:
            return f"{value / scale:,.4g} {word}"
    return f"{value:,.4g}"


def small_int(text: str) -> int:
    return WORD_NUMBERS[text] if text in WORD_NUMBERS else int(number(text))

"""The parser's rules: regular expressions, most specific first, and their handlers (pure).

Each rule is a pattern and a handler; the handler reads the match, records what it meant in the
`Draft` and returns the meaning in words, a `Reject` (claimed, not understood) or None (not
claimed: a looser rule may read the text). `compiled_rules()` is the list `parser.parse` applies.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import cast

from gp4u.catalog.normalise import known_family
from gp4u.catalog.reference import gpu_families
from gp4u.clusters.requirements import Placement
from gp4u.wizard.draft import (
    CONTEXT_K,
    HOURS_PER_UNIT,
    LLM_NAMES,
    MONTHS,
    PRECISION_WORDS,
    WEEKDAYS,
    WORD_NUMBERS,
    Draft,
    Handler,
    Outcome,
    Reject,
    count_words,
    field_words,
    number,
    quantity,
    small_int,
)
from gp4u.wizard.models import IMAGE_MODEL_PARAMS_B, MODEL_SHAPES

# ---- patterns ----

_START = r"(?<![\d.,])"  # a number starts where no other number goes on
_NUM = rf"{_START}(?:\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_SCALE = r"thousand|million|billion|trillion|bn|mn|k|m|b|t"
_QTY = rf"(?P<n>{_NUM})\s*(?:(?P<s>{_SCALE})\b)?"
_WORDNUM = "|".join(WORD_NUMBERS)
_TIME_UNIT = r"hours?|hrs?|h|days?|d|weeks?|wks?|w|months?"
_WEEKDAY = (
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thur?s?|fri|sat|sun"
)
_MONTH = (
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec"
)
_BY = r"\b(?:by|before|until|till|due)\s+"
_AT_MOST = r"under|below|less\s+than|at\s+most|max(?:imum)?|up\s+to|no\s+more\s+than|within|<=|≤|<"
_MODEL_SUFFIX = r"(?:[\s-]*(?:instruct|chat|base|hf|it))?"
_GPU_NOISE = frozenset({"nvidia", "geforce", "tesla", "quadro", "amd", "instinct", "radeon"})


@cache
def _gpu_pattern() -> str:
    """Every spelling of the reference table as a regex alternation, longest first."""
    spellings: set[str] = set()
    for family in gpu_families():
        for spelling in (family.name, *family.aliases):
            tokens = [t for t in re.findall(r"[a-z]+|\d+", spelling.lower()) if t not in _GPU_NOISE]
            if not tokens:
                continue
            pattern = tokens[0]
            for before, after in itertools.pairwise(tokens):
                pattern += (r"-?" if min(len(before), len(after)) == 1 else r"[\s-]?") + after
            spellings.add(pattern)
    return "|".join(sorted(spellings, key=lambda p: (-len(p), p)))


# ---- handlers ----


def _pflop_hours(m: re.Match[str], d: Draft) -> Outcome:
    amount = quantity(m)
    precision = PRECISION_WORDS[m.group("p")] if m.group("p") else None
    at = f" at {precision.upper()}" if precision else ""
    outcome = d.set("pflop_hours", amount, f"compute: {amount:,.6g} PFLOP-hours (useful){at}")
    if precision and isinstance(outcome, str):
        return d.set("precision", precision, outcome)
    return outcome


def _gpu_hours(m: re.Match[str], d: Draft) -> Outcome:
    amount = quantity(m)
    gpu = known_family(m.group("g")) if m.group("g") else None
    named = f"{gpu} " if gpu else ""
    outcome = d.set("gpu_hours", amount, f"compute: {amount:,.6g} {named}GPU-hours")
    if gpu and isinstance(outcome, str):
        d.set("reference_gpu", gpu, "")
    return outcome


def _tokens_per_second(m: re.Match[str], d: Draft) -> Outcome:
    rate = quantity(m)
    d.kinds.append("serve")
    return d.set("tokens_per_second", rate, f"serving target: {rate:,.6g} tokens per second")


def _users(m: re.Match[str], d: Draft) -> Outcome:
    users = quantity(m)
    if users != int(users):
        return Reject("a number of users must be whole")
    d.kinds.append("serve")
    return d.set("concurrent_users", int(users), f"serving: {int(users):,} concurrent users")


def _context(m: re.Match[str], d: Draft) -> Outcome:
    tokens = number(m.group("n")) * (CONTEXT_K if m.group("k") else 1)
    if tokens != int(tokens):
        return Reject("a context length must be a whole number of tokens")
    return d.set("context", int(tokens), f"sequence / context length: {int(tokens):,} tokens")


def _tokens(m: re.Match[str], d: Draft) -> Outcome:
    tokens = quantity(m)
    return d.set("training_tokens", tokens, f"training data: {count_words(tokens)} tokens")


def _time_per_frame(m: re.Match[str], d: Draft) -> Outcome:
    unit = m.group("u")[0]
    minutes = number(m.group("n")) * {"s": 1 / 60, "m": 1.0, "h": 60.0}[unit]
    d.kinds.append("render")
    return d.set("minutes_per_frame", minutes, f"render time: {minutes:,.4g} minutes per frame")


def _frames(m: re.Match[str], d: Draft) -> Outcome:
    frames = quantity(m)
    if frames != int(frames):
        return Reject("a number of frames must be whole")
    d.kinds.append("render")
    return d.set("frames", int(frames), f"rendering: {int(frames):,} frames")


def _images(m: re.Match[str], d: Draft) -> Outcome:
    images = quantity(m)
    d.kinds.append("image")
    return d.set("images", images, f"training data: {count_words(images)} images")


def _epochs(m: re.Match[str], d: Draft) -> Outcome:
    epochs = float(small_int(m.group("n")))
    return d.set("epochs", epochs, f"{epochs:g} epoch(s) over the data")


def _steps(m: re.Match[str], d: Draft) -> Outcome:
    steps = quantity(m)
    if steps != int(steps):
        return Reject("a number of steps must be whole")
    return d.set("steps", int(steps), f"{int(steps):,} training steps")


def _batch(m: re.Match[str], d: Draft) -> Outcome:
    size = int(m.group("n"))
    return d.set("batch_size", size, f"global batch size {size}")


def _micro_batch(m: re.Match[str], d: Draft) -> Outcome:
    size = int(m.group("n"))
    return d.set("micro_batch", size, f"micro-batch {size} per GPU")


def _resolution(m: re.Match[str], d: Draft) -> Outcome:
    pixels = int(m.group("r") or m.group("a"))
    return d.set("resolution", pixels, f"image resolution {pixels} x {pixels} pixels")


def _budget(m: re.Match[str], d: Draft) -> Outcome:
    amount = Decimal(m.group("n").replace(",", ""))
    scale = m.group("s")
    if scale:
        amount *= Decimal(1000) if scale[0] in "kt" else Decimal(1_000_000)
    if amount <= 0:
        return Reject("a budget must be positive")
    return d.set("budget_usd", amount, f"budget: at most ${amount:,.2f}")


def _in_duration(m: re.Match[str], d: Draft) -> Outcome:
    unit = m.group("u")
    key = "mo" if unit.startswith("mo") else unit[0]
    hours = small_int(m.group("n")) * HOURS_PER_UNIT[key]
    if hours <= 0:
        return Reject("a deadline must be in the future")
    return d.set("deadline_hours", float(hours), f"deadline: within {hours:,.4g} hours")


def _for_duration(m: re.Match[str], d: Draft) -> Outcome:
    outcome = _in_duration(m, d)
    if isinstance(outcome, str):
        return f"period: {d.get('deadline_hours'):,.4g} hours (the deadline; for serving, how long)"
    return outcome


def _end_of_day(d: Draft, day: date, words: str) -> Outcome:
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    hours = (end - d.now).total_seconds() / 3600
    if hours <= 0:
        return Reject(f"{day.isoformat()} has already passed")
    meaning = f"deadline: {words}, the end of {day.isoformat()} UTC ({hours:,.1f} hours from now)"
    return d.set("deadline_hours", hours, meaning)


def _by_weekday(m: re.Match[str], d: Draft) -> Outcome:
    if m.group("next"):
        return Reject("'next <day>' is ambiguous: this coming one or the one after?")
    target = WEEKDAYS.index(m.group("d")[:3])
    today = d.now.date()
    day = today + timedelta(days=(target - today.weekday()) % 7)
    return _end_of_day(d, day, f"by {day.strftime('%A')}")


def _by_relative_day(m: re.Match[str], d: Draft) -> Outcome:
    offset = 1 if m.group("d") == "tomorrow" else 0
    return _end_of_day(d, d.now.date() + timedelta(days=offset), f"by {m.group('d')}")


def _by_iso_date(m: re.Match[str], d: Draft) -> Outcome:
    try:
        day = date(int(m.group("y")), int(m.group("mo")), int(m.group("da")))
    except ValueError:
        return Reject("not a calendar date")
    return _end_of_day(d, day, f"by {day.isoformat()}")


def _by_month_day(m: re.Match[str], d: Draft) -> Outcome:
    month = MONTHS.index((m.group("mo1") or m.group("mo2"))[:3]) + 1
    day_of_month = int(m.group("da1") or m.group("da2"))
    today = d.now.date()
    year = int(m.group("y")) if m.group("y") else today.year
    try:
        day = date(year, month, day_of_month)
        if not m.group("y") and day < today:
            day = date(year + 1, month, day_of_month)
    except ValueError:
        return Reject("not a calendar date")
    return _end_of_day(d, day, f"by {day.strftime('%B')} {day.day}")


def _spot(allowed: bool) -> Handler:
    def handler(m: re.Match[str], d: Draft) -> Outcome:
        words = "spot (interruptible) instances allowed" if allowed else "on-demand only, no spot"
        return d.set("spot_allowed", allowed, words)

    return handler


def _reliability(m: re.Match[str], d: Draft) -> Outcome:
    value = number(m.group("n"))
    share = value / 100 if m.group("pct") or value > 1 else value
    if not 0 < share <= 1:
        return Reject("reliability is a share between 0 and 100 %")
    return d.set("min_reliability", share, f"providers with reliability of at least {share:.2%}")


def _max_machines(m: re.Match[str], d: Draft) -> Outcome:
    machines = small_int(m.group("n"))
    if machines < 1:
        return Reject("at least one machine is needed")
    return d.set("max_machines", machines, f"at most {machines} machine(s)")


def _placement(placement: Placement, words: str) -> Handler:
    def handler(m: re.Match[str], d: Draft) -> Outcome:
        d.placements.append(placement)
        d.touched.append("placement")
        return f"placement: {words}"

    return handler


def _vram(m: re.Match[str], d: Draft) -> Outcome:
    if not (m.group("q") or re.search(r"vram|memory|gpu|card|each", m.group("tail"))):
        return None
    gb = number(m.group("n"))
    return d.set("min_vram_gb", gb, f"at least {gb:g} GB of memory per GPU")


def _gpus_per_machine(m: re.Match[str], d: Draft) -> Outcome:
    gpus = int(m.group("n"))
    if gpus < 1:
        return Reject("a machine needs at least one GPU")
    return d.set("gpus_per_machine", gpus, f"at least {gpus} GPUs per machine")


def _n_x_gpu(m: re.Match[str], d: Draft) -> Outcome:
    gpu = known_family(m.group("g"))
    if gpu is None:
        return None
    outcome = _gpus_per_machine(m, d)
    if isinstance(outcome, str):
        return f"{outcome}; {_gpu_model(m, d, gpu)}"
    return outcome


def _gpu_name(m: re.Match[str], d: Draft) -> Outcome:
    gpu = known_family(m.group("g"))
    if gpu is None:
        return None
    return _gpu_model(m, d, gpu)


def _gpu_model(m: re.Match[str], d: Draft, gpu: str) -> Outcome:
    """A named GPU, and its memory when written with it ("A100 80GB": at least 80 GB per GPU)."""
    outcome = d.set("gpu_model", gpu, f"GPU model {gpu}")
    if m.group("mem") and isinstance(outcome, str):
        memory = float(m.group("mem"))
        if isinstance(d.set("min_vram_gb", memory, ""), Reject):
            return Reject(f"contradicts another {field_words('min_vram_gb')}: neither is used")
        outcome += f" with at least {memory:g} GB per GPU"
    return outcome


def _lora_rank(m: re.Match[str], d: Draft) -> Outcome:
    return d.set("lora_rank", int(m.group("n")), f"LoRA rank {m.group('n')}")


def _precision(m: re.Match[str], d: Draft) -> Outcome:
    word = re.sub(r"[\s-]+", " ", m.group("p"))
    precision = PRECISION_WORDS[word]
    return d.set("precision", precision, f"precision {precision.upper()}")


def _weight_bits(m: re.Match[str], d: Draft) -> Outcome:
    if m.group("fp8"):
        return Reject("FP8 is not a precision the planner knows (BF16, FP16, FP32)")
    bits = int(m.group("b") or m.group("i") or m.group("nf"))
    return d.set("weight_bits", bits, f"{bits}-bit quantised weights")


def _llm(m: re.Match[str], d: Draft) -> Outcome:
    family = m.group("fam")
    version = m.group("v") if "v" in m.re.groupindex else None
    size = re.sub(r"\s", "", m.group("sz")).replace("×", "x")
    key = LLM_NAMES.get((family, version or None, size))
    if key is None:
        if version is None and any(f == family and v for f, v, _ in LLM_NAMES):
            return Reject(f"which {family.capitalize()} version? (e.g. '{family} 3 70B')")
        return Reject("not a model this wizard knows: no size is assumed")
    shape = MODEL_SHAPES[key]
    active = (
        f", {shape.active_params / 1e9:g}B used per token" if shape.active_params_billion else ""
    )
    return d.set("model", key, f"model {key} ({shape.params_billion:g}B parameters{active})")


def _named(key: str, words: str) -> Handler:
    def handler(m: re.Match[str], d: Draft) -> Outcome:
        if key in IMAGE_MODEL_PARAMS_B:
            d.kinds.append("image")
        return d.set("model", key, words)

    return handler


def _size(m: re.Match[str], d: Draft) -> Outcome:
    billions = quantity(m) / 1e9
    return d.set("params_billion", billions, f"model size {billions:,.4g} billion parameters")


def _kind(kind: str, words: str) -> Handler:
    def handler(m: re.Match[str], d: Draft) -> Outcome:
        d.kinds.append(kind)
        d.touched.append("kind")
        if kind == "qlora":
            d.set("weight_bits", 4, "")
        return words

    return handler


# ---- rules, most specific first ----


def _rules() -> list[tuple[str, Handler]]:
    gpu = _gpu_pattern()
    gpu_memory = r"(?:[\s-]*(?P<mem>\d{2,3})\s*gb)?"
    at_most = rf"(?:(?:{_AT_MOST})\s*)?"
    dollars = rf"(?:us)?\$\s*(?P<n>{_NUM})\s*(?:(?P<s>k|m|thousand|million)\b)?"
    return [
        (
            rf"{_QTY}\s*pflops?[\s-]*(?:hours?|hrs?|h)\b"
            r"(?:\s+(?:of|in|at)\s+(?P<p>bf16|fp16|fp32))?",
            _pflop_hours,
        ),
        (rf"{_QTY}\s*(?P<g>{gpu})(?:\s*gpus?)?[\s-]*(?:gpu[\s-]*)?(?:hours?|hrs?)\b", _gpu_hours),
        (
            rf"{_QTY}\s*gpu[\s-]*(?:hours?|hrs?)\b(?:\s+(?:of|on)\s+(?:an?\s+)?(?P<g>{gpu})\b)?",
            _gpu_hours,
        ),
        (
            rf"{_QTY}\s*(?:output\s+)?(?:tokens?|tok)\s*"
            r"(?:/\s*s(?:ec(?:ond)?)?|per\s+s(?:ec(?:ond)?)?|a\s+second)\b",
            _tokens_per_second,
        ),
        (
            rf"{_QTY}\s*(?:(?:concurrent|simultaneous|parallel)\s+"
            r"(?:users?|sessions?|requests?|streams?)|users?)\b",
            _users,
        ),
        (
            rf"{_START}(?P<n>\d+(?:\.\d+)?)\s*(?P<k>k)?[\s-]*(?:tokens?[\s-]*)?"
            r"(?:context(?:\s+(?:length|window))?|sequences?|seq(?:uence)?[\s-]*len(?:gth)?)\b",
            _context,
        ),
        (
            r"(?:context(?:\s+(?:length|window))?|sequence[\s-]*length|seq[\s-]*len)\s*"
            r"(?:of|=|:)?\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<k>k)?\b(?:\s*tokens?\b)?",
            _context,
        ),
        (rf"{_QTY}\s*(?:training\s+|text\s+)?tokens?\b", _tokens),
        (
            rf"(?P<n>{_NUM})\s*(?P<u>seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)\s*"
            r"(?:per|/|a|an|each)\s*frame\b",
            _time_per_frame,
        ),
        (rf"{_QTY}\s*frames?\b", _frames),
        (rf"{_QTY}\s*(?:training\s+)?images?\b", _images),
        (rf"(?P<n>{_NUM}|{_WORDNUM})\s*epochs?\b", _epochs),
        (rf"{_QTY}\s*(?:training\s+)?steps?\b", _steps),
        (r"micro[\s-]?batch(?:\s*size)?\s*(?:of|=|:)?\s*(?P<n>\d+)\b", _micro_batch),
        (r"(?:global\s+)?batch(?:\s*size)?\s*(?:of|=|:)?\s*(?P<n>\d+)\b", _batch),
        (
            rf"{_START}(?P<r>\d{{3,4}})\s*(?:px|pixels?)\b|{_START}(?P<a>\d{{3,4}})\s*[x×]\s*(?P=a)\b"
            r"|resolution\s*(?:of|=|:)?\s*(?P<rr>\d{3,4})\b",
            _resolution,
        ),
        (
            rf"budget\s*(?:of|:|=|is|at)?\s*{at_most}(?:us)?\$?\s*(?P<n>{_NUM})\s*"
            r"(?:(?P<s>k|m|thousand|million)\b)?(?:\s*(?:usd|dollars))?",
            _budget,
        ),
        (rf"{at_most}{dollars}(?:\s*(?:usd|dollars))?(?:\s+budget)?", _budget),
        (
            rf"{at_most}(?P<n>{_NUM})\s*(?:(?P<s>k|m|thousand|million)\b)?\s*"
            r"(?:usd|dollars|bucks)\b(?:\s+budget)?",
            _budget,
        ),
        (
            r"\b(?:in|within|inside|in\s+the\s+next|within\s+the\s+next|deadline(?:\s+(?:of|in|is))?"
            rf"|due\s+in|done\s+in|finish(?:ed)?\s+in)\s+(?P<n>{_NUM}|{_WORDNUM})\s*"
            rf"(?P<u>{_TIME_UNIT})\b",
            _in_duration,
        ),
        (rf"\bfor\s+(?P<n>{_NUM}|{_WORDNUM})\s*(?P<u>{_TIME_UNIT})\b", _for_duration),
        (rf"{_BY}(?:(?:this|the\s+coming)\s+|(?P<next>next)\s+)?(?P<d>{_WEEKDAY})\b", _by_weekday),
        (rf"{_BY}(?:the\s+end\s+of\s+)?(?P<d>tomorrow|today|tonight)\b", _by_relative_day),
        (rf"{_BY}(?P<y>\d{{4}})-(?P<mo>\d{{1,2}})-(?P<da>\d{{1,2}})\b", _by_iso_date),
        (
            rf"{_BY}(?:(?P<da1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mo1>{_MONTH})|(?P<mo2>{_MONTH})"
            rf"\.?\s+(?P<da2>\d{{1,2}})(?:st|nd|rd|th)?)\b(?:,?\s+(?P<y>\d{{4}})\b)?",
            _by_month_day,
        ),
        (
            r"\b(?:no|without|avoid|never)\s+spot(?:\s+instances?)?\b"
            r"|\bon[\s-]demand\s+only\b|\bonly\s+on[\s-]demand\b",
            _spot(allowed=False),
        ),
        (
            r"\bspot(?:\s+instances?)?\s+(?:is\s+|are\s+)?(?:ok(?:ay)?|fine|allowed|acceptable)\b"
            r"|\b(?:allow|use|accept)\s+spot(?:\s+instances?)?\b"
            r"|\binterruptible\s+(?:is\s+|instances\s+(?:are\s+)?)?(?:ok(?:ay)?|fine)\b",
            _spot(allowed=True),
        ),
        (
            r"(?:min(?:imum)?\s+)?reliability\s*(?:(?:>=|≥|>|=|:|of|above|over|at\s+least)\s*)*"
            rf"(?P<n>{_NUM})\s*(?P<pct>%|percent)?",
            _reliability,
        ),
        (
            rf"(?:(?:at\s+least|>=|≥)\s*)?(?P<n>{_NUM})\s*(?P<pct>%|percent)\s*"
            r"(?:reliability|reliable|uptime|availability)\b",
            _reliability,
        ),
        (
            r"(?:at\s+most|up\s+to|max(?:imum)?(?:\s+of)?|no\s+more\s+than|<=|≤)\s*"
            rf"(?P<n>\d+|{_WORDNUM})\s*(?:machines?|nodes?|servers?|instances?|boxes)\b",
            _max_machines,
        ),
        (
            r"\b(?:single|one|same)\s+(?:machine|node|server|box|instance)\b",
            _placement(Placement.SINGLE_MACHINE, "one machine"),
        ),
        (
            r"\b(?:single|one|same)\s+(?:cloud\s+)?region\b",
            _placement(Placement.SAME_REGION, "one provider region"),
        ),
        (
            r"\b(?:single|one|same)\s+(?:cloud\s+)?provider\b",
            _placement(Placement.SAME_PROVIDER, "one provider"),
        ),
        (
            rf"{_START}(?P<n>\d+)\s*(?:gpus?|cards?)\s*(?:per|/|each|a|an|in\s+one|in\s+each|on\s+one)\s*"
            r"(?:machine|node|server|instance|box)\b"
            rf"|{_START}(?P<m>\d+)[\s-]*gpu\s+(?:machines?|nodes?|servers?|instances?|boxes)\b",
            lambda m, d: _gpus_per_machine(_first_n(m), d),
        ),
        (rf"(?<![\w.])(?P<n>\d+)\s*[x×]\s*(?P<g>{gpu}){gpu_memory}(?![\w])", _n_x_gpu),
        (
            rf"\b(?P<fam>llama)[\s-]*(?:(?P<v>\d(?:\.\d)?)[\s-]+)?(?P<sz>\d+(?:\.\d+)?)\s*b\b"
            rf"{_MODEL_SUFFIX}",
            _llm,
        ),
        (
            r"\b(?P<fam>mistral|falcon)[\s-]*(?P<sz>\d+)\s*b\b" + _MODEL_SUFFIX,
            _llm,
        ),
        (r"\b(?P<fam>mixtral)[\s-]*(?P<sz>8\s*[x×]\s*\d+)\s*b\b" + _MODEL_SUFFIX, _llm),
        (
            r"\b(?P<fam>qwen|gemma)[\s-]*(?:(?P<v>\d(?:\.\d)?)[\s-]+)?(?P<sz>\d+(?:\.\d+)?)\s*b\b"
            + _MODEL_SUFFIX,
            _llm,
        ),
        (
            r"\bgpt[\s-]?2(?:[\s-]*(?:xl|1\.5\s*b))?\b",
            _named("gpt-2-xl", "model GPT-2 (the 1.5 billion-parameter XL release)"),
        ),
        (
            r"\b(?:stable[\s-]*diffusion|sd)[\s-]*v?1[.-]5\b",
            _named("stable-diffusion-1.5", "image model Stable Diffusion 1.5 (0.86B UNet)"),
        ),
        (
            r"\b(?:sdxl|(?:stable[\s-]*diffusion|sd)[\s-]*xl)\b",
            _named("sdxl", "image model SDXL (2.6B UNet)"),
        ),
        (
            r"\bflux(?:[\s.-]*1)?(?:[\s.-]*(?:dev|schnell|pro))?\b",
            _named("flux.1", "image model FLUX.1 (12B transformer)"),
        ),
        (
            rf"(?P<q>>=|≥|at\s+least|min(?:imum)?(?:\s+of)?)?\s*{_START}(?P<n>\d{{1,3}}(?:\.\d+)?)\s*"
            r"(?:gb|gib|g)\b(?P<tail>\s*(?:of\s+)?(?:vram|gpu\s+memory)?\s*"
            r"(?:per\s+(?:gpu|card)|/\s*gpu|each|gpus?\b|cards?\b)?)",
            _vram,
        ),
        (
            rf"(?<![\w.])(?:(?:nvidia|geforce|tesla|quadro|amd|instinct|radeon)\s+)*(?P<g>{gpu})"
            rf"{gpu_memory}(?![\w])",
            _gpu_name,
        ),
        (r"\b(?:lora\s+)?(?:rank\s*(?:=|:|of)?\s*|r\s*=\s*)(?P<n>\d+)\b", _lora_rank),
        (
            r"\b(?P<p>bf16|bfloat16|fp16|float16|half[\s-]precision|fp32|float32|"
            r"full[\s-]precision|mixed[\s-]precision)\b",
            _precision,
        ),
        (r"\b(?:(?P<b>4|8)[\s-]?bit|int(?P<i>4|8)|nf(?P<nf>4)|(?P<fp8>fp8))\b", _weight_bits),
        (
            rf"(?<![\w.$])(?P<n>{_NUM})\s*(?P<s>b|bn|billion|t|trillion)\b"
            r"(?:[\s-]*(?:param(?:eter)?s?|model)\b)?",
            _size,
        ),
        (
            rf"(?<![\w.$])(?P<n>{_NUM})\s*(?P<s>m|mn|million|k|thousand)?[\s-]*"
            r"(?:param(?:eter)?s?)\b(?:\s+model\b)?",
            _size,
        ),
        (
            r"\b(?:pre[\s-]?train(?:ing|ed)?|train(?:ing)?\s+from\s+scratch)\b",
            _kind("pretrain", "workload: LLM pre-training"),
        ),
        (r"\bq[\s-]?lora\b", _kind("qlora", "workload: QLoRA fine-tuning (4-bit base weights)")),
        (r"\blora\b", _kind("lora", "workload: LoRA fine-tuning")),
        (
            r"\b(?:fine[\s-]?tun(?:e|es|ing|ed)|sft)\b",
            _kind("finetune", "workload: fine-tuning (all weights unless LoRA is named)"),
        ),
        (
            r"\b(?:serv(?:e|ing)|inference|deploy(?:ment)?|host(?:ing)?)\b",
            _kind("serve", "workload: inference serving"),
        ),
        (r"\brender(?:ing|s)?\b", _kind("render", "workload: batch rendering")),
        (r"\btrain(?:ing)?\b", _kind("train", "workload: training")),
    ]


def _first_n(m: re.Match[str]) -> re.Match[str]:
    """The GPUs-per-machine rule has two spellings; expose whichever matched as group n."""
    if m.group("n") is not None:
        return m
    matched = re.match(r"(?P<n>\d+)", m.group("m"))
    return cast(re.Match[str], matched)


@cache
def compiled_rules() -> tuple[tuple[re.Pattern[str], Handler], ...]:
    return tuple((re.compile(pattern), handler) for pattern, handler in _rules())

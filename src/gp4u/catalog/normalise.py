"""One normaliser for every provider's GPU spelling (pure).

`NVIDIA H100 80GB HBM3`, `H100_NVL`, `A100-SXM4-80GB`, `1x H100 (80 GB SXM5)`, `RTX6000Ada`…
all become a canonical family (`gpu`), a form factor where the spelling states one
(`gpu_variant`) and a per-GPU memory size. The same function reads query values, so
`gpu=A100-80GB` means "A100 with 80 GB". Unknown names are kept (upper-case, compacted) and
flagged `known=False`, never dropped.

How a spelling is read: upper-case it; drop a leading instance count (`1x`, `8×`); take out a
memory size (`80GB`, `80 GB`, `80G`); split into alphanumeric tokens; take out form-factor tokens
(SXM4 → SXM, PCIE → PCIe, NVL, OAM…) and memory-type tokens (HBM3…); drop vendor and brand words
(NVIDIA, GeForce, Tesla, Quadro, Instinct…); join what is left and look it up among the family
names and aliases of the reference table. A form factor glued to the name (`H100NVL`) is peeled
off when the whole does not match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from gp4u.catalog.reference import GpuFamily, families_by_name, gpu_families

_COUNT_PREFIX = re.compile(r"^\s*\d+\s*X\s*(?=[A-Z])")
_MEMORY = re.compile(r"(?<![A-Z0-9])(\d{1,3})\s*(?:GB|GIB|G)(?![A-Z0-9])")
_TOKEN_SPLIT = re.compile(r"[^A-Z0-9]+")

# Form-factor tokens as providers write them, and the canonical variant they mean. A board sold
# as "NVLink" with 80 GB is the SXM module (the PCIe NVL product is spelled NVL).
_VARIANT_TOKENS: dict[str, str] = {
    "SXM": "SXM",
    "SXM2": "SXM",
    "SXM3": "SXM",
    "SXM4": "SXM",
    "SXM5": "SXM",
    "SXM6": "SXM",
    "HGX": "SXM",
    "NVLINK": "SXM",
    "PCIE": "PCIe",
    "PCI": "PCIe",
    "NVL": "NVL",
    "OAM": "OAM",
    "SERVER": "Server",
    "WORKSTATION": "Workstation",
    "MAXQ": "MaxQ",
}
# Canonical variants also accepted as query values, in any case.
_CANONICAL_VARIANTS = {v.upper(): v for v in _VARIANT_TOKENS.values()}

# Glued-on suffixes, longest first, tried only when the whole name is not a known family.
_VARIANT_SUFFIXES: tuple[tuple[str, str], ...] = tuple(
    sorted(_VARIANT_TOKENS.items(), key=lambda kv: -len(kv[0]))
)
# Edition letters glued to a model number ("RTXPRO6000S", "RTXPRO6000WS"): honoured only for a
# family that has that edition, so L40S or RTX4070S are never read as editions.
_EDITION_SUFFIXES: tuple[tuple[str, str], ...] = (("WS", "Workstation"), ("S", "Server"))
_MEMORY_TYPE_TOKENS = frozenset(
    {"HBM", "HBM2", "HBM2E", "HBM3", "HBM3E", "GDDR6", "GDDR6X", "GDDR7"}
)
_NOISE_TOKENS = frozenset(
    {
        "NVIDIA",
        "AMD",
        "INTEL",
        "HABANA",
        "GEFORCE",
        "TESLA",
        "QUADRO",
        "INSTINCT",
        "RADEON",
        "GPU",
        "GPUS",
        "TENSOR",
        "CORE",
        "GENERATION",
        "EDITION",
        "ACCELERATOR",
    }
)
_SNAP_TOLERANCE = 0.08  # a reported size within 8% of a datasheet size is that size


@dataclass(frozen=True)
class GpuName:
    """What a GPU spelling says: the family, and a variant and memory only where it states them."""

    gpu: str
    variant: str | None
    memory_gb: int | None
    known: bool


@dataclass(frozen=True)
class NormalisedGpu:
    """A GPU as an offer carries it: memory is always set (stated, reported or the default)."""

    gpu: str
    variant: str | None
    memory_gb: int
    known: bool


def compact(text: str) -> str:
    """Upper-case alphanumerics only: the form in which spellings are compared."""
    return re.sub(r"[^A-Z0-9]", "", text.upper())


@cache
def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for family in gpu_families():
        for spelling in (family.name, *family.aliases):
            index.setdefault(_strip_noise(spelling), family.name)
    return index


def _strip_noise(spelling: str) -> str:
    tokens = [t for t in _TOKEN_SPLIT.split(spelling.upper()) if t and t not in _NOISE_TOKENS]
    return "".join(tokens)


def known_family(spelling: str) -> str | None:
    """The GPU family a spelling names (`h100 sxm` → `H100`), or None when it names none."""
    name = parse_gpu_name(spelling)
    return name.gpu if name.known else None


@cache
def parse_gpu_name(raw: str) -> GpuName:
    """Read a provider's or a user's GPU spelling. Cached: catalogs repeat the same few names."""
    text = raw.upper().replace("×", "X").replace("(", " ").replace(")", " ")
    text = _COUNT_PREFIX.sub("", text)
    memory: int | None = None
    match = _MEMORY.search(text)
    if match:
        memory = int(match.group(1))
        text = text[: match.start()] + " " + text[match.end() :]

    variant: str | None = None
    memory_type: str | None = None
    kept: list[str] = []
    for token in _TOKEN_SPLIT.split(text):
        if not token or token in _NOISE_TOKENS:
            continue
        if token in _VARIANT_TOKENS:
            variant = variant or _VARIANT_TOKENS[token]
        elif token in _MEMORY_TYPE_TOKENS:
            memory_type = token
        else:
            kept.append(token)
    key = "".join(kept)

    index = _alias_index()
    family = index.get(key)
    if family is None:
        for suffix, suffix_variant in _VARIANT_SUFFIXES:
            if key.endswith(suffix) and index.get(key[: -len(suffix)]):
                family = index[key[: -len(suffix)]]
                variant = variant or suffix_variant
                break
    if family is None:
        family, edition = _edition_of(key, index)
        variant = variant or edition
    if family is None:
        return GpuName(gpu=key or compact(raw), variant=variant, memory_gb=memory, known=False)
    if variant is None and family == "H100" and memory_type == "HBM3" and memory in (None, 80):
        # nvidia-smi names the SXM module "NVIDIA H100 80GB HBM3"; PCIe and NVL say so.
        variant = "SXM"
    return GpuName(gpu=family, variant=variant, memory_gb=memory, known=True)


def _close_size(family: GpuFamily, memory_gb: float) -> int | None:
    nearest = min(family.memory_sizes, key=lambda size: abs(size - memory_gb))
    return nearest if abs(nearest - memory_gb) <= nearest * _SNAP_TOLERANCE else None


def _edition_of(key: str, index: dict[str, str]) -> tuple[str | None, str | None]:
    for suffix, edition in _EDITION_SUFFIXES:
        family = index.get(key[: -len(suffix)]) if key.endswith(suffix) else None
        if family and any(v.variant == edition for v in families_by_name()[family].variants):
            return family, edition
    return None, None


def _default_memory(family: GpuFamily, variant: str | None) -> int:
    """The family's default size, unless the stated variant only comes in other sizes (an
    H100 NVL is 94 GB)."""
    sizes = {v.memory_gb for v in family.variants if v.variant == variant}
    if not sizes or family.default_memory_gb in sizes:
        return family.default_memory_gb
    return min(sizes)


def snap_memory(family: GpuFamily | None, memory_gb: float, gpu_count: int = 1) -> int:
    """The datasheet size a reported size means: 81559 MiB is an 80 GB H100, and a figure that
    only fits once divided by the GPU count was the instance's total. Otherwise rounded."""
    if family is not None and memory_gb > 0:
        for candidate in (memory_gb, memory_gb / gpu_count) if gpu_count > 1 else (memory_gb,):
            size = _close_size(family, candidate)
            if size is not None:
                return size
    return round(memory_gb)


@lru_cache(maxsize=65536)
def normalise_gpu(
    raw: str, reported_memory_gb: float | None = None, gpu_count: int = 1
) -> NormalisedGpu:
    """The GPU an offer carries. Memory: as the name states it, else as the source reports it
    (snapped to a datasheet size), else the family's default."""
    name = parse_gpu_name(raw)
    family = families_by_name().get(name.gpu) if name.known else None
    if name.memory_gb is not None:
        memory = snap_memory(family, name.memory_gb)
    elif reported_memory_gb:
        memory = snap_memory(family, reported_memory_gb, gpu_count)
    elif family is not None:
        memory = _default_memory(family, name.variant)
    else:
        memory = 0
    return NormalisedGpu(gpu=name.gpu, variant=name.variant, memory_gb=memory, known=name.known)


def canonical_variant(raw: str) -> str:
    """`sxm4` → `SXM`, `pcie` → `PCIe`; other values are kept as written (trimmed)."""
    key = compact(raw)
    return _VARIANT_TOKENS.get(key) or _CANONICAL_VARIANTS.get(key) or raw.strip()

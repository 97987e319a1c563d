"""The searchable fields of an offer: name, kind and how query values are read. Pure: it is the
one whitelist that the query language, the SQL compiler and the row mapper all share."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    TEXT = "text"
    INT = "integer"
    MONEY = "money"  # stored as integer micro-USD, written in dollars
    FLOAT = "number"
    BOOL = "boolean"
    TIME = "timestamp"
    GPU = "gpu"  # text, read through the GPU normaliser


class Case(Enum):
    """How a text field is stored, so a query value can be brought to the same form."""

    AS_IS = "as-is"  # compared case-insensitively through lower()
    LOWER = "lower"
    UPPER = "upper"
    CANONICAL = "canonical"  # GPU family or variant: canonicalised by the normaliser


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    nullable: bool = False
    case: Case = Case.AS_IS
    description: str = ""

    @property
    def sortable(self) -> bool:
        return self.kind in (Kind.INT, Kind.MONEY, Kind.FLOAT, Kind.TIME)

    @property
    def is_text(self) -> bool:
        return self.kind in (Kind.TEXT, Kind.GPU)


# Precisions a node agent measures its machine's throughput at (offers' measured_*_tflops).
MEASURED_PRECISIONS = ("bf16", "fp16", "fp32")
MEASURED_COLUMNS = tuple(f"measured_{p}_tflops" for p in MEASURED_PRECISIONS)

_FIELDS = (
    Field("id", Kind.INT, description="GP4U offer id"),
    Field("provider", Kind.TEXT, case=Case.LOWER, description="provider id, e.g. lambda"),
    Field(
        "source",
        Kind.TEXT,
        case=Case.LOWER,
        description="catalog | live | simulated | host | local",
    ),
    Field("instance_type", Kind.TEXT, description="the provider's name for the configuration"),
    Field("region", Kind.TEXT, nullable=True, description="the provider's region"),
    Field("zone", Kind.TEXT, nullable=True, description="availability zone, where given"),
    Field("country", Kind.TEXT, nullable=True, case=Case.UPPER, description="ISO 3166 code"),
    Field("gpu", Kind.GPU, case=Case.CANONICAL, description="GPU family, any provider spelling"),
    Field(
        "gpu_variant", Kind.TEXT, nullable=True, case=Case.CANONICAL, description="SXM, PCIe, NVL…"
    ),
    Field("gpu_memory_gb", Kind.INT, description="memory per GPU, GB"),
    Field("gpu_count", Kind.INT, description="GPUs in the instance"),
    Field("vcpus", Kind.FLOAT, nullable=True, description="virtual CPUs"),
    Field("memory_gb", Kind.FLOAT, nullable=True, description="host memory, GB"),
    Field("disk_gb", Kind.FLOAT, nullable=True, description="disk, GB"),
    Field("price_per_hour", Kind.MONEY, description="USD per hour, whole instance"),
    Field("price_per_gpu_hour", Kind.MONEY, description="USD per GPU-hour"),
    Field("spot", Kind.BOOL, description="spot / interruptible price"),
    Field("available", Kind.BOOL, description="offered now (default true unless asked)"),
    Field("reliability", Kind.FLOAT, nullable=True, description="0-1, where the source says"),
    Field(
        "available_count", Kind.INT, nullable=True, description="instances to be had now, if known"
    ),
    Field("dlperf", Kind.FLOAT, nullable=True, description="Vast.ai DLPerf score, where given"),
    Field("inet_down_mbps", Kind.FLOAT, nullable=True, description="download bandwidth, Mbit/s"),
    Field("inet_up_mbps", Kind.FLOAT, nullable=True, description="upload bandwidth, Mbit/s"),
    *(
        Field(
            f"measured_{precision}_tflops",
            Kind.FLOAT,
            nullable=True,
            description=f"{precision.upper()} matrix-multiply TFLOPS of the whole instance, "
            "measured by its node agent (hosts' machines)",
        )
        for precision in MEASURED_PRECISIONS
    ),
    Field("stale", Kind.BOOL, description="its provider has not been confirmed recently"),
    Field("updated_at", Kind.TIME, description="last change of price, availability or specs"),
)

FIELDS: dict[str, Field] = {f.name: f for f in _FIELDS}
FIELD_NAMES: tuple[str, ...] = tuple(FIELDS)
SORTABLE: tuple[str, ...] = tuple(f.name for f in _FIELDS if f.sortable)

# Spellings users bring from other tools (vastai, gpuhunt) for the same fields.
ALIASES: dict[str, str] = {
    "num_gpus": "gpu_count",
    "gpus": "gpu_count",
    "gpu_name": "gpu",
    "gpu_ram": "gpu_memory_gb",
    "vram": "gpu_memory_gb",
    "cpus": "vcpus",
    "cpu_cores": "vcpus",
    "ram": "memory_gb",
    "disk": "disk_gb",
    "dph": "price_per_hour",
    "interruptible": "spot",
}

# Columns every search returns, in API order. The extras: `gpu_known` flags unrecognised GPU
# names; `offer_ref` is the provider's handle for launching the offer.
OUTPUT_COLUMNS: tuple[str, ...] = (*FIELD_NAMES, "gpu_known", "offer_ref")

DEFAULT_SORT = "price_per_gpu_hour"


def resolve(name: str) -> Field | None:
    """The field a user means by `name` (case-insensitive, aliases allowed), or None."""
    key = name.strip().lower()
    return FIELDS.get(ALIASES.get(key, key))

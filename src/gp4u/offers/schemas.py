"""API shapes of the market. Offers are rendered by `present_offer` straight from rows (fast
path); the pydantic models document the same shapes in OpenAPI and type the CLI's remote client."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from gp4u.kit.clock import ensure_utc
from gp4u.kit.money import micros_to_usd
from gp4u.offers.fields import OUTPUT_COLUMNS

_MONEY = frozenset({"price_per_hour", "price_per_gpu_hour"})
_BOOLS = frozenset({"spot", "available", "gpu_known", "stale"})
_FLOATS = frozenset(
    {
        "vcpus",
        "memory_gb",
        "disk_gb",
        "dlperf",
        "inet_down_mbps",
        "inet_up_mbps",
        "measured_bf16_tflops",
        "measured_fp16_tflops",
        "measured_fp32_tflops",
    }
)
_MEASURED = (
    " TFLOPS of the whole instance in a dense matrix multiply, measured by the machine's own node "
    "agent (GP4U hosts' machines); the cluster planner plans the machine at this speed when it is "
    "below what a healthy GPU of its kind measures."
)


class OfferOut(BaseModel):
    """One normalised offer. Money in USD (exact to the micro-dollar)."""

    id: int
    provider: str = Field(description="Provider id, e.g. `lambda`, `vastai`.")
    source: str = Field(description="`catalog`, `live`, `simulated`, `host` or `local`.")
    instance_type: str
    region: str | None
    zone: str | None
    country: str | None = Field(description="ISO 3166-1 alpha-2, where known.")
    gpu: str = Field(description="Canonical GPU family used for comparison, e.g. `H100`.")
    gpu_variant: str | None = Field(description="Form factor or edition: SXM, PCIe, NVL, OAM…")
    gpu_memory_gb: int = Field(description="Memory per GPU in GB.")
    gpu_count: int
    vcpus: float | None
    memory_gb: float | None = Field(description="Host memory in GB.")
    disk_gb: float | None
    price_per_hour: float = Field(description="USD per hour for the whole instance.")
    price_per_gpu_hour: float = Field(description="USD per GPU-hour.")
    spot: bool = Field(description="True for a spot/interruptible price.")
    available: bool
    reliability: float | None = Field(description="0-1 where the source reports it.")
    available_count: int | None = Field(
        description="How many such instances can be had now, where the provider says."
    )
    dlperf: float | None = Field(description="Vast.ai's DLPerf score, where published.")
    inet_down_mbps: float | None = Field(description="Download bandwidth in Mbit/s, if known.")
    inet_up_mbps: float | None = Field(description="Upload bandwidth in Mbit/s, if known.")
    measured_bf16_tflops: float | None = Field(description="BF16" + _MEASURED)
    measured_fp16_tflops: float | None = Field(description="FP16" + _MEASURED)
    measured_fp32_tflops: float | None = Field(description="FP32" + _MEASURED)
    stale: bool = Field(
        description="True when the provider has not been confirmed recently (it is failing); "
        "stale offers are never used to price a booking and drop out after a hard limit."
    )
    updated_at: datetime = Field(description="Last change of price, availability or specs.")
    gpu_known: bool = Field(description="False when the GPU name is not in the reference table.")
    offer_ref: str | None = Field(description="The provider's handle for launching this offer.")


class OfferPage(BaseModel):
    items: list[OfferOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class PricePoint(BaseModel):
    at: datetime
    price_per_hour: float
    price_per_gpu_hour: float
    available: bool


class ValueOut(BaseModel):
    """Value metrics of one offer (computed by the pricing domain)."""

    usd_per_gpu_hour: float | None
    usd_per_pflop_hour: float | None = Field(description="Per dense PFLOP-hour (see precision).")
    flops_precision: str | None = Field(description="bf16, fp16 or fp32: which figure was used.")
    usd_per_gb_vram_hour: float | None
    usd_per_mtok_inference: float | None = Field(description="8B-parameter model, BF16 decode.")
    usd_per_mtok_finetune: float | None = Field(
        description="8B full fine-tune; null if it won't fit."
    )


class OfferDetail(OfferOut):
    history: list[PricePoint] = Field(
        description="Recent price/availability changes, oldest first."
    )
    value: ValueOut | None = Field(
        None, description="Value metrics per GPU-hour (as in `/api/v1/offers/compare`)."
    )
    g_score: float | None = Field(
        None,
        description="0-100 against the current market, as in `/api/v1/offers/compare`; null "
        "while a just-started server is still indexing the market, and from the embedded CLI.",
    )


class OfferChange(BaseModel):
    """What changed about one offer in a market update (the live stream)."""

    id: int
    price_per_hour: float
    price_per_gpu_hour: float
    available: bool
    stale: bool
    new: bool = Field(description="True when the offer first appeared in this update.")
    updated_at: datetime


class MarketChanges(BaseModel):
    """`event: changes` of `/api/v1/offers/stream` (its `id` is `version`)."""

    version: int = Field(description="The market version these changes bring a client up to.")
    items: list[OfferChange]


class GpuGroupOut(BaseModel):
    gpu: str
    gpu_memory_gb: int
    gpu_variant: str | None = None
    offers: int
    providers: int
    min_price_per_gpu_hour: float
    median_price_per_gpu_hour: float
    max_price_per_gpu_hour: float
    cheapest_offer_id: int
    cheapest_provider: str


class SummaryOut(BaseModel):
    by: str
    items: list[GpuGroupOut]


class SourceOut(BaseModel):
    source: str
    provider: str
    offers: int = Field(description="All offers from this source, available or not.")
    available_offers: int
    last_change: datetime | None = Field(description="Latest change to any of its offers.")
    last_sync: datetime | None = Field(description="When it was last imported or synced.")
    last_status: str | None = Field(description="`ok` or `failed`.")
    last_error: str | None
    age_seconds: float | None = Field(description="Seconds since the last successful sync.")


class ProvidersOut(BaseModel):
    items: list[SourceOut]


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def present_offer(row: Sequence[Any]) -> dict[str, Any]:
    """An offer row (columns in OUTPUT_COLUMNS order) as API JSON: dollars, booleans, UTC."""
    out: dict[str, Any] = {}
    for name, value in zip(OUTPUT_COLUMNS, row, strict=True):
        if name in _MONEY:
            value = micros_to_usd(value)
        elif name in _BOOLS:
            value = bool(value)
        elif name in _FLOATS and value is not None:
            value = _number(value)
        elif name == "updated_at":
            value = ensure_utc(
                datetime.fromisoformat(value) if isinstance(value, str) else value
            ).isoformat()
        out[name] = value
    return out

"""Response models of the pricing API (documentation of the JSON it returns; USD)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OfferRef(BaseModel):
    offer_id: int
    provider: str | None
    region: str | None
    country: str | None
    price_per_hour: float
    price_per_gpu_hour: float


class Opportunity(BaseModel):
    gpu: str
    gpu_memory_gb: int
    gpu_variant: str | None = Field(description="null: the offers do not state it.")
    gpu_count: int
    spot: bool
    offers: int
    providers: int
    min_price_per_gpu_hour: float
    median_price_per_gpu_hour: float
    max_price_per_gpu_hour: float
    spread_per_gpu_hour: float
    spread_pct: float = Field(description="(max - min) / max × 100: what the cheapest saves.")
    saved_per_hour: float = Field(description="Spread × GPUs: saved per instance-hour.")
    savings_vs_median_pct: float
    cheapest: OfferRef
    most_expensive: OfferRef


class OpportunitiesOut(BaseModel):
    items: list[Opportunity]
    groups: int = Field(description="Groups that qualified (before `limit`).")


class Cost(BaseModel):
    price_per_hour: float
    period: float = Field(description="Cost over hours_per_day × days.")
    per_month: float = Field(description="Cost over a 30-day month at hours_per_day.")
    offer: OfferRef | None = None


class Saved(BaseModel):
    per_hour: float
    period: float
    per_month: float
    pct: float


class SavingsOut(BaseModel):
    gpu: str
    gpu_count: int
    spot: bool
    offers: int
    hours: float
    cheapest: Cost
    median: Cost
    savings_vs_median: Saved
    provider: Cost | None
    savings_vs_provider: Saved | None

"""Response models of the pricing API (documentation of the JSON it returns; USD)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from gp4u.offers.schemas import ValueOut

__all__ = ["ValueOut"]


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


class Compared(BaseModel):
    offer: dict[str, Any]
    value: ValueOut
    g_score: float = Field(description="0-100, computed the same way for every provider.")


class CompareOut(BaseModel):
    items: list[Compared]
    cheapest_offer_id: int
    best_value_offer_id: int = Field(description="The highest G-Score.")


class Effect(BaseModel):
    criterion: str
    share: float = Field(description="Its part of the offer's total distance from the ideals.")


class Recommendation(BaseModel):
    rank: int
    score: float = Field(description="TOPSIS closeness to the ideal, 0-1.")
    offer: dict[str, Any]
    criteria: dict[str, float]
    helped_by: list[Effect]
    held_back_by: list[Effect]


class RecommendationsOut(BaseModel):
    items: list[Recommendation]
    considered: int = Field(description="Offers that met the hard constraints.")
    weights: dict[str, float]
    regions: list[str]


class HistoryPoint(BaseModel):
    at: str
    min_price_per_gpu_hour: float | None = Field(description="null: nothing available then.")
    median_price_per_gpu_hour: float | None
    offers: int


class HistoryOut(BaseModel):
    gpu: str
    provider: str | None
    spot: bool
    resolution: str
    items: list[HistoryPoint]


class ForecastPoint(BaseModel):
    at: str
    median: float
    lower: float
    upper: float


class ForecastOut(BaseModel):
    gpu: str
    horizon: str
    model: str
    trend: dict[str, Any] = Field(description="direction (rising/falling/flat), per_day $, pct.")
    level: float = Field(description="Prediction interval level.")
    items: list[ForecastPoint]
    backtest: dict[str, Any] = Field(description="mape_pct, mae, coverage, points.")


class AnomalyOut(BaseModel):
    at: str
    direction: str = Field(description="spike or drop")
    price: float
    expected: float
    size: float
    size_pct: float
    score: float = Field(description="Robust sigmas from the expected price.")


class AnomaliesOut(BaseModel):
    gpu: str
    items: list[AnomalyOut]

"""Response models of the provider endpoints (documentation of the JSON they return)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class CallsOut(BaseModel):
    calls: int = Field(description="Provider calls in the last 15 minutes (this process).")
    success_rate: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None


class BreakerOut(BaseModel):
    state: str = Field(description="closed | open | half_open. Open means 'unknown', not 'none'.")
    consecutive_failures: int
    opened_at: str | None


class CacheOut(BaseModel):
    age_seconds: float | None = Field(description="Age of the cached offer list.")
    hit_ratio: float | None


class ProviderOut(BaseModel):
    name: str = Field(description="Adapter name: `vastai`, `runpod`, `catalog-aws`…")
    provider: str = Field(description="Provider id in the market's offers.")
    source: str = Field(description="Market source of its offers: live, catalog, simulated…")
    kind: str = Field(
        description="marketplace, cloud, catalog, local; imported (catalog files, no adapter) or "
        "simulated (the offline demo market, listed while it has offers)."
    )
    status: str = Field(
        description="healthy | degraded | unavailable | unknown (not called yet) | disabled "
        "(cannot list offers as configured, e.g. no API key; `capabilities` says why)"
    )
    capabilities: dict[str, str] = Field(
        description="Each capability: `yes`, or the reason it is missing (e.g. no API key)."
    )
    calls: CallsOut | None = None
    breaker: BreakerOut | None = None
    rate_limit: dict[str, float] | None = None
    cache: CacheOut | None = None
    sync_interval_seconds: float | None = None
    market: dict[str, Any] | None = Field(
        None, description="Offer counts and the last sync (time, status, error) of its source."
    )


class ProvidersOut(BaseModel):
    items: list[ProviderOut]


class SyncOut(BaseModel):
    name: str
    source: str
    provider: str
    status: str = Field(description="ok | failed")
    duration_ms: int
    seen: int
    added: int
    changed: int
    gone: int
    skipped: dict[str, int]
    error: str | None
    error_kind: str | None = Field(description="unavailable, timeout, auth, invalid_response…")
    stale: int
    expired: int

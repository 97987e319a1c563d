"""ORM models of the market: offers, their price/availability history, and source sync runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from gp4u.db.base import Base, BigId, UtcDateTime


class Offer(Base):
    """One rentable configuration at one provider, region and pricing kind (on-demand or spot).

    `key` identifies it within its source across imports; `updated_at` is the last time its
    price, availability or specs changed (a source's freshness lives in `source_syncs`).
    Prices are integer micro-USD per hour."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Byte-ordered on PostgreSQL whatever the database's locale: imports read one provider's
    # offers as a range of keys.
    key: Mapped[str] = mapped_column(
        String(512).with_variant(String(512, collation="C"), "postgresql"), unique=True
    )
    source: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(64))
    instance_type: Mapped[str] = mapped_column(String(255))
    region: Mapped[str | None] = mapped_column(String(128))
    zone: Mapped[str | None] = mapped_column(String(128))
    country: Mapped[str | None] = mapped_column(String(2))
    gpu: Mapped[str] = mapped_column(String(64))
    gpu_variant: Mapped[str | None] = mapped_column(String(32))
    gpu_memory_gb: Mapped[int] = mapped_column(Integer)
    gpu_count: Mapped[int] = mapped_column(Integer)
    gpu_known: Mapped[bool] = mapped_column(Boolean)
    gpu_raw_name: Mapped[str] = mapped_column(String(128))
    vcpus: Mapped[float | None] = mapped_column(Float)
    memory_gb: Mapped[float | None] = mapped_column(Float)
    disk_gb: Mapped[float | None] = mapped_column(Float)
    price_per_hour: Mapped[int] = mapped_column(BigInteger)
    price_per_gpu_hour: Mapped[int] = mapped_column(BigInteger)
    spot: Mapped[bool] = mapped_column(Boolean)
    available: Mapped[bool] = mapped_column(Boolean)
    reliability: Mapped[float | None] = mapped_column(Float)
    offer_ref: Mapped[str | None] = mapped_column(String(255))  # the provider's launch handle
    available_count: Mapped[int | None] = mapped_column(Integer)
    dlperf: Mapped[float | None] = mapped_column(Float)
    measured_bf16_tflops: Mapped[float | None] = mapped_column(Float)
    measured_fp16_tflops: Mapped[float | None] = mapped_column(Float)
    measured_fp32_tflops: Mapped[float | None] = mapped_column(Float)
    inet_down_mbps: Mapped[float | None] = mapped_column(Float)
    inet_up_mbps: Mapped[float | None] = mapped_column(Float)
    # Its source has not been confirmed for a while (the provider is failing); set and cleared
    # by the sync jobs. Past the hard limit such offers also become unavailable.
    stale: Mapped[bool] = mapped_column(Boolean, server_default=false())
    content_hash: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        # SQL search serves the embedded CLI (and the server until its in-memory index is built);
        # its most common shape is "this GPU, cheapest first". Every index slows imports, so
        # other shapes scan (tens of milliseconds at 100k offers).
        Index("ix_offers_search_gpu", "available", "gpu", "price_per_gpu_hour", "id"),
        # The search index catches up by loading the offers written since the version it has.
        Index("ix_offers_version", "version"),
    )


class MarketState(Base):
    """One row: the market's version. Every import increments it and stamps the offers it
    writes with the new value, so a reader that has seen version V knows exactly which offers
    changed since: those with a greater version. Incrementing it also serialises writers."""

    __tablename__ = "market_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class OfferPrice(Base):
    """One point of price history: the offer's price and availability from `at` on."""

    __tablename__ = "offer_prices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    price_per_hour: Mapped[int] = mapped_column(BigInteger)
    price_per_gpu_hour: Mapped[int] = mapped_column(BigInteger)
    available: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_offer_prices_offer_at", "offer_id", "at"),)


class SourceSync(Base):
    """One import or sync run of a (source, provider): what it saw and what it changed."""

    __tablename__ = "source_syncs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(1024))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    rows_read: Mapped[int] = mapped_column(Integer)
    seen: Mapped[int | None] = mapped_column(Integer)  # offers read (after skipped rows)
    added: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    gone: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(32))  # ProviderError.kind

    __table_args__ = (
        Index("ix_source_syncs_source_provider", "source", "provider", "finished_at"),
    )

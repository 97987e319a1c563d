"""Request and response models of the alerts API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class WatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        description="Which offers to watch, in the query language of `/api/v1/offers`, e.g. "
        "`gpu=H100 gpu_count=8 country=US spot=false`.",
        max_length=2000,
    )
    max_price_per_gpu_hour: float = Field(
        description="Fire when the cheapest matching offer is at or below this (USD).", gt=0
    )
    name: str | None = Field(None, max_length=200)
    webhook_url: str | None = Field(
        None, max_length=2000, description="Also POST each alert here, signed (see docs)."
    )


class WatchOut(BaseModel):
    id: int
    name: str
    query: str
    max_price_per_gpu_hour: float
    webhook_url: str | None
    firing: bool = Field(description="The condition holds now (it fired on the crossing).")
    last_price_per_gpu_hour: float | None
    last_offer_id: int | None
    fired_count: int
    last_fired_at: str | None
    evaluated_at: str | None = Field(description="When its best price or state last changed.")
    created_at: str


class WatchCreated(WatchOut):
    webhook_secret: str | None = Field(
        description="Shown this once: verify `X-GP4U-Signature` with it."
    )


class WatchesOut(BaseModel):
    items: list[WatchOut]


class NotificationOut(BaseModel):
    id: int
    watch_id: int | None
    kind: str
    message: str
    payload: dict[str, Any]
    read: bool
    created_at: str


class NotificationsOut(BaseModel):
    items: list[NotificationOut]


class UnreadOut(BaseModel):
    unread: int = Field(description="Your unread notifications.")


class MarkedReadOut(BaseModel):
    marked: int = Field(description="How many notifications this marked read.")


class DeliveryOut(BaseModel):
    id: int
    notification_id: int
    url: str
    status: str = Field(description="pending, delivered or failed (after every retry).")
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: str
    delivered_at: str | None


class DeliveriesOut(BaseModel):
    items: list[DeliveryOut]

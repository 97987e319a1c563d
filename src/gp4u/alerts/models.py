"""ORM models of alerts: watches, the notifications they raise, and webhook deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gp4u.db.base import Base, BigId, UtcDateTime


class Watch(Base):
    """A saved query and a threshold: "tell me when the cheapest matching offer is at or
    below this $/GPU-hour". `firing` is true while the condition holds (it fired on the
    crossing and re-arms when the condition stops holding)."""

    __tablename__ = "watches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))  # "local" until accounts exist
    name: Mapped[str] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(Text)
    max_price_per_gpu_hour: Mapped[int] = mapped_column(BigInteger)  # micro-USD
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_secret: Mapped[str | None] = mapped_column(String(128))
    firing: Mapped[bool] = mapped_column(Boolean)
    last_price_per_gpu_hour: Mapped[int | None] = mapped_column(BigInteger)
    last_offer_id: Mapped[int | None] = mapped_column(BigInteger)
    fired_count: Mapped[int] = mapped_column(Integer)
    last_fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    evaluated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_watches_owner", "owner", "id"),)


class Notification(Base):
    """One alert raised for a watch's owner: the in-app feed and the live stream read these."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))
    watch_id: Mapped[int | None] = mapped_column(ForeignKey("watches.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    read: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_notifications_owner", "owner", "id"),)


class WebhookDelivery(Base):
    """One notification sent to one webhook: the delivery log. Attempts are retried with
    backoff by the job system; a delivery is never dropped silently."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    watch_id: Mapped[int | None] = mapped_column(ForeignKey("watches.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_webhook_deliveries_watch", "watch_id", "id"),)

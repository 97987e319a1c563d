"""Alerts: managing watches, evaluating them after syncs, the notification feed, and webhook
delivery.

A watch fires once per crossing: when its best price first drops to or below the threshold it
raises one notification (and one webhook delivery per configured URL); it stays quiet while the
condition holds and re-arms when the condition stops holding. Webhooks carry an HMAC-SHA256
signature of `<timestamp>.<body>` with the watch's secret (header `X-GP4U-Signature:
t=<timestamp>,v1=<hex>`), are retried with backoff by the job system, and every attempt is
logged on the delivery."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import secrets
import weakref
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit

import orjson
from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.alerts.evaluate import WatchEvaluator
from gp4u.alerts.models import Notification, Watch, WebhookDelivery
from gp4u.jobs import outbox
from gp4u.kit.errors import InvalidInput, InvalidQuery, NotFound
from gp4u.kit.money import micros_to_usd, usd_to_micros
from gp4u.offers.index import MarketIndex
from gp4u.offers.query import OfferQuery, build_query
from gp4u.providers.base import ProviderError
from gp4u.providers.gateway import CallPolicy, Gateway, ProviderClient

LOCAL_OWNER = "local"
DELIVER = "alerts.deliver_webhook"
MAX_DELIVERY_ATTEMPTS = 8
MAX_WATCHES = 500  # per user: keeps listings bounded and evaluation fair


def _query(text: str) -> OfferQuery:
    return build_query(text or None)


def present_watch(watch: Watch) -> dict[str, Any]:
    return {
        "id": watch.id,
        "name": watch.name,
        "query": watch.query,
        "max_price_per_gpu_hour": micros_to_usd(watch.max_price_per_gpu_hour),
        "webhook_url": watch.webhook_url,
        "firing": watch.firing,
        "last_price_per_gpu_hour": None
        if watch.last_price_per_gpu_hour is None
        else micros_to_usd(watch.last_price_per_gpu_hour),
        "last_offer_id": watch.last_offer_id,
        "fired_count": watch.fired_count,
        "last_fired_at": watch.last_fired_at.isoformat() if watch.last_fired_at else None,
        "evaluated_at": watch.evaluated_at.isoformat() if watch.evaluated_at else None,
        "created_at": watch.created_at.isoformat(),
    }


async def create_watch(
    session: AsyncSession,
    owner: str,
    *,
    name: str | None,
    query: str,
    max_price_per_gpu_hour: float,
    webhook_url: str | None,
    now: datetime,
    public_webhooks_only: bool = False,
) -> dict[str, Any]:
    """A new watch; the webhook secret is returned this once and never again. A multi-user
    server passes `public_webhooks_only`: a webhook may not point into GP4U's own network."""
    try:
        _query(query)
    except InvalidQuery as exc:
        raise InvalidInput(f"query: {exc.detail}", field="query") from exc
    if max_price_per_gpu_hour <= 0:
        raise InvalidInput(
            "max_price_per_gpu_hour must be positive", field="max_price_per_gpu_hour"
        )
    if webhook_url and not webhook_url.startswith(("https://", "http://")):
        raise InvalidInput("webhook_url must be an http(s) URL", field="webhook_url")
    if webhook_url and public_webhooks_only and not await is_public_url(webhook_url):
        raise InvalidInput(
            "webhook_url must reach a public address, not a private, loopback or link-local one",
            field="webhook_url",
        )
    count = await session.scalar(
        select(func.count()).select_from(Watch).where(Watch.owner == owner)
    )
    if (count or 0) >= MAX_WATCHES:
        raise InvalidInput(f"at most {MAX_WATCHES} watches; delete some first", field="query")
    watch = Watch(
        owner=owner,
        name=(name or query or "every offer")[:200],
        query=query,
        max_price_per_gpu_hour=usd_to_micros(max_price_per_gpu_hour),
        webhook_url=webhook_url or None,
        webhook_secret=secrets.token_urlsafe(32) if webhook_url else None,
        firing=False,
        fired_count=0,
        created_at=now,
    )
    session.add(watch)
    await session.flush()
    return {**present_watch(watch), "webhook_secret": watch.webhook_secret}


async def is_public_url(url: str) -> bool:
    """Whether every address the URL's host resolves to is globally routable (SSRF guard)."""
    host = urlsplit(url).hostname
    if not host:
        return False
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    except OSError:
        return False
    addresses = {ipaddress.ip_address(info[4][0]) for info in infos}
    return bool(addresses) and all(address.is_global for address in addresses)


async def list_watches(session: AsyncSession, owner: str) -> list[dict[str, Any]]:
    rows = await session.scalars(select(Watch).where(Watch.owner == owner).order_by(Watch.id))
    return [present_watch(w) for w in rows]


async def _owned(session: AsyncSession, owner: str, watch_id: int) -> Watch:
    watch = await session.get(Watch, watch_id)
    if watch is None or watch.owner != owner:  # another user's watch is as good as missing
        raise NotFound(f"no watch {watch_id}")
    return watch


async def get_watch(session: AsyncSession, owner: str, watch_id: int) -> dict[str, Any]:
    return present_watch(await _owned(session, owner, watch_id))


async def delete_watch(session: AsyncSession, owner: str, watch_id: int) -> None:
    await session.delete(await _owned(session, owner, watch_id))


async def evaluate(session: AsyncSession, index: MarketIndex, now: datetime) -> dict[str, int]:
    """Evaluate every watch against the market; fire on crossings, re-arm when they end."""
    evaluator = WatchEvaluator(index)
    watches = list(await session.scalars(select(Watch).order_by(Watch.id)))
    queries: dict[str, OfferQuery | None] = {}
    crossed: list[Watch] = []
    rearmed = 0
    for watch in watches:
        if watch.query not in queries:
            try:
                queries[watch.query] = _query(watch.query)
            except InvalidQuery:  # a query the field list no longer accepts: left alone
                queries[watch.query] = None
        query = queries[watch.query]
        if query is None:
            continue
        best = evaluator.best(watch.query, query)
        holds = best.price_per_gpu_hour is not None and (
            best.price_per_gpu_hour <= watch.max_price_per_gpu_hour
        )
        if (watch.last_price_per_gpu_hour, watch.last_offer_id) != (
            best.price_per_gpu_hour,
            best.offer_id,
        ):  # only what changed is written: most watches stay as they were
            watch.last_price_per_gpu_hour = best.price_per_gpu_hour
            watch.last_offer_id = best.offer_id
            watch.evaluated_at = now
        if holds and not watch.firing:
            watch.firing, watch.last_fired_at, watch.evaluated_at = True, now, now
            watch.fired_count += 1
            crossed.append(watch)
        elif not holds and watch.firing:
            watch.firing, watch.evaluated_at = False, now
            rearmed += 1
    await _notify(session, crossed, now)
    await session.flush()
    return {"watches": len(watches), "fired": len(crossed), "rearmed": rearmed}


async def _notify(session: AsyncSession, watches: list[Watch], now: datetime) -> None:
    """One notification per crossed watch, and a webhook delivery (a job) where configured."""
    notes = [_notification(watch, now) for watch in watches]
    session.add_all(notes)
    await session.flush()
    deliveries = [
        WebhookDelivery(
            notification_id=note.id,
            watch_id=watch.id,
            url=watch.webhook_url,
            status="pending",
            attempts=0,
            created_at=now,
        )
        for watch, note in zip(watches, notes, strict=True)
        if watch.webhook_url
    ]
    if deliveries:
        session.add_all(deliveries)
        await session.flush()
        for delivery in deliveries:
            await outbox.enqueue(session, DELIVER, now, {"delivery_id": delivery.id})


def _notification(watch: Watch, now: datetime) -> Notification:
    assert watch.last_price_per_gpu_hour is not None
    price = micros_to_usd(watch.last_price_per_gpu_hour)
    limit = micros_to_usd(watch.max_price_per_gpu_hour)
    payload = {
        "watch_id": watch.id,
        "name": watch.name,
        "query": watch.query,
        "price_per_gpu_hour": price,
        "max_price_per_gpu_hour": limit,
        "offer_id": watch.last_offer_id,
        "at": now.isoformat(),
    }
    return Notification(
        owner=watch.owner,
        watch_id=watch.id,
        kind="price_below",
        message=f"{watch.name}: ${price:g}/GPU-hour, at or below your ${limit:g} (offer "
        f"{watch.last_offer_id})",
        payload=payload,
        read=False,
        created_at=now,
    )


# Written on hot paths (every booking notifies its host), so a prepared Core statement rather
# than an ORM flush (half the CPU; see decision 35).
_INSERT_NOTIFICATION = insert(cast(Table, Notification.__table__))


async def notify(
    session: AsyncSession,
    owner: str,
    *,
    kind: str,
    message: str,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """A notification not tied to a watch (a budget threshold, a session event…): it reaches
    the feed and the live stream like price alerts do."""
    values = notification_values(owner, kind=kind, message=message, payload=payload, now=now)
    await write_notification(session, values)


async def write_notification(session: AsyncSession, values: dict[str, Any]) -> None:
    """Write a notification's row (`notification_values`)."""
    await session.execute(_INSERT_NOTIFICATION, values)


def notification_values(
    owner: str, *, kind: str, message: str, payload: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The row `notify` writes, for a caller that writes it together with its own rows."""
    return {
        "owner": owner,
        "watch_id": None,
        "kind": kind,
        "message": message,
        "payload": payload,
        "read": False,
        "created_at": now,
    }


def present_notification(note: Notification) -> dict[str, Any]:
    return {
        "id": note.id,
        "watch_id": note.watch_id,
        "kind": note.kind,
        "message": note.message,
        "payload": note.payload,
        "read": note.read,
        "created_at": note.created_at.isoformat(),
    }


async def notifications(
    session: AsyncSession, owner: str, *, after: int = 0, unread: bool = False, limit: int = 50
) -> list[dict[str, Any]]:
    query = select(Notification).where(Notification.owner == owner, Notification.id > after)
    if unread:
        query = query.where(Notification.read.is_(False))
    rows = await session.scalars(query.order_by(Notification.id.desc()).limit(limit))
    return [present_notification(n) for n in rows]


async def new_notifications(session: AsyncSession, owner: str, after: int) -> list[dict[str, Any]]:
    """Notifications newer than `after`, oldest first (the live stream's next batch)."""
    rows = await session.scalars(
        select(Notification)
        .where(Notification.owner == owner, Notification.id > after)
        .order_by(Notification.id)
        .limit(100)
    )
    return [present_notification(n) for n in rows]


async def last_notification_id(session: AsyncSession, owner: str) -> int:
    rows = await session.scalars(
        select(Notification.id)
        .where(Notification.owner == owner)
        .order_by(Notification.id.desc())
        .limit(1)
    )
    return next(iter(rows), 0)


async def unread_count(session: AsyncSession, owner: str) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.owner == owner, Notification.read.is_(False))
    )
    return int(count or 0)


async def mark_all_read(session: AsyncSession, owner: str) -> int:
    """Mark every unread notification of the owner read; how many were."""
    done = await session.execute(
        update(Notification)
        .where(Notification.owner == owner, Notification.read.is_(False))
        .values(read=True)
    )
    return int(getattr(done, "rowcount", 0) or 0)


async def mark_read(session: AsyncSession, owner: str, note_id: int) -> dict[str, Any]:
    note = await session.get(Notification, note_id)
    if note is None or note.owner != owner:
        raise NotFound(f"no notification {note_id}")
    note.read = True
    return present_notification(note)


def present_delivery(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "notification_id": d.notification_id,
        "url": d.url,
        "status": d.status,
        "attempts": d.attempts,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "created_at": d.created_at.isoformat(),
        "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
    }


async def deliveries(session: AsyncSession, owner: str, watch_id: int) -> list[dict[str, Any]]:
    await _owned(session, owner, watch_id)
    rows = await session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.watch_id == watch_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(200)
    )
    return [present_delivery(d) for d in rows]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>." + body>`: what receivers verify."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


_CLIENTS: weakref.WeakKeyDictionary[Gateway, ProviderClient] = weakref.WeakKeyDictionary()
_WEBHOOK_POLICY = CallPolicy(timeout=10.0, connect_timeout=5.0, attempts=1, max_seconds=15.0)


def _client(gateway: Gateway) -> ProviderClient:
    client = _CLIENTS.get(gateway)
    if client is None:
        client = _CLIENTS[gateway] = gateway.client("webhooks", policy=_WEBHOOK_POLICY)
    return client


async def deliver(session: AsyncSession, gateway: Gateway, delivery_id: int, now: datetime) -> str:
    """One delivery attempt. Raises on failure so the job system retries with backoff; the
    attempt is logged either way, and the last allowed attempt marks the delivery failed."""
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status == "delivered":
        return "nothing to do"
    note = await session.get(Notification, delivery.notification_id)
    watch = await session.get(Watch, delivery.watch_id) if delivery.watch_id else None
    if note is None or watch is None or not watch.webhook_secret:
        delivery.status, delivery.last_error = "failed", "the watch or its notification is gone"
        return "failed"
    body = orjson.dumps({"id": note.id, "kind": note.kind, "data": note.payload})
    stamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GP4U-Webhook/1",
        "X-GP4U-Delivery": str(delivery.id),
        "X-GP4U-Signature": signature(watch.webhook_secret, stamp, body),
    }
    delivery.attempts += 1
    try:
        response = await _client(gateway).request(
            "POST", delivery.url, content=body, headers=headers, idempotent=False
        )
        delivery.last_status_code = response.status
        if not response.ok:
            raise ProviderError("webhooks", f"receiver answered HTTP {response.status}")
    except ProviderError as exc:
        delivery.last_error = exc.message[:500]
        if delivery.attempts >= MAX_DELIVERY_ATTEMPTS:
            delivery.status = "failed"
        return "retry"
    delivery.status, delivery.delivered_at, delivery.last_error = "delivered", now, None
    return "delivered"

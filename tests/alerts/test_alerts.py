"""Price alerts: exactly once per crossing across many syncs, the feed and the live stream, and
webhooks that are signed, retried and logged (a real local receiver, a frozen clock)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gp4u.alerts import service
from gp4u.alerts.models import Notification, WebhookDelivery
from gp4u.db.engine import unit_of_work
from gp4u.fakes import kit
from gp4u.jobs.models import OutboxJob
from gp4u.kit.clock import FrozenClock
from gp4u.offers.service import snapshot_index
from gp4u.settings import Settings
from gp4u.worker.context import open_context
from gp4u.worker.inprocess import InProcessRunner
from tests import factories

Sessions = async_sessionmaker[AsyncSession]


async def _price(sessions: Sessions, clock: FrozenClock, dollars: float) -> None:
    """One sync of the market: two H100 offers, the cheaper at `dollars`/GPU-hour."""
    clock.advance(timedelta(minutes=1))
    await factories.import_offers(
        sessions,
        clock.now(),
        factories.offer(instance_type="a", price_per_hour=round(dollars * 1e6)),
        factories.offer(instance_type="b", price_per_hour=round((dollars + 1) * 1e6)),
    )


async def _evaluate(sessions: Sessions, clock: FrozenClock) -> dict[str, int]:
    async with unit_of_work(sessions) as session:
        index = await snapshot_index(session, None)
        return await service.evaluate(session, index, clock.now())


async def _watch(sessions: Sessions, clock: FrozenClock, **extra: Any) -> dict[str, Any]:
    async with unit_of_work(sessions) as session:
        return await service.create_watch(
            session,
            service.LOCAL_OWNER,
            name="cheap H100",
            query="gpu=H100 gpu_count=1",
            max_price_per_gpu_hour=2.20,
            webhook_url=extra.get("webhook_url"),
            now=clock.now(),
        )


async def test_a_watch_fires_once_per_crossing_across_many_syncs(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await _watch(sessions, clock)
    fired = []
    for price in (2.50, 2.40, 2.10, 2.00, 2.15, 1.90, 2.60, 2.70, 2.05, 2.05, 2.30):
        await _price(sessions, clock, price)
        fired.append((await _evaluate(sessions, clock))["fired"])
    assert fired == [0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0]  # two crossings, two alerts
    async with sessions() as session:
        notes = (await session.scalars(select(Notification).order_by(Notification.id))).all()
    assert [n.payload["price_per_gpu_hour"] for n in notes] == [2.10, 2.05]
    assert "at or below your $2.2" in notes[0].message


async def test_a_sync_that_changes_the_market_enqueues_one_evaluation(
    sessions: Sessions, clock: FrozenClock, settings: Settings, generated_catalogs: kit.RunningFake
) -> None:
    from gp4u.providers.registry import build_providers
    from gp4u.sources import service as sources

    providers = build_providers(
        settings.model_copy(
            update={
                "providers": "",
                "catalog_url": generated_catalogs.url,
                "catalog_providers": "a,b",
            }
        ),
        clock,
    )
    await sources.sync_many(sessions, providers, clock)
    await providers.aclose()
    async with sessions() as session:
        jobs = (await session.scalars(select(OutboxJob.job))).all()
    assert jobs == ["alerts.evaluate"]  # two syncs, one pending evaluation


@pytest.fixture
def receiver() -> Iterator[kit.RunningFake]:
    """A webhook receiver with the kit's fault switches; it keeps what it received."""
    state = kit.FakeState()
    app = FastAPI()
    kit.install(app, state, lambda n, s: [])
    received: list[dict[str, Any]] = []
    app.state.received = received

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        received.append({"body": await request.body(), "headers": dict(request.headers)})
        return Response(status_code=204)

    with kit.running(app) as running:
        yield running


@pytest.fixture
async def runner(
    settings: Settings, clock: FrozenClock, engine: AsyncEngine
) -> AsyncIterator[InProcessRunner]:
    ctx = open_context(settings.model_copy(update={"providers": ""}), clock)
    running = InProcessRunner(ctx, poll_seconds=0.02)
    running.start(schedules=False)
    yield running
    await running.stop()
    await ctx.aclose()
    await ctx.engine.dispose()


async def _delivery(sessions: Sessions) -> WebhookDelivery:
    async with sessions() as session:
        return (await session.scalars(select(WebhookDelivery))).one()


async def _until(check: Any) -> None:
    for _ in range(500):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


async def test_a_failing_webhook_is_retried_with_backoff_logged_and_delivered_signed(
    sessions: Sessions, clock: FrozenClock, receiver: kit.RunningFake, runner: InProcessRunner
) -> None:
    created = await _watch(sessions, clock, webhook_url=f"{receiver.url}/hook")
    secret = created["webhook_secret"]
    assert secret and len(secret) >= 32
    receiver.state.faults.fail_next = 2  # the receiver is down for two attempts
    await _price(sessions, clock, 2.0)
    await _evaluate(sessions, clock)
    runner.kick()
    for attempts in (1, 2):

        async def attempted(n: int = attempts) -> bool:
            return (await _delivery(sessions)).attempts == n

        await _until(attempted)
        delivery = await _delivery(sessions)
        assert delivery.status == "pending" and "HTTP 500" in (delivery.last_error or "")
        clock.advance(timedelta(seconds=2**attempts + 1))  # past the backoff
        runner.kick()

    async def delivered() -> bool:
        return (await _delivery(sessions)).status == "delivered"

    await _until(delivered)
    assert (await _delivery(sessions)).attempts == 3
    [got] = receiver.app.state.received if hasattr(receiver, "app") else _received(receiver)
    stamp, mac = (
        dict(p.split("=") for p in got["headers"]["x-gp4u-signature"].split(","))["t"],
        None,
    )
    signed = dict(p.split("=", 1) for p in got["headers"]["x-gp4u-signature"].split(","))
    expected = hmac.new(
        secret.encode(), f"{signed['t']}.".encode() + got["body"], hashlib.sha256
    ).hexdigest()
    assert signed["v1"] == expected and stamp and mac is None


def _received(fake: kit.RunningFake) -> list[dict[str, Any]]:
    return fake.server.config.app.state.received  # type: ignore[no-any-return]


async def test_a_webhook_that_never_answers_ends_failed_with_every_attempt_logged(
    sessions: Sessions, clock: FrozenClock, receiver: kit.RunningFake, runner: InProcessRunner
) -> None:
    await _watch(sessions, clock, webhook_url=f"{receiver.url}/hook")
    receiver.state.faults.fail_all = True
    await _price(sessions, clock, 2.0)
    await _evaluate(sessions, clock)
    for attempt in range(1, service.MAX_DELIVERY_ATTEMPTS + 1):
        runner.kick()

        async def attempted(n: int = attempt) -> bool:
            return (await _delivery(sessions)).attempts == n

        await _until(attempted)
        clock.advance(timedelta(seconds=301))

    async def failed() -> bool:
        return (await _delivery(sessions)).status == "failed"

    await _until(failed)
    delivery = await _delivery(sessions)
    assert delivery.attempts == service.MAX_DELIVERY_ATTEMPTS and "HTTP 500" in (
        delivery.last_error or ""
    )


async def test_the_api_feed_and_live_stream(
    client: httpx.AsyncClient, sessions: Sessions, clock: FrozenClock
) -> None:
    created = await client.post(
        "/api/v1/alerts", json={"query": "gpu=H100 gpu_count=1", "max_price_per_gpu_hour": 2.2}
    )
    assert created.status_code == 201 and created.json()["webhook_secret"] is None
    watch_id = created.json()["id"]
    bad = await client.post(
        "/api/v1/alerts", json={"query": "gpuu=H100", "max_price_per_gpu_hour": 2}
    )
    assert bad.status_code == 400 and bad.json()["field"] == "query"
    extra = await client.post(
        "/api/v1/alerts", json={"query": "gpu=H100", "max_price_per_gpu_hour": 2, "owner": "x"}
    )
    assert extra.status_code == 422  # unknown fields are refused
    await _price(sessions, clock, 2.0)
    await _evaluate(sessions, clock)
    feed = (await client.get("/api/v1/alerts/notifications")).json()["items"]
    assert len(feed) == 1 and feed[0]["watch_id"] == watch_id and not feed[0]["read"]
    read = await client.post(f"/api/v1/alerts/notifications/{feed[0]['id']}/read")
    assert read.json()["read"] is True
    stream = await client.get(
        "/api/v1/alerts/stream", params={"max_events": 1}, headers={"Last-Event-ID": "0"}
    )
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert f"id: {feed[0]['id']}\nevent: notification\ndata: " in stream.text
    watch = (await client.get(f"/api/v1/alerts/{watch_id}")).json()
    assert watch["firing"] is True and watch["fired_count"] == 1
    assert (await client.get("/api/v1/alerts/notifications/unread")).json() == {"unread": 0}
    await _price(sessions, clock, 3.0)  # the crossing ends: re-armed
    await _evaluate(sessions, clock)
    await _price(sessions, clock, 1.5)  # and crossed again
    await _evaluate(sessions, clock)
    assert (await client.get("/api/v1/alerts/notifications/unread")).json() == {"unread": 1}
    marked = await client.post("/api/v1/alerts/notifications/read")
    assert marked.json() == {"marked": 1}
    assert (await client.get("/api/v1/alerts/notifications/unread")).json() == {"unread": 0}
    feed = (await client.get("/api/v1/alerts/notifications")).json()["items"]
    assert len(feed) == 2 and all(n["read"] for n in feed)
    assert (await client.delete(f"/api/v1/alerts/{watch_id}")).status_code == 204
    assert (await client.get(f"/api/v1/alerts/{watch_id}")).status_code == 404

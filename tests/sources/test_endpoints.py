"""The provider API: list with health and capabilities, one provider's health, sync now, the
operator actions, and the Prometheus metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gp4u.app import create_app
from gp4u.fakes import kit
from gp4u.kit.clock import FrozenClock
from gp4u.settings import Settings
from gp4u.sources.jobs import sync_schedules
from gp4u.worker.context import open_context
from tests.factories import asgi_client


@pytest.fixture
async def api(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock, shared_catalogs: kit.RunningFake
) -> AsyncIterator[httpx.AsyncClient]:
    configured = settings.model_copy(
        update={
            "providers": "vastai,lambda,local,nosuch",
            "catalog_url": shared_catalogs.url,
            "catalog_providers": "lambda",
        }
    )
    app = create_app(configured, clock=clock, background_jobs=False)
    async with asgi_client(app) as client:
        yield client


async def test_the_provider_list_says_what_each_can_do_and_why_not(
    api: httpx.AsyncClient,
) -> None:
    items = {i["name"]: i for i in (await api.get("/api/v1/providers")).json()["items"]}
    assert set(items) == {"vastai", "lambda", "local", "nosuch", "catalog-lambda", "gp4u"}
    assert items["gp4u"]["kind"] == "host" and items["gp4u"]["capabilities"]["launch"] == "yes"
    assert "listed by their owners" in items["gp4u"]["capabilities"]["offers"]
    assert items["lambda"]["capabilities"]["launch"].startswith("no API key")
    assert "GP4U_LAMBDA_API_KEY" in items["lambda"]["capabilities"]["launch"]
    assert items["vastai"]["capabilities"]["offers"] == "yes"  # anonymous search
    assert items["catalog-lambda"]["capabilities"]["launch"] == "catalog only: no provisioning API"
    assert items["local"]["capabilities"]["launch"] == "yes"
    assert items["nosuch"]["status"] == "unavailable"
    assert "no provider adapter named 'nosuch'" in items["nosuch"]["capabilities"]["launch"]
    assert items["vastai"]["breaker"]["state"] == "closed"
    assert items["vastai"]["status"] == "unknown"  # never called yet


async def test_sync_now_then_health_shows_calls_cache_and_last_sync(
    api: httpx.AsyncClient,
) -> None:
    synced = (await api.post("/api/v1/providers/catalog-lambda/sync")).json()
    assert (synced["status"], synced["added"], synced["seen"]) == ("ok", 391, 391)
    health = (await api.get("/api/v1/providers/catalog-lambda/health")).json()
    assert health["status"] == "healthy"
    assert health["calls"]["calls"] == 1 and health["calls"]["success_rate"] == 1.0
    assert health["calls"]["latency_p50_ms"] is not None
    assert health["cache"]["age_seconds"] == 0.0
    assert health["market"]["available_offers"] == 391
    assert health["market"]["last_status"] == "ok"
    page = (await api.get("/api/v1/offers", params={"q": "provider=lambda gpu=H100"})).json()
    assert page["items"] and all(not o["stale"] for o in page["items"])

    assert (await api.post("/api/v1/providers/catalog-lambda/cache/invalidate")).json() == {
        "name": "catalog-lambda",
        "invalidated": True,
    }
    reset = await api.post("/api/v1/providers/catalog-lambda/breaker/reset")
    assert reset.json() == {"name": "catalog-lambda", "breaker": "closed"}

    metrics = (await api.get("/metrics")).text
    assert 'gp4u_provider_requests_total{outcome="ok",provider="catalog-lambda"}' in metrics
    assert "gp4u_provider_sync_seconds_bucket" in metrics
    assert 'gp4u_provider_offers{provider="catalog-lambda"} 391.0' in metrics


async def test_unknown_providers_are_404_in_the_envelope(api: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/v1/providers/nope/health"),
        ("POST", "/api/v1/providers/nope/sync"),
        ("POST", "/api/v1/providers/nope/breaker/reset"),
        ("POST", "/api/v1/providers/nope/cache/invalidate"),
    ]:
        response = await api.request(method, path)
        assert response.status_code == 404, path
        assert response.json()["error"] == "NotFound"


async def test_a_failing_sync_is_reported_not_raised(
    api: httpx.AsyncClient, shared_catalogs: kit.RunningFake
) -> None:
    shared_catalogs.state.faults.fail_all = True
    failed = (await api.post("/api/v1/providers/catalog-lambda/sync")).json()
    assert (failed["status"], failed["error_kind"]) == ("failed", "unavailable")
    health = (await api.get("/api/v1/providers/catalog-lambda/health")).json()
    assert health["status"] == "unavailable"
    assert health["calls"]["success_rate"] == 0.0
    assert health["market"]["last_status"] == "failed"


async def test_a_provider_without_its_key_is_disabled_and_not_scheduled(
    api: httpx.AsyncClient, settings: Settings, clock: FrozenClock
) -> None:
    items = {i["name"]: i for i in (await api.get("/api/v1/providers")).json()["items"]}
    assert items["lambda"]["status"] == "disabled"
    assert items["lambda"]["capabilities"]["offers"].startswith("no API key")

    ctx = open_context(settings.model_copy(update={"providers": "lambda,vastai"}), clock)
    try:
        assert [s.key for s in sync_schedules(ctx)] == ["sync:vastai"]
    finally:
        await ctx.aclose()
        await ctx.engine.dispose()


async def test_current_offers_come_through_the_cache_and_show_in_health(
    api: httpx.AsyncClient, shared_catalogs: kit.RunningFake
) -> None:
    first = (await api.get("/api/v1/providers/catalog-lambda/offers")).json()
    assert first["freshness"] == "fresh" and len(first["offers"]) == 391
    assert first["offers"][0]["price_per_hour"] > 0  # dollars
    seen = len(shared_catalogs.state.requests)
    again = (await api.get("/api/v1/providers/catalog-lambda/offers")).json()
    assert again["fetched_at"] == first["fetched_at"]
    assert len(shared_catalogs.state.requests) == seen  # served from the cache
    health = (await api.get("/api/v1/providers/catalog-lambda/health")).json()
    assert health["cache"]["hit_ratio"] == 0.5  # one miss, one hit
    metrics = (await api.get("/metrics")).text  # process-wide counters: other tests add to them
    assert 'gp4u_provider_cache_total{provider="catalog-lambda",result="fresh"}' in metrics

    shared_catalogs.state.faults.fail_all = True
    await api.post("/api/v1/providers/catalog-lambda/cache/invalidate")
    down = await api.get("/api/v1/providers/catalog-lambda/offers")
    assert down.status_code == 503 and down.json()["error"] == "ServiceUnavailable"

"""The market API on both databases: shapes, errors in one envelope, ids and request ids."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.clock import FrozenClock
from gp4u.offers.embedded import search_offers_embedded
from gp4u.offers.query import build_query
from tests import factories


async def _seed(sessions: async_sessionmaker[AsyncSession], clock: FrozenClock) -> None:
    await factories.import_offers(
        sessions,
        clock.now(),
        factories.offer(
            instance_type="gpu_8x_h100_sxm5",
            gpu_name="H100",
            gpu_count=8,
            price_per_hour=31_920_000,
            region="us-east-1",
        ),
        factories.offer(
            instance_type="gpu_1x_a100",
            gpu_name="A100-SXM4-40GB",
            price_per_hour=1_290_000,
            region="europe-central-1",
            country="DE",
        ),
        factories.offer(
            instance_type="gpu_1x_a100_80",
            gpu_name="A100-80GB",
            price_per_hour=1_790_000,
            spot=True,
            reliability=None,
        ),
        provider="lambda",
    )


async def test_search_returns_normalised_offers_in_dollars(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    await _seed(sessions, clock)
    response = await client.get("/api/v1/offers", params={"q": "gpu=H100 gpu_count>=8"})
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    [offer] = body["items"]
    assert set(offer) == {
        "id",
        "provider",
        "source",
        "instance_type",
        "region",
        "zone",
        "country",
        "gpu",
        "gpu_variant",
        "gpu_memory_gb",
        "gpu_count",
        "vcpus",
        "memory_gb",
        "disk_gb",
        "price_per_hour",
        "price_per_gpu_hour",
        "spot",
        "available",
        "reliability",
        "available_count",
        "dlperf",
        "inet_down_mbps",
        "inet_up_mbps",
        "measured_bf16_tflops",
        "measured_fp16_tflops",
        "measured_fp32_tflops",
        "stale",
        "updated_at",
        "gpu_known",
        "offer_ref",
    }
    assert offer["stale"] is False
    assert (offer["price_per_hour"], offer["price_per_gpu_hour"]) == (31.92, 3.99)
    assert (offer["gpu"], offer["gpu_memory_gb"], offer["source"]) == ("H100", 80, "catalog")
    assert offer["updated_at"] == "2026-11-01T12:00:00+00:00"


async def test_gpu_spellings_in_queries(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    await _seed(sessions, clock)

    async def types(q: str) -> list[str]:
        response = await client.get("/api/v1/offers", params={"q": q})
        return [i["instance_type"] for i in response.json()["items"]]

    assert await types("gpu=A100") == ["gpu_1x_a100", "gpu_1x_a100_80"]
    assert await types("gpu=A100-80GB") == ["gpu_1x_a100_80"]
    assert await types('gpu="a100 sxm4"') == ["gpu_1x_a100"]
    assert await types("gpu notin [A100-80GB] spot=false") == ["gpu_1x_a100", "gpu_8x_h100_sxm5"]
    assert await types("country in [de] price_per_gpu_hour<1.5") == ["gpu_1x_a100"]


async def test_pagination_walks_every_offer_once(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    await _seed(sessions, clock)
    items = await factories.all_pages(client, limit=1, sort="-price_per_hour")
    assert [i["price_per_hour"] for i in items] == [31.92, 1.79, 1.29]


async def test_bad_input_gets_a_clear_error_in_one_envelope(client: httpx.AsyncClient) -> None:
    cases = {
        "q=gpuu%3DH100": ("gpuu", "unknown field 'gpuu'"),
        "q=gpu_count%3E%3Deight": ("gpu_count", "bad value 'eight' for 'gpu_count'"),
        "q=price_per_gpu_hour~2": ("price_per_gpu_hour", "needs a text field"),
        "q=region%3E5": ("region", "needs a numeric or time field"),
        "q=gpu%3D%3D%3DH100": (None, "expected a value"),
        "q=gpu": ("gpu", "expected an operator"),
        "q=country%20in%20%5BUS": (None, "unterminated list"),
        "q=region%3D%22us": (None, "unterminated quoted value"),
        "q=spot%3Dmaybe": ("spot", "expected true or false"),
        "limit=5000": ("limit", "limit must be between 1 and 1000"),
        "limit=0": ("limit", "limit must be between 1 and 1000"),
        "limit=ten": ("limit", "valid integer"),
        "sort=region": ("sort", "cannot sort by 'region'"),
        "sort=price_per_hour:sideways": ("sort", "bad sort direction"),
        "cursor=not-a-cursor": ("cursor", "malformed cursor"),
    }
    for params, (field, message) in cases.items():
        response = await client.get(f"/api/v1/offers?{params}")
        assert response.status_code == 400, params
        body = response.json()
        assert body["error"] == "InvalidQuery", params
        assert message in body["detail"], (params, body["detail"])
        if field:
            assert body["field"] == field, params
    unknown = (await client.get("/api/v1/offers?q=gpuu%3D1")).json()
    assert "price_per_gpu_hour" in unknown["valid_fields"]


async def test_a_cursor_from_another_query_is_refused(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    await _seed(sessions, clock)
    cursor = (await client.get("/api/v1/offers?limit=1")).json()["next_cursor"]
    response = await client.get(
        "/api/v1/offers", params={"limit": 1, "cursor": cursor, "q": "spot=false"}
    )
    assert response.status_code == 400
    assert "different query" in response.json()["detail"]


async def test_offer_detail_history_and_not_found(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    await _seed(sessions, clock)
    offer_id = (await client.get("/api/v1/offers?q=gpu=H100")).json()["items"][0]["id"]
    detail = (await client.get(f"/api/v1/offers/{offer_id}")).json()
    assert detail["history"] == [
        {
            "at": "2026-11-01T12:00:00+00:00",
            "price_per_hour": 31.92,
            "price_per_gpu_hour": 3.99,
            "available": True,
        }
    ]
    # The detail carries the G-Score and value metrics that /offers/compare gives it.
    other_id = (await client.get("/api/v1/offers?q=gpu=A100")).json()["items"][0]["id"]
    compared = (await client.get(f"/api/v1/offers/compare?ids={offer_id},{other_id}")).json()
    scored = next(i for i in compared["items"] if i["offer"]["id"] == offer_id)
    assert detail["g_score"] == scored["g_score"]
    assert detail["value"] == scored["value"]
    missing = await client.get("/api/v1/offers/999999")
    assert missing.status_code == 404
    assert missing.json() == {"error": "NotFound", "detail": "no offer with id 999999"}
    assert (await client.get("/api/v1/offers/abc")).json()["error"] == "NotFound"
    assert (await client.get("/api/v1/nothing-here")).json()["error"] == "NotFound"


async def test_summary_and_providers(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    await _seed(sessions, clock)
    summary = (await client.get("/api/v1/offers/summary", params={"by": "variant"})).json()
    assert [(i["gpu"], i["gpu_memory_gb"], i["gpu_variant"]) for i in summary["items"]] == [
        ("A100", 40, "SXM"),
        ("A100", 80, None),
        ("H100", 80, None),
    ]
    assert (await client.get("/api/v1/offers/summary?by=model")).status_code == 400
    clock.advance(timedelta(minutes=30))
    providers = {i["name"]: i for i in (await client.get("/api/v1/providers")).json()["items"]}
    assert providers["catalog:lambda"]["kind"] == "imported"  # catalog files, no adapter
    assert [providers["catalog:lambda"]["market"]] == [
        {
            "source": "catalog",
            "provider": "lambda",
            "offers": 3,
            "available_offers": 3,
            "last_change": "2026-11-01T12:00:00+00:00",
            "last_sync": "2026-11-01T12:00:00+00:00",
            "last_status": "ok",
            "last_error": None,
            "age_seconds": 1800.0,
        }
    ]


async def test_request_ids_and_openapi(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "trace-123"})
    assert response.headers["x-request-id"] == "trace-123"
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id!"})
    assert len(generated.headers["x-request-id"]) == 32
    spec = (await client.get("/api/openapi.json")).json()
    assert {
        "/api/v1/offers",
        "/api/v1/offers/summary",
        "/api/v1/offers/{offer_id}",
        "/api/v1/providers",
        "/api/v1/gpus",
    } <= set(spec["paths"])
    q_doc = next(
        p for p in spec["paths"]["/api/v1/offers"]["get"]["parameters"] if p["name"] == "q"
    )
    assert "notin" in q_doc["description"]
    assert (await client.get("/api/docs")).status_code == 200


async def test_time_cursors_do_not_depend_on_the_local_time_zone(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for minutes in (0, 5, 10):  # three imports, three different updated_at
        clock.advance(timedelta(minutes=minutes))
        await factories.import_offers(
            sessions, clock.now(), factories.offer(), provider=f"p{minutes}"
        )
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        items = await factories.all_pages(client, limit=1, sort="updated_at")
        assert [i["provider"] for i in items] == ["p0", "p5", "p10"]
        if db_url.startswith("sqlite"):
            conn = sqlite3.connect(db_url.removeprefix("sqlite+aiosqlite:///"))
            first = search_offers_embedded(conn, build_query(sort="updated_at", limit=1))
            rest = search_offers_embedded(
                conn, build_query(sort="updated_at", limit=5, cursor=first.next_cursor)
            )
            conn.close()
            assert [i["provider"] for i in first.items + rest.items] == ["p0", "p5", "p10"]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()

"""Comparing offers and recommending them, through the API, over the real catalogs."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.clock import FrozenClock
from gp4u.offers import jobs
from tests.conftest import CATALOGS


@pytest.fixture
async def market(sessions: async_sessionmaker[AsyncSession], clock: FrozenClock) -> None:
    await jobs.import_catalog_files(sessions, [CATALOGS / "lambda", CATALOGS / "runpod"], clock)


async def _ids(client: httpx.AsyncClient, q: str, n: int) -> list[int]:
    page = await client.get("/api/v1/offers", params={"q": q, "limit": n})
    return [o["id"] for o in page.json()["items"]]


async def test_compare_shows_value_metrics_and_g_scores(
    market: None, client: httpx.AsyncClient
) -> None:
    h100 = await _ids(client, "gpu=H100 gpu_count=8 provider=lambda spot=false", 1)
    t4 = await _ids(client, "gpu=A10", 1)
    response = await client.get("/api/v1/offers/compare", params={"ids": f"{h100[0]},{t4[0]}"})
    assert response.status_code == 200, response.text
    body = response.json()
    first, second = body["items"]
    assert first["offer"]["id"] == h100[0] and first["value"]["flops_precision"] == "bf16"
    assert first["value"]["usd_per_gpu_hour"] == first["offer"]["price_per_gpu_hour"]
    assert 0 <= second["g_score"] <= 100 and 0 <= first["g_score"] <= 100
    assert (
        body["cheapest_offer_id"]
        == min(body["items"], key=lambda i: i["offer"]["price_per_gpu_hour"])["offer"]["id"]
    )
    for bad in ("1", "1,1", "1,2,3,4,5", "a,b"):
        assert (await client.get("/api/v1/offers/compare", params={"ids": bad})).status_code == 400
    missing = await client.get("/api/v1/offers/compare", params={"ids": f"{h100[0]},999999"})
    assert missing.status_code == 404


async def test_recommendations_follow_the_weights_and_explain_themselves(
    market: None, client: httpx.AsyncClient
) -> None:
    cheap = await client.get(
        "/api/v1/recommendations", params={"q": "gpu_count=1", "weights": "price:1", "limit": 5}
    )
    assert cheap.status_code == 200, cheap.text
    body = cheap.json()
    prices = [i["offer"]["price_per_hour"] for i in body["items"]]
    assert prices == sorted(prices)  # price alone: cheapest first
    assert body["items"][0]["helped_by"][0]["criterion"] == "price"
    assert all(i["offer"]["gpu_count"] == 1 for i in body["items"])  # a hard constraint

    fast = await client.get(
        "/api/v1/recommendations", params={"weights": "performance:1", "limit": 3}
    )
    tflops = [i["criteria"]["performance"] for i in fast.json()["items"]]
    assert tflops == sorted(tflops, reverse=True) and tflops[0] > 1000

    bad = await client.get("/api/v1/recommendations", params={"weights": "speed:1"})
    assert bad.status_code == 400 and bad.json()["field"] == "weights"
    assert "unknown criterion 'speed'" in bad.json()["detail"]

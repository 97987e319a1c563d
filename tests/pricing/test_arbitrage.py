"""Arbitrage over the real catalogs equals a brute-force computation; the savings calculator."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.clock import FrozenClock
from gp4u.offers import jobs
from gp4u.offers.query import build_query
from gp4u.offers.service import snapshot_index
from gp4u.pricing import arbitrage
from gp4u.pricing.arbitrage import ArbitrageQuery
from tests.conftest import CATALOGS

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def market(sessions: Sessions, clock: FrozenClock) -> None:
    await jobs.import_catalog_files(sessions, [CATALOGS], clock)


def brute_force(offers: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for o in offers:
        key = (o["gpu"], o["gpu_memory_gb"], o["gpu_variant"], o["gpu_count"], o["spot"])
        groups[key].append(o)
    result = {}
    for key, members in groups.items():
        if len({m["provider"] for m in members}) < 2:
            continue
        prices = sorted(m["price_per_gpu_hour"] for m in members)
        result[key] = {
            "offers": len(members),
            "providers": len({m["provider"] for m in members}),
            "min": prices[0],
            "max": prices[-1],
            "median": statistics.median(prices),
        }
    return result


async def test_opportunities_equal_a_brute_force_grouping_of_the_real_catalogs(
    market: None, sessions: Sessions
) -> None:
    async with sessions() as session:
        index = await snapshot_index(session, None)
    everything = build_query("", limit=1000)
    items, total = arbitrage.opportunities(index, ArbitrageQuery(everything, limit=1000))
    slots = range(index.size)
    offers = [
        {
            "gpu": index.strings["gpu"].values[index.texts["gpu"][s]],
            "gpu_memory_gb": int(index.numbers["gpu_memory_gb"][s]),
            "gpu_variant": (
                None
                if index.texts["gpu_variant"][s] < 0
                else index.strings["gpu_variant"].values[index.texts["gpu_variant"][s]]
            ),
            "gpu_count": int(index.numbers["gpu_count"][s]),
            "spot": bool(index.bools["spot"][s]),
            "provider": index.strings["provider"].values[index.texts["provider"][s]],
            "price_per_gpu_hour": int(index.numbers["price_per_gpu_hour"][s]),
        }
        for s in slots
        if index.bools["available"][s]
    ]
    expected = brute_force(offers)
    assert total == len(expected) == len(items) > 50
    for item in items:
        key = (
            item["gpu"],
            item["gpu_memory_gb"],
            item["gpu_variant"],
            item["gpu_count"],
            item["spot"],
        )
        want = expected[key]
        assert (item["offers"], item["providers"]) == (want["offers"], want["providers"])
        assert (item["min_price_per_gpu_hour"], item["max_price_per_gpu_hour"]) == (
            want["min"],
            want["max"],
        )
        assert item["median_price_per_gpu_hour"] == round(want["median"])
        assert item["cheapest"]["price_per_gpu_hour"] == want["min"]
        assert item["most_expensive"]["price_per_gpu_hour"] == want["max"]
        assert item["spread_pct"] == round((want["max"] - want["min"]) * 100 / want["max"], 2)
    spreads = [i["spread_pct"] for i in items]
    assert spreads == sorted(spreads, reverse=True)
    a100 = {(i["gpu_memory_gb"], i["spot"]) for i in items if i["gpu"] == "A100"}
    assert {40, 80} <= {m for m, _ in a100}  # both sizes present, in separate groups


async def test_the_api_filters_sorts_and_never_mixes_spot(
    market: None, client: httpx.AsyncClient
) -> None:
    response = await client.get(
        "/api/v1/arbitrage/opportunities",
        params={"gpu": "H100", "gpu_count": 8, "spot": "false", "sort": "saved_per_hour"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["items"] and all(
        (i["gpu"], i["gpu_count"], i["spot"]) == ("H100", 8, False) for i in body["items"]
    )
    saved = [i["saved_per_hour"] for i in body["items"]]
    assert saved == sorted(saved, reverse=True)
    top = body["items"][0]
    assert top["cheapest"]["provider"] != top["most_expensive"]["provider"]
    assert top["saved_per_hour"] == pytest.approx(top["spread_per_gpu_hour"] * 8)

    wide = await client.get(
        "/api/v1/arbitrage/opportunities", params={"min_spread_pct": 60, "provider": "lambda"}
    )
    for item in wide.json()["items"]:
        assert item["spread_pct"] >= 60
    bad = await client.get("/api/v1/arbitrage/opportunities", params={"min_spread_pct": 120})
    assert bad.status_code == 400 and bad.json()["field"] == "min_spread_pct"
    bad_q = await client.get("/api/v1/arbitrage/opportunities", params={"q": "gpuu=H100"})
    assert bad_q.status_code == 400 and "gpuu" in bad_q.json()["detail"]


async def test_savings_against_the_median_and_a_provider(
    market: None, client: httpx.AsyncClient
) -> None:
    response = await client.get(
        "/api/v1/arbitrage/savings",
        params={
            "gpu": "H100",
            "gpu_count": 8,
            "hours_per_day": 10,
            "days": 3,
            "provider": "lambda",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["hours"] == 30
    cheapest, median = body["cheapest"], body["median"]
    assert cheapest["period"] == pytest.approx(cheapest["price_per_hour"] * 30, abs=0.01)
    assert cheapest["per_month"] == pytest.approx(cheapest["price_per_hour"] * 300, abs=0.01)
    saved = body["savings_vs_median"]
    assert saved["per_hour"] == pytest.approx(median["price_per_hour"] - cheapest["price_per_hour"])
    assert body["provider"]["offer"]["provider"] == "lambda"
    assert body["provider"]["price_per_hour"] == 31.92  # Lambda 8×H100, its list price
    assert body["savings_vs_provider"]["per_hour"] >= 0
    none = await client.get("/api/v1/arbitrage/savings", params={"gpu": "H100", "gpu_count": 7})
    assert none.status_code == 404

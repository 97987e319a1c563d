"""Price history, forecast and anomalies over a market that moved hour by hour for days (six
H100 offers with a daily price cycle and noise, re-imported every hour of a frozen clock)."""

from __future__ import annotations

import math
import random
import statistics
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.clock import FrozenClock
from gp4u.offers import service as market
from gp4u.offers.query import build_query
from gp4u.pricing import history
from tests import factories

Sessions = async_sessionmaker[AsyncSession]
DAYS = 4


@pytest.fixture
async def moving_market(sessions: Sessions, clock: FrozenClock) -> None:
    rng = random.Random(3)
    for hour in range(DAYS * 24 + 1):
        cycle = 1 + 0.05 * math.sin(2 * math.pi * hour / 24)
        offers = [
            factories.offer(
                instance_type=f"h100-{i}",
                price_per_hour=round(2_400_000 * (1 + i / 20) * cycle * rng.uniform(0.98, 1.02)),
            )
            for i in range(6)
        ]
        await factories.import_offers(sessions, clock.now(), *offers)
        clock.advance(timedelta(hours=1))
    clock.advance(timedelta(minutes=-59))  # just after the last tick


async def test_history_equals_the_market_at_each_step(
    moving_market: None, client: httpx.AsyncClient, sessions: Sessions, clock: FrozenClock
) -> None:
    response = await client.get(
        "/api/v1/prices/history", params={"gpu": "H100", "resolution": "1h", "days": 2}
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == 49 and all(i["offers"] > 0 for i in items)
    assert len({i["median_price_per_gpu_hour"] for i in items}) > 5  # the market moved
    last = items[-1]
    async with sessions() as session:
        now = await market.search_offers(session, build_query("gpu=H100 spot=false", limit=1000))
    prices = sorted(o["price_per_gpu_hour"] for o in now.items)
    assert last["offers"] == len(prices)
    assert last["min_price_per_gpu_hour"] == prices[0]
    assert last["median_price_per_gpu_hour"] == pytest.approx(statistics.median(prices), abs=1e-6)

    csv = await client.get(
        "/api/v1/prices/history", params={"gpu": "H100", "days": 1, "format": "csv"}
    )
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0] == "at,min_price_per_gpu_hour,median_price_per_gpu_hour,offers"
    assert len(lines) == 26
    bad = await client.get("/api/v1/prices/history", params={"gpu": "H100", "resolution": "2h"})
    assert bad.status_code == 400


async def test_forecast_and_anomalies_of_the_series(
    moving_market: None, client: httpx.AsyncClient
) -> None:
    response = await client.get(
        "/api/v1/prices/forecast", params={"gpu": "H100", "horizon": "24h", "days": DAYS}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["items"]) == 24
    assert all(p["lower"] <= p["median"] <= p["upper"] for p in body["items"])
    assert body["trend"]["direction"] in ("rising", "falling", "flat")
    assert body["backtest"]["points"] > 0 and body["backtest"]["mape_pct"] < 10
    anomalies = await client.get("/api/v1/prices/anomalies", params={"gpu": "H100", "days": DAYS})
    assert anomalies.status_code == 200 and isinstance(anomalies.json()["items"], list)
    none = await client.get("/api/v1/prices/forecast", params={"gpu": "A100"})
    assert none.status_code == 404


def test_a_step_sees_the_point_in_force_and_skips_unavailable_offers() -> None:
    from datetime import UTC, datetime

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    hour = timedelta(hours=1)
    rows = [
        (1, t0, 2_000_000, True),
        (1, t0 + 2 * hour, 3_000_000, True),
        (2, t0 + hour, 1_000_000, True),
        (2, t0 + 3 * hour, 1_000_000, False),
    ]
    points = history.series(rows, history.steps(t0, t0 + 3 * hour, hour))
    assert [(p.min, p.median, p.offers) for p in points] == [
        (2_000_000, 2_000_000, 1),
        (1_000_000, 1_500_000, 2),
        (1_000_000, 2_000_000, 2),
        (3_000_000, 3_000_000, 1),
    ]

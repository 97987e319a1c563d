"""The GPU catalog API: reference specs with the market summary, on both databases."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.clock import FrozenClock
from tests.offers.test_endpoints import _seed


async def test_gpus_list_specs_with_market(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    await _seed(sessions, clock)
    body = (await client.get("/api/v1/gpus")).json()
    a100 = next(g for g in body["items"] if g["name"] == "A100")
    assert a100["market"] == {
        "offers": 2,
        "providers": 1,
        "min_price_per_gpu_hour": 1.29,
        "median_price_per_gpu_hour": 1.54,
    }
    assert {v["memory_gb"] for v in a100["variants"]} == {40, 80}
    assert next(g for g in body["items"] if g["name"] == "B200")["market"]["offers"] == 0
    assert body["unrecognised"] == []
    one = (await client.get("/api/v1/gpus/a100-80gb")).json()
    assert one["name"] == "A100" and one["market"]["offers"] == 2
    assert (await client.get("/api/v1/gpus/nonsense-9000")).status_code == 404

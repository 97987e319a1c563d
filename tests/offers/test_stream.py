"""The live stream of market changes (Server-Sent Events) on both databases: what one sync
changed, resuming with Last-Event-ID, and a reset when too much changed at once."""

from __future__ import annotations

from datetime import timedelta

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.clock import FrozenClock
from gp4u.offers import endpoints
from tests import factories


def _events(text: str) -> list[tuple[int, str, dict[str, object]]]:
    """(id, event, data) of each event in an SSE body (comments left out)."""
    found = []
    for block in text.strip().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")
        )
        if fields:
            found.append((int(fields["id"]), fields["event"], orjson.loads(fields["data"])))
    return found


async def _market(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, h100: int, a100: int
) -> None:
    await factories.import_offers(
        sessions,
        clock.now(),
        factories.offer(instance_type="h100", price_per_hour=h100),
        factories.offer(instance_type="a100", gpu_name="A100-80GB", price_per_hour=a100),
    )


async def _version(client: httpx.AsyncClient) -> int:
    """The market version now, read from the stream's resume point after a no-op change."""
    response = await client.get(
        "/api/v1/offers/stream", params={"max_events": 1}, headers={"Last-Event-ID": "0"}
    )
    return _events(response.text)[-1][0]


async def test_a_sync_streams_the_changed_offers_and_resumes(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    await _market(sessions, clock, 2_500_000, 1_800_000)
    before = await _version(client)
    ids = {
        o["instance_type"]: o["id"] for o in (await client.get("/api/v1/offers")).json()["items"]
    }

    clock.advance(timedelta(minutes=5))
    await factories.import_offers(
        sessions,
        clock.now(),
        factories.offer(instance_type="h100", price_per_hour=2_100_000),  # cheaper
        # a100 is gone: unavailable now
        factories.offer(instance_type="l4", gpu_name="L4", price_per_hour=700_000),  # new
    )
    response = await client.get(
        "/api/v1/offers/stream", params={"max_events": 1}, headers={"Last-Event-ID": str(before)}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    [(version, event, data)] = _events(response.text)
    assert event == "changes" and version == data["version"] and version > before
    items = {i["id"]: i for i in data["items"]}  # type: ignore[attr-defined]
    assert items[ids["h100"]] == {
        "id": ids["h100"],
        "price_per_hour": 2.1,
        "price_per_gpu_hour": 2.1,
        "available": True,
        "stale": False,
        "new": False,
        "updated_at": "2026-11-01T12:05:00+00:00",
    }
    assert items[ids["a100"]]["available"] is False
    [new] = [i for i in items.values() if i["new"]]
    assert new["price_per_hour"] == 0.7 and len(items) == 3

    # Resuming from the version just received: nothing more until the market moves again.
    clock.advance(timedelta(minutes=5))
    await factories.import_offers(
        sessions,
        clock.now(),
        factories.offer(instance_type="h100", price_per_hour=2_000_000),
        factories.offer(instance_type="l4", gpu_name="L4", price_per_hour=700_000),
    )
    again = await client.get(
        "/api/v1/offers/stream", params={"max_events": 1}, headers={"Last-Event-ID": str(version)}
    )
    [(_, _, data)] = _events(again.text)
    assert [(i["id"], i["price_per_hour"]) for i in data["items"]] == [(ids["h100"], 2.0)]  # type: ignore[attr-defined]


async def test_too_many_changes_at_once_is_a_reset(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(endpoints, "STREAM_BATCH", 1)
    await _market(sessions, clock, 2_500_000, 1_800_000)
    response = await client.get(
        "/api/v1/offers/stream", params={"max_events": 1}, headers={"Last-Event-ID": "0"}
    )
    [(version, event, data)] = _events(response.text)
    assert event == "reset" and data == {"version": version}


async def test_bad_resume_point_is_rejected(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/offers/stream", headers={"Last-Event-ID": "soon"})
    assert response.status_code == 400
    assert response.json()["error"] == "InvalidQuery"

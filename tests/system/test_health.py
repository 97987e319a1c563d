"""Liveness and readiness."""

from __future__ import annotations

from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from gp4u.app import create_app
from gp4u.db.schema_version import SCHEMA_REVISION
from gp4u.settings import Settings


async def test_healthz_and_readyz_on_a_migrated_database(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert (body["status"], body["database"], body["schema"]) == ("ready", "ok", SCHEMA_REVISION)
    assert body["search_index"] == {"state": "ready", "offers": 0, "version": 0}


async def test_readyz_says_why_an_unmigrated_database_is_not_ready(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        migrate_on_start=False,
        simulated_market=False,
    )
    app = create_app(settings, background_jobs=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/healthz")).status_code == 200
            response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"] == "NotReady"
    assert "gp4u db upgrade" in response.json()["detail"]


async def test_start_migrates_and_loads_the_simulated_market(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    app = create_app(settings, background_jobs=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/readyz")).status_code == 200
            body = (await client.get("/api/v1/offers", params={"q": "gpu=H100"})).json()
    assert body["items"] and {i["source"] for i in body["items"]} == {"simulated"}
    assert (tmp_path / "gp4u.sqlite3").exists()

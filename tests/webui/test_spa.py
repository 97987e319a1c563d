"""`gp4u serve` serves the web UI's build at / on the API's port: assets as files, every other
non-API path as index.html (the UI's own routes), and a how-to page when there is no build. The
API, its docs and its JSON 404s are unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import asgi_client

INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>'


def _build(dist: Path) -> Path:
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "index-abc123.js").write_text("console.log('gp4u');")
    (dist / "assets" / "index-abc123.css").write_text("body{}")
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return dist


async def _client(app: FastAPI, dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    app.state.web_dist = dist
    async with asgi_client(app) as c:
        yield c


@pytest.fixture
async def built(app: FastAPI, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app serving a (small, hand-made) UI build."""
    (tmp_path / "secret.txt").write_text("outside the build")
    async for c in _client(app, _build(tmp_path / "dist")):
        yield c


@pytest.fixture
async def unbuilt(app: FastAPI, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app with no UI build."""
    async for c in _client(app, tmp_path / "no-dist"):
        yield c


@pytest.mark.parametrize("path", ["/", "/account", "/login?next=%2Faccount", "/some/deep/route"])
async def test_ui_routes_get_the_index(built: httpx.AsyncClient, path: str) -> None:
    response = await built.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == INDEX
    assert response.headers["cache-control"] == "no-cache"


async def test_assets_are_files_cached_for_good(built: httpx.AsyncClient) -> None:
    script = await built.get("/assets/index-abc123.js")
    assert script.status_code == 200
    assert script.text == "console.log('gp4u');"
    assert "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    icon = await built.get("/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg")
    assert icon.headers["cache-control"] == "no-cache"
    head = await built.head("/")
    assert head.status_code == 200


async def test_a_missing_asset_is_a_404_not_the_page(built: httpx.AsyncClient) -> None:
    response = await built.get("/assets/index-gone.js")
    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"


async def test_nothing_outside_the_build_is_served(built: httpx.AsyncClient) -> None:
    for path in ("/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt"):
        response = await built.get(path)
        assert "outside the build" not in response.text, path


async def test_the_api_and_its_docs_are_unchanged(built: httpx.AsyncClient) -> None:
    offers = await built.get("/api/v1/offers")
    assert offers.status_code == 200
    assert offers.json()["items"] == []
    missing = await built.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.json() == {"error": "NotFound", "detail": "Not Found"}
    assert (await built.get("/api")).status_code == 404
    assert (await built.get("/api/v1/offers/", follow_redirects=False)).status_code == 307
    docs = await built.get("/api/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    assert (await built.get("/healthz")).status_code == 200
    document = (await built.get("/api/openapi.json")).json()
    assert not any("{path" in p for p in document["paths"])


async def test_without_a_build_the_ui_paths_say_how_to_make_one(
    unbuilt: httpx.AsyncClient,
) -> None:
    for path in ("/", "/account", "/assets/index-abc123.js"):
        response = await unbuilt.get(path)
        assert response.status_code == 200, path
        assert "make web" in response.text
        assert "/api/docs" in response.text
    assert (await unbuilt.get("/api/v1/offers")).status_code == 200

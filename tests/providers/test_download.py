"""Downloading published catalogs over HTTP, served here from ../shared/data/catalogs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.clock import FrozenClock
from gp4u.offers import jobs, service
from gp4u.offers.query import build_query
from tests.conftest import CATALOGS


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def catalog_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(CATALOGS)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def test_downloads_import_and_one_failing_provider_stops_nothing(
    catalog_server: str, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    await jobs.ensure_market(sessions, clock)  # offline start: simulated
    results = await jobs.sync_published_catalogs(
        sessions, catalog_server, ["lambda", "vast", "nowhere"], clock, http_timeout=5
    )
    by = {r.provider: r for r in results}
    assert by["lambda"].added == 391 and by["vast"].added == 67
    assert by["nowhere"].error and "404" in by["nowhere"].error
    async with sessions() as session:
        sources = {
            (s["source"], s["provider"]): s
            for s in await service.list_sources(session, clock.now())
        }
        page = await service.search_offers(session, build_query("provider=lambda", limit=1))
        simulated = await service.search_offers(session, build_query("source=simulated"))
    assert sources[("catalog", "nowhere")]["last_status"] == "failed"
    assert sources[("catalog", "lambda")]["available_offers"] == 391
    assert page.items[0]["source"] == "catalog"
    assert simulated.items == []  # real data replaced the demo market


async def test_an_unreachable_catalog_host_is_recorded_not_raised(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    results = await jobs.sync_published_catalogs(
        sessions, "http://127.0.0.1:9", ["lambda"], clock, http_timeout=1
    )
    assert results[0].error
    async with sessions() as session:
        assert not await service.has_available_offers(session)

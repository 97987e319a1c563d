"""Fixtures of the session tests: a fake Vast.ai on a real port, and GP4U configured to launch
on it (and on the local provider), on the test database, with the test's clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from gp4u.app import create_app
from gp4u.fakes import kit, vastai
from gp4u.fakes.kit import FakeState, RunningFake
from gp4u.kit.clock import FrozenClock
from gp4u.providers import registry
from gp4u.settings import Settings
from tests.factories import asgi_client

OFFERS = 40


@pytest.fixture(scope="module")
def vast_app() -> FastAPI:
    return vastai.create_app(FakeState())


@pytest.fixture(scope="module")
def vast_server(vast_app: FastAPI) -> Iterator[RunningFake]:
    with kit.running(vast_app) as running:
        yield running


@pytest.fixture
def vast(vast_server: RunningFake, vast_app: FastAPI) -> FakeState:
    state = vast_server.state
    state.reset()
    state.boot_seconds = 0.0
    state.offers = vastai.generate_offers(OFFERS, 7)
    vast_app.state.searches.clear()
    return state


@pytest.fixture
def broker_settings(settings: Settings, vast_server: RunningFake) -> Settings:
    return settings.model_copy(
        update={
            "providers": "vastai,local",
            "vastai_url": vast_server.url,
            "vastai_api_key": SecretStr("test-key"),
            "public_url": "http://broker.test",
        }
    )


@pytest.fixture
def broker_app(
    broker_settings: Settings,
    engine: AsyncEngine,
    clock: FrozenClock,
    vast: FakeState,
    monkeypatch: pytest.MonkeyPatch,
) -> FastAPI:
    monkeypatch.setitem(registry.BUILTIN, "vastai", "tests.provisioning.support:FastVastai")
    return create_app(broker_settings, clock=clock, background_jobs=False)


@pytest.fixture
async def broker(broker_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(broker_app, base_url="http://broker.test") as client:
        yield client

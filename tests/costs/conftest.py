"""Fixtures of the costs tests: the app (local mode, or accounts mode) with the costs API
mounted, and the session tests' fake Vast.ai for end-to-end launches."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from gp4u.app import create_app
from gp4u.kit.clock import FrozenClock
from gp4u.settings import Settings
from tests.costs.support import with_costs
from tests.factories import asgi_client
from tests.provisioning import conftest as provisioning

# The session tests' fixtures: a fake Vast.ai on a real port and GP4U launching on it.
vast_app = provisioning.vast_app
vast_server = provisioning.vast_server
vast = provisioning.vast
broker_settings = provisioning.broker_settings
broker_app = provisioning.broker_app


@pytest.fixture
async def costs_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Local mode: every request is the local user's."""
    async with asgi_client(with_costs(app)) as client:
        yield client


@pytest.fixture
async def team_client(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock
) -> AsyncIterator[httpx.AsyncClient]:
    """Accounts mode: users sign up and send their credentials."""
    app = create_app(
        settings.model_copy(update={"auth": "accounts"}), clock=clock, background_jobs=False
    )
    async with asgi_client(with_costs(app)) as client:
        yield client


@pytest.fixture
async def launch_client(broker_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Local mode, launching on the fake Vast.ai."""
    async with asgi_client(with_costs(broker_app)) as client:
        yield client

"""FastAPI dependencies, defined once as Annotated aliases. The session dependency is the unit of
work of a request: it commits when the handler succeeds and rolls back otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.db.base import MAX_ID
from gp4u.db.engine import unit_of_work
from gp4u.kit.clock import Clock
from gp4u.kit.errors import NotAuthenticated
from gp4u.settings import Settings


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with unit_of_work(request.app.state.sessions) as session:
        yield session


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _market(request: Request) -> Any:
    return request.app.state.market


def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


SessionDep = Annotated[AsyncSession, Depends(_session)]
SettingsDep = Annotated[Settings, Depends(_settings)]
ClockDep = Annotated[Clock, Depends(_clock)]
# The app's per-process market search index (gp4u.offers.service.MarketSearch). Typed loosely
# here because the web plumbing sits below the domains.
MarketDep = Annotated[Any, Depends(_market)]

# Ids and cursors past what the databases bind are a bad request, never a driver overflow.
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="An object id.")]


# A node agent's secret, sent as a bearer token (read by hand: the header is not documented as
# a login scheme, and a malformed one gets a precise error).
AgentAuth = Annotated[str | None, Header(alias="Authorization", include_in_schema=False)]


def bearer_secret(authorization: str | None) -> str:
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        raise NotAuthenticated("the agent must send its secret as a bearer token")
    return secret


def kick_runner(request: Request) -> None:
    """Wake the in-process job runner (if this server runs one) for work just enqueued."""
    runner = getattr(request.app.state, "runner", None)
    if runner is not None:
        runner.kick()

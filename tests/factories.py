"""Plain typed factories and helpers for test data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.db.engine import unit_of_work
from gp4u.offers import service
from gp4u.providers.base import ParseReport, ProviderOffer


@asynccontextmanager
async def asgi_client(
    app: FastAPI, base_url: str = "http://gp4u.test", **headers: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The real app, started (lifespan) and called in-process over ASGI."""
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport, base_url=base_url, headers=headers
        ) as client:
            yield client


def offer(**overrides: Any) -> ProviderOffer:
    values: dict[str, Any] = {
        "provider": "acme",
        "instance_type": "gpu-1x-h100",
        "gpu_name": "H100 SXM",
        "gpu_count": 1,
        "price_per_hour": 2_500_000,
        "spot": False,
        "region": "us-east-1",
        "zone": None,
        "country": "US",
        "gpu_memory_gb": 80.0,
        "vcpus": 26.0,
        "memory_gb": 200.0,
        "disk_gb": 1000.0,
        "available": True,
        "reliability": 0.99,
    }
    values.update(overrides)
    return ProviderOffer(**values)


def report(*offers: ProviderOffer) -> ParseReport:
    return ParseReport(offers=list(offers), rows_read=len(offers))


async def import_offers(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    *offers: ProviderOffer,
    provider: str = "acme",
) -> service.ProviderImport:
    """Import offers as one catalog provider's data, in a unit of work of its own."""
    async with unit_of_work(sessions) as session:
        return await service.import_offers(
            session,
            source="catalog",
            provider=provider,
            report=report(*offers),
            origin="test",
            now=now,
        )


async def all_pages(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Every offer a search returns, following `next_cursor` to the last page."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = (
            await client.get(
                "/api/v1/offers", params={**params, **({"cursor": cursor} if cursor else {})}
            )
        ).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


PASSWORD = "correct horse battery staple"


async def sign_up(
    client: httpx.AsyncClient, email: str, roles: tuple[str, ...] = ("renter",)
) -> dict[str, str]:
    """A new account on a server in accounts mode: its auth headers (access token)."""
    response = await client.post(
        "/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "roles": list(roles)}
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def make_admin(
    sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient, email: str
) -> dict[str, str]:
    """A new account granted the admin role by the operator (as `gp4u user grant` does)."""
    from gp4u.accounts import service as accounts

    await sign_up(client, email)
    async with unit_of_work(sessions) as session:
        await accounts.grant_role(session, email, "admin")
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}

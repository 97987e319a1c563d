"""Provider API: the provider list with health, one provider's health, an on-demand sync, and
the operator actions (sync now, reset a circuit breaker, invalidate an offer cache), which are
admin-only. Reading provider health is public market data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from gp4u.accounts.deps import AdminUser
from gp4u.providers.registry import ProviderSet
from gp4u.sources import service
from gp4u.sources.schemas import ProviderOut, ProvidersOut, SyncOut
from gp4u.web.deps import ClockDep, SessionDep
from gp4u.web.errors import AUTH_RESPONSES, ERROR_RESPONSES
from gp4u.web.responses import FastJSON

router = APIRouter(prefix="/api/v1/providers", tags=["providers"])


def _providers(request: Request) -> ProviderSet:
    providers: ProviderSet = request.app.state.providers
    return providers


ProvidersDep = Annotated[ProviderSet, Depends(_providers)]


@router.get(
    "",
    response_model=ProvidersOut,
    summary="Every provider with its health and its offers' freshness",
)
async def list_providers(session: SessionDep, providers: ProvidersDep, clock: ClockDep) -> FastJSON:
    return FastJSON({"items": await service.list_providers(session, providers, clock.now())})


@router.get(
    "/{name}/health",
    response_model=ProviderOut,
    responses=ERROR_RESPONSES,
    summary="One provider's health: status, success rate, latency, breaker, rate limit, cache",
)
async def provider_health(
    name: str, session: SessionDep, providers: ProvidersDep, clock: ClockDep
) -> FastJSON:
    return FastJSON(await service.provider_health(session, providers, name, clock.now()))


@router.get(
    "/{name}/offers",
    responses=ERROR_RESPONSES,
    summary="The provider's offers as it reports them now (through the offer cache)",
    description="Served from the offer cache while fresh; the TTL is the provider's sync "
    "interval, stretched up to 5x as its calls fail. Past the TTL the cached list is served at "
    "once (`freshness: stale`) while one fetch revalidates it; past the hard limit it is "
    "fetched, and 503 if that fails. Prices in USD per instance-hour, as the provider states.",
)
async def current_offers(name: str, providers: ProvidersDep) -> FastJSON:
    return FastJSON(await service.current_offers(providers, name))


@router.post(
    "/{name}/sync",
    response_model=SyncOut,
    responses={**ERROR_RESPONSES, **AUTH_RESPONSES},
    summary="Sync one provider now and return what the run did (admins only)",
)
async def sync_now(
    name: str, _admin: AdminUser, request: Request, providers: ProvidersDep, clock: ClockDep
) -> FastJSON:
    outcome = await service.sync_provider(request.app.state.sessions, providers, name, clock)
    return FastJSON(outcome.as_dict())


@router.post(
    "/{name}/breaker/reset",
    responses={**ERROR_RESPONSES, **AUTH_RESPONSES},
    summary="Close a provider's circuit breaker (admins only)",
)
async def reset_breaker(name: str, _admin: AdminUser, providers: ProvidersDep) -> FastJSON:
    return FastJSON(await service.reset_breaker(providers, name))


@router.post(
    "/{name}/cache/invalidate",
    responses={**ERROR_RESPONSES, **AUTH_RESPONSES},
    summary="Drop a provider's cached offers (admins only)",
)
async def invalidate_cache(name: str, _admin: AdminUser, providers: ProvidersDep) -> FastJSON:
    return FastJSON(await service.invalidate_cache(providers, name))

"""Who is calling, as FastAPI dependencies: `CurrentUser` (any valid credentials), and
`Reader`, `Trader`, `HostUser`, `AdminUser`, which also need a scope, and `OptionalUser`.

Credentials: `Authorization: Bearer <access token>` or `Authorization: Bearer gp4u_…` (an API
key). In local mode a request without credentials is the local user; credentials that are sent
are still checked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gp4u.accounts import service
from gp4u.accounts.apikeys import SCHEME
from gp4u.accounts.keyring import Keyring
from gp4u.accounts.principal import (
    ADMIN_SCOPE,
    HOST_SCOPE,
    READ,
    TRADE,
    Principal,
    local_principal,
)
from gp4u.kit.errors import NotAuthenticated
from gp4u.web.deps import SessionDep


def _keyring(request: Request) -> Keyring:
    keyring: Keyring = request.app.state.keyring
    return keyring


KeyringDep = Annotated[Keyring, Depends(_keyring)]


# Declares the scheme in the OpenAPI document; the header itself is read below, so that a
# malformed one gets a precise error rather than being ignored.
_bearer = HTTPBearer(
    auto_error=False,
    description="An access token from /api/v1/auth/login, or an API key (gp4u_…).",
)


async def _principal(
    request: Request,
    session: SessionDep,
    keyring: KeyringDep,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal:
    header = request.headers.get("authorization")
    if header is None:
        if request.app.state.settings.auth == "local":
            return local_principal()
        raise NotAuthenticated(
            "log in first: send 'Authorization: Bearer <access token or API key>'"
        )
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise NotAuthenticated("send credentials as 'Authorization: Bearer <token or API key>'")
    now = request.app.state.clock.now()
    if credential.startswith(f"{SCHEME}_"):
        return await service.principal_from_key(session, keyring, credential, now)
    return await service.principal_from_token(session, keyring, credential, now)


CurrentUser = Annotated[Principal, Depends(_principal)]


async def _optional_principal(
    request: Request,
    session: SessionDep,
    keyring: KeyringDep,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal | None:
    """The caller when they sent credentials (or in local mode), else None: for public pages
    that show the caller a little more of their own."""
    if request.headers.get("authorization") is None and request.app.state.settings.auth != "local":
        return None
    return await _principal(request, session, keyring, _declared)


OptionalUser = Annotated[Principal | None, Depends(_optional_principal)]


def _scoped(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: CurrentUser) -> Principal:
        principal.require(scope)
        return principal

    return check


Reader = Annotated[Principal, Depends(_scoped(READ))]
Trader = Annotated[Principal, Depends(_scoped(TRADE))]
HostUser = Annotated[Principal, Depends(_scoped(HOST_SCOPE))]
AdminUser = Annotated[Principal, Depends(_scoped(ADMIN_SCOPE))]

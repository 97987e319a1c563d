"""Accounts API: sign-up and login (/api/v1/auth), one's own account, API keys and provider
keys (/api/v1/me), and user management for admins (/api/v1/admin/users)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.accounts import service
from gp4u.accounts.deps import AdminUser, CurrentUser, KeyringDep
from gp4u.accounts.keyring import Keyring
from gp4u.accounts.schemas import (
    AdminUserIn,
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeysOut,
    LoginIn,
    LogoutIn,
    MeOut,
    PasswordChangeIn,
    ProfileIn,
    ProviderKeyIn,
    ProviderKeyOut,
    ProviderKeysOut,
    RefreshIn,
    SignedUpOut,
    SignUpIn,
    TokenOut,
    UserOut,
    UsersOut,
)
from gp4u.accounts.throttle import LoginThrottle
from gp4u.accounts.tokens import InvalidToken
from gp4u.kit.errors import Forbidden, TooManyRequests
from gp4u.web.deps import ClockDep, SessionDep, SettingsDep
from gp4u.web.errors import AUTH_RESPONSES, ERROR_RESPONSES
from gp4u.web.responses import FastJSON

RESPONSES = {**ERROR_RESPONSES, **AUTH_RESPONSES}
auth = APIRouter(prefix="/api/v1/auth", tags=["accounts"], responses=RESPONSES)
me = APIRouter(prefix="/api/v1/me", tags=["accounts"], responses=RESPONSES)
admin = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=RESPONSES)
MAX_USERS_PAGE = 200


@auth.post("/signup", status_code=201, response_model=SignedUpOut, summary="Create an account")
async def sign_up(
    body: SignUpIn, session: SessionDep, keyring: KeyringDep, clock: ClockDep, settings: SettingsDep
) -> FastJSON:
    if settings.auth == "local":
        raise Forbidden(
            "this server runs in local mode (one user, no sign-up); "
            "start it with GP4U_AUTH=accounts for user accounts"
        )
    now = clock.now()
    user = await service.sign_up(
        session, body.email, body.password, body.display_name, body.roles, now
    )
    issued = await service.issue_tokens(session, keyring, user, now)
    return FastJSON({**issued, "user": service.user_view(user)}, status_code=201)


async def _login(
    request: Request,
    email: str,
    password: str,
    session: AsyncSession,
    keyring: Keyring,
    now: datetime,
) -> dict[str, Any]:
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    decision = await throttle.check(email, address)
    if not decision.allowed:
        raise TooManyRequests(
            "too many failed logins; try again later", decision.retry_after_seconds
        )
    try:
        user = await service.authenticate(session, email, password)
    except service.InvalidCredentials:
        await throttle.record_failure(email, address, decision.attempt)
        raise
    await throttle.record_success(email, address, decision.attempt)
    return await service.issue_tokens(session, keyring, user, now)


@auth.post(
    "/token",
    response_model=TokenOut,
    summary="Log in with the OAuth2 password form (username = e-mail)",
    responses={429: {"description": "Too many failed logins; see Retry-After."}},
)
async def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    keyring: KeyringDep,
    clock: ClockDep,
) -> FastJSON:
    return FastJSON(
        await _login(request, form.username, form.password, session, keyring, clock.now())
    )


@auth.post(
    "/login",
    response_model=TokenOut,
    summary="Log in with e-mail and password (JSON)",
    responses={429: {"description": "Too many failed logins; see Retry-After."}},
)
async def login(
    request: Request, body: LoginIn, session: SessionDep, keyring: KeyringDep, clock: ClockDep
) -> FastJSON:
    return FastJSON(await _login(request, body.email, body.password, session, keyring, clock.now()))


@auth.post(
    "/refresh",
    response_model=TokenOut,
    summary="Trade a refresh token for a new pair (the old one is spent)",
)
async def refresh(
    body: RefreshIn, session: SessionDep, keyring: KeyringDep, clock: ClockDep
) -> FastJSON:
    now = clock.now()
    try:
        return FastJSON(await service.refresh(session, keyring, body.refresh_token, now))
    except service.TokenReused as reused:
        # The revocation must stick although the request fails: commit it before raising.
        await session.rollback()
        await service.revoke_family(session, reused.family_id, now)
        await session.commit()
        raise InvalidToken(
            "refresh token already used: this login is revoked, log in again"
        ) from None


@auth.post("/logout", status_code=204, summary="End a login")
async def logout(
    body: LogoutIn,
    principal: CurrentUser,
    session: SessionDep,
    keyring: KeyringDep,
    clock: ClockDep,
) -> Response:
    await service.logout(
        session, keyring, principal, body.refresh_token, body.everywhere, clock.now()
    )
    return Response(status_code=204)


@me.get("", response_model=MeOut, summary="Your profile")
async def profile(principal: CurrentUser, session: SessionDep, settings: SettingsDep) -> FastJSON:
    return FastJSON({**await service.profile(session, principal), "auth_mode": settings.auth})


@me.patch("", response_model=UserOut, summary="Change your display name or session limit")
async def update_profile(
    body: ProfileIn, principal: CurrentUser, session: SessionDep, settings: SettingsDep
) -> FastJSON:
    return FastJSON(
        await service.update_profile(
            session,
            principal,
            display_name=body.display_name,
            max_session_hours=None if body.clear_max_session_hours else body.max_session_hours,
            clear_max_session_hours=body.clear_max_session_hours,
            platform_cap_hours=settings.session_max_hours,
        )
    )


@me.post(
    "/password",
    response_model=TokenOut,
    summary="Change your password (ends every other login; returns a fresh pair)",
)
async def change_password(
    body: PasswordChangeIn,
    principal: CurrentUser,
    session: SessionDep,
    keyring: KeyringDep,
    clock: ClockDep,
) -> FastJSON:
    issued = await service.change_password(
        session, keyring, principal, body.current_password, body.new_password, clock.now()
    )
    return FastJSON(issued)


@me.post(
    "/api-keys",
    status_code=201,
    response_model=ApiKeyCreated,
    summary="Create an API key (the whole key is shown this once)",
)
async def create_api_key(
    body: ApiKeyIn,
    principal: CurrentUser,
    session: SessionDep,
    keyring: KeyringDep,
    clock: ClockDep,
) -> FastJSON:
    created = await service.create_api_key(
        session, keyring, principal, body.name, body.scopes, body.expires_in_days, clock.now()
    )
    return FastJSON(created, status_code=201)


@me.get("/api-keys", response_model=ApiKeysOut, summary="Your active API keys")
async def list_api_keys(principal: CurrentUser, session: SessionDep) -> FastJSON:
    return FastJSON({"items": await service.list_api_keys(session, principal)})


@me.delete("/api-keys/{key_id}", status_code=204, summary="Revoke an API key")
async def revoke_api_key(
    key_id: str, principal: CurrentUser, session: SessionDep, clock: ClockDep
) -> Response:
    principal.require_session()
    await service.revoke_api_key(session, principal, key_id, clock.now())
    return Response(status_code=204)


@me.get("/provider-keys", response_model=ProviderKeysOut, summary="Your stored provider API keys")
async def list_provider_keys(principal: CurrentUser, session: SessionDep) -> FastJSON:
    return FastJSON({"items": await service.list_credentials(session, principal)})


@me.put(
    "/provider-keys/{provider}",
    response_model=ProviderKeyOut,
    summary="Store your own API key for a provider (encrypted; never shown again in full)",
)
async def set_provider_key(
    provider: str,
    body: ProviderKeyIn,
    principal: CurrentUser,
    session: SessionDep,
    keyring: KeyringDep,
    clock: ClockDep,
) -> FastJSON:
    stored = await service.set_credential(
        session, keyring, principal, provider, body.api_key, clock.now()
    )
    return FastJSON(stored)


@me.delete("/provider-keys/{provider}", status_code=204, summary="Forget a provider API key")
async def delete_provider_key(
    provider: str, principal: CurrentUser, session: SessionDep
) -> Response:
    await service.delete_credential(session, principal, provider)
    return Response(status_code=204)


@admin.get("/users", response_model=UsersOut, summary="Every user (admins only)")
async def list_users(
    _admin: AdminUser,
    session: SessionDep,
    after: Annotated[
        str | None, Query(max_length=32, description="Last id of the page before.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_USERS_PAGE)] = 50,
) -> FastJSON:
    return FastJSON(await service.list_users(session, after, limit))


@admin.patch(
    "/users/{user_id}", response_model=UserOut, summary="Change a user's roles or deactivate them"
)
async def administer_user(
    user_id: str, body: AdminUserIn, principal: AdminUser, session: SessionDep, clock: ClockDep
) -> FastJSON:
    changed = await service.administer_user(
        session, principal, user_id, body.roles, body.is_active, clock.now()
    )
    return FastJSON(changed)


routers = (auth, me, admin)

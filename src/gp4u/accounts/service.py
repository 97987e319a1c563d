"""Accounts: sign-up, login, token rotation and revocation, API keys, roles, users' provider
credentials, and who a request's credentials belong to."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.accounts import apikeys, passwords, secrets_box, tokens
from gp4u.accounts import repository as repo
from gp4u.accounts.keyring import Keyring
from gp4u.accounts.models import ApiKey, ProviderCredential, RefreshToken, User
from gp4u.accounts.principal import (
    ADMIN,
    ROLES,
    SIGN_UP_ROLES,
    Principal,
    scopes_of,
)
from gp4u.kit.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from gp4u.kit.paging import keyset_page
from gp4u.ledger.entries import ESCROW, WALLET
from gp4u.ledger.repository import account_ids

# Providers whose adapters take a user's own API key.
CREDENTIAL_PROVIDERS = ("vastai", "runpod", "lambda", "tensordock")
# How often a key's last-used time is written (every request would be a write per request).
KEY_TOUCH_INTERVAL = timedelta(minutes=1)
MAX_API_KEYS = 50


class InvalidCredentials(AppError):
    """Wrong e-mail or password (never says which)."""

    status_code = 401


class TokenReused(Exception):
    """A used or revoked refresh token was presented: its family must be revoked, in a
    transaction of its own (the request's own transaction is rolled back)."""

    def __init__(self, family_id: str) -> None:
        super().__init__("refresh token reused")
        self.family_id = family_id


def normalise_email(email: str) -> str:
    try:
        valid = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"not a valid e-mail address: {exc}", field="email") from exc
    return valid.normalized.casefold()


def _roles_text(roles: Iterable[str]) -> str:
    return ",".join(sorted(set(roles)))


async def _hash(password: str, email: str) -> str:
    problems = passwords.check_password_policy(password, email)
    if problems:
        raise InvalidInput("the password " + "; ".join(problems), field="password")
    # argon2 takes ~0.1 s of CPU: off the event loop, so other requests keep flowing.
    return await asyncio.to_thread(passwords.hash_password, password)


async def sign_up(
    session: AsyncSession,
    email: str,
    password: str,
    display_name: str | None,
    roles: Iterable[str],
    now: datetime,
) -> User:
    """A new active user and their (empty) wallet."""
    address = normalise_email(email)
    chosen = frozenset(roles) or frozenset({"renter"})
    if not chosen <= SIGN_UP_ROLES:
        raise InvalidInput(
            f"roles at sign-up are {', '.join(sorted(SIGN_UP_ROLES))}", field="roles"
        )
    if await repo.user_by_email(session, address) is not None:
        raise Conflict("an account with this e-mail address exists; log in instead", field="email")
    user = User(
        id=f"u_{secrets.token_hex(8)}",
        email=address,
        password_hash=await _hash(password, address),
        display_name=(display_name or address.partition("@")[0])[:100],
        roles=_roles_text(chosen),
        is_active=True,
        created_at=now,
        token_version=0,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent sign-up with the same address won
        raise Conflict("an account with this e-mail address exists", field="email") from exc
    await account_ids(session, [(user.id, WALLET), (user.id, ESCROW)], now)
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    """The active user with this e-mail and password. Unknown addresses cost the same time."""
    try:
        address = normalise_email(email)
    except InvalidInput:
        address = email.strip().casefold()
    user = await repo.user_by_email(session, address)
    if user is None or user.password_hash is None:
        await asyncio.to_thread(passwords.verify_dummy, password)
        raise InvalidCredentials("wrong e-mail address or password")
    stored = user.password_hash
    if not await asyncio.to_thread(passwords.verify_password, stored, password):
        raise InvalidCredentials("wrong e-mail address or password")
    if not user.is_active:
        raise InvalidCredentials("this account is deactivated")
    if passwords.needs_rehash(stored):
        user.password_hash = await asyncio.to_thread(passwords.hash_password, password)
    return user


async def issue_tokens(
    session: AsyncSession,
    keyring: Keyring,
    user: User,
    now: datetime,
    family_id: str | None = None,
) -> dict[str, Any]:
    """A new access token and a new refresh token (of a new login, or of `family_id`)."""
    config = keyring.tokens
    token_id, family = tokens.new_token_id(), family_id or tokens.new_token_id()
    session.add(
        RefreshToken(
            token_id=token_id,
            family_id=family,
            user_id=user.id,
            issued_at=now,
            expires_at=now + timedelta(seconds=config.refresh_ttl_seconds),
        )
    )
    await session.flush()
    return {
        "access_token": tokens.issue_access(
            config, user.id, user.role_set, now, version=user.token_version
        ),
        "token_type": "bearer",
        "expires_in": config.access_ttl_seconds,
        "refresh_token": tokens.issue_refresh(config, user.id, family, token_id, now),
        "refresh_expires_in": config.refresh_ttl_seconds,
    }


async def refresh(
    session: AsyncSession, keyring: Keyring, refresh_token: str, now: datetime
) -> dict[str, Any]:
    """Rotate: the presented token is spent and a new pair issued. A token presented twice
    raises TokenReused, and the caller revokes its family."""
    claims = tokens.decode_refresh(keyring.tokens, refresh_token, now)
    if not await repo.claim_refresh(session, claims.token_id, now):
        row = await repo.refresh_token(session, claims.token_id)
        if row is not None and row.user_id == claims.subject:
            raise TokenReused(row.family_id)
        raise tokens.InvalidToken("unknown refresh token")
    user = await _active_user(session, claims.subject, None)  # its row was checked above
    return await issue_tokens(session, keyring, user, now, family_id=claims.family_id)


async def revoke_family(session: AsyncSession, family_id: str, now: datetime) -> None:
    await repo.revoke_family(session, family_id, now)


async def logout(
    session: AsyncSession,
    keyring: Keyring,
    principal: Principal,
    refresh_token: str | None,
    everywhere: bool,
    now: datetime,
) -> None:
    """End this login (its refresh-token family), or every login of the user."""
    if everywhere:
        await _revoke_everything(session, principal.user_id, now)
        return
    if refresh_token is None:
        raise InvalidInput("give the refresh token to log out, or everywhere=true", field="body")
    claims = tokens.decode_refresh(keyring.tokens, refresh_token, now)
    if claims.subject != principal.user_id:
        raise tokens.InvalidToken("this refresh token belongs to another login")
    await repo.revoke_family(session, claims.family_id, now)


async def _revoke_everything(session: AsyncSession, user_id: str, now: datetime) -> None:
    await repo.revoke_user_tokens(session, user_id, now)
    user = await repo.user_by_id(session, user_id)
    if user is not None:  # access tokens issued up to now die too
        user.token_version += 1


async def _active_user(session: AsyncSession, user_id: str, version: int | None) -> User:
    user = await repo.user_by_id(session, user_id)
    if user is None or not user.is_active:
        raise tokens.InvalidToken("unknown or deactivated user")
    if version is not None and version != user.token_version:
        raise tokens.InvalidToken("revoked (password changed or logged out everywhere)")
    return user


async def change_password(
    session: AsyncSession,
    keyring: Keyring,
    principal: Principal,
    current: str,
    new: str,
    now: datetime,
) -> dict[str, Any]:
    """Every other login ends (refresh tokens revoked, older access tokens refused); the
    caller gets a fresh pair."""
    principal.require_session()
    user = await _user(session, principal.user_id)
    if user.password_hash is None or not await asyncio.to_thread(
        passwords.verify_password, user.password_hash, current
    ):
        raise InvalidCredentials("the current password is wrong")
    user.password_hash = await _hash(new, user.email)
    await _revoke_everything(session, user.id, now)
    return await issue_tokens(session, keyring, user, now)


async def _user(session: AsyncSession, user_id: str) -> User:
    user = await repo.user_by_id(session, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


async def profile(session: AsyncSession, principal: Principal) -> dict[str, Any]:
    return user_view(await _user(session, principal.user_id))


async def update_profile(
    session: AsyncSession,
    principal: Principal,
    *,
    display_name: str | None,
    max_session_hours: float | None = None,
    clear_max_session_hours: bool = False,
    platform_cap_hours: float,
) -> dict[str, Any]:
    user = await _user(session, principal.user_id)
    if display_name is not None:
        user.display_name = display_name
    if clear_max_session_hours:
        user.max_session_hours = None
    elif max_session_hours is not None:
        if max_session_hours > platform_cap_hours:
            raise InvalidInput(
                f"max_session_hours may not exceed the platform's cap of {platform_cap_hours:g} h",
                field="max_session_hours",
            )
        user.max_session_hours = max_session_hours
    return user_view(user)


async def session_hours_cap(session: AsyncSession, owner: str, platform_cap_hours: float) -> float:
    """The longest a session of this user may live: their own cap, never above the platform's."""
    user = await session.get(User, owner)
    own = user.max_session_hours if user is not None else None
    return min(own, platform_cap_hours) if own else platform_cap_hours


def user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "roles": sorted(user.role_set),
        "is_active": user.is_active,
        "created_at": user.created_at,
        "max_session_hours": user.max_session_hours,
    }


# --- who is calling ------------------------------------------------------------------------


async def principal_from_token(
    session: AsyncSession, keyring: Keyring, token: str, now: datetime
) -> Principal:
    claims = tokens.decode_access(keyring.tokens, token, now)
    user = await _active_user(session, claims.subject, claims.version)
    roles = user.role_set  # today's roles, not the token's: a demotion applies at once
    return Principal(user_id=user.id, roles=roles, scopes=scopes_of(roles), via="token")


async def principal_from_key(
    session: AsyncSession, keyring: Keyring, full_key: str, now: datetime
) -> Principal:
    parsed = apikeys.parse(full_key)
    key = await repo.api_key_by_prefix(session, parsed[0]) if parsed else None
    if key is None or not apikeys.verify(full_key, key.digest, keyring.pepper):
        raise tokens.InvalidToken("unknown API key")
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        raise tokens.InvalidToken("revoked or expired API key")
    user = await repo.user_by_id(session, key.user_id)
    if user is None or not user.is_active:
        raise tokens.InvalidToken("unknown or deactivated user")
    if key.last_used_at is None or now - key.last_used_at >= KEY_TOUCH_INTERVAL:
        await repo.touch_api_key(session, key.id, now)
    roles = user.role_set
    return Principal(
        user_id=user.id,
        roles=roles,
        scopes=key.scope_set & scopes_of(roles),
        via="key",
        key_prefix=key.prefix,
    )


# --- API keys ------------------------------------------------------------------------------


async def create_api_key(
    session: AsyncSession,
    keyring: Keyring,
    principal: Principal,
    name: str,
    scopes: Iterable[str],
    expires_in_days: int | None,
    now: datetime,
) -> dict[str, Any]:
    """A new key, returned in full this once only."""
    principal.require_session()
    try:
        chosen = apikeys.validate_scopes(scopes)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="scopes") from exc
    beyond = chosen - scopes_of(principal.roles)
    if beyond:
        raise Forbidden(f"your roles do not allow the scopes: {', '.join(sorted(beyond))}")
    if len(await repo.api_keys_of(session, principal.user_id)) >= MAX_API_KEYS:
        raise Conflict(f"at most {MAX_API_KEYS} active API keys; revoke one first")
    full_key, prefix, digest = apikeys.generate(keyring.pepper)
    key = ApiKey(
        prefix=prefix,
        digest=digest,
        user_id=principal.user_id,
        name=name,
        scopes=_roles_text(chosen),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(key)
    await session.flush()
    return {**key_view(key), "key": full_key}


async def list_api_keys(session: AsyncSession, principal: Principal) -> list[dict[str, Any]]:
    return [key_view(k) for k in await repo.api_keys_of(session, principal.user_id)]


async def revoke_api_key(
    session: AsyncSession, principal: Principal, key_id: str, now: datetime
) -> None:
    key = await repo.api_key_by_prefix(session, key_id)
    if key is None or key.user_id != principal.user_id or key.revoked_at is not None:
        raise NotFound(f"no API key {key_id}")
    key.revoked_at = now


def key_view(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.prefix,
        "name": key.name,
        "display": apikeys.display(key.prefix),
        "scopes": sorted(key.scope_set),
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "last_used_at": key.last_used_at,
    }


# --- users' provider credentials -----------------------------------------------------------


def _context(user_id: str, provider: str) -> str:
    return f"user:{user_id}/provider:{provider}"


def _known_provider(provider: str) -> str:
    if provider not in CREDENTIAL_PROVIDERS:
        raise NotFound(
            f"no provider {provider!r} takes a key; known: {', '.join(CREDENTIAL_PROVIDERS)}"
        )
    return provider


async def set_credential(
    session: AsyncSession,
    keyring: Keyring,
    principal: Principal,
    provider: str,
    api_key: str,
    now: datetime,
) -> dict[str, Any]:
    principal.require_session()
    _known_provider(provider)
    sealed = secrets_box.encrypt(api_key, keyring.box_key, _context(principal.user_id, provider))
    row = await repo.credential(session, principal.user_id, provider)
    if row is None:
        row = ProviderCredential(
            user_id=principal.user_id, provider=provider, created_at=now, ciphertext="", hint=""
        )
        session.add(row)
    row.ciphertext, row.hint, row.updated_at = sealed, secrets_box.mask(api_key), now
    await session.flush()
    return credential_view(row)


async def list_credentials(session: AsyncSession, principal: Principal) -> list[dict[str, Any]]:
    return [credential_view(c) for c in await repo.credentials_of(session, principal.user_id)]


async def delete_credential(session: AsyncSession, principal: Principal, provider: str) -> None:
    principal.require_session()
    row = await repo.credential(session, principal.user_id, _known_provider(provider))
    if row is None:
        raise NotFound(f"no {provider} key stored")
    await session.delete(row)


async def provider_api_key(
    session: AsyncSession, keyring: Keyring, user_id: str, provider: str
) -> str | None:
    """A user's own key for a provider, decrypted, for the adapter of that user's sessions."""
    row = await repo.credential(session, user_id, provider)
    if row is None:
        return None
    return secrets_box.decrypt(row.ciphertext, keyring.box_key, _context(user_id, provider))


def credential_view(row: ProviderCredential) -> dict[str, Any]:
    return {
        "provider": row.provider,
        "key_hint": row.hint,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


# --- administration ------------------------------------------------------------------------


async def list_users(session: AsyncSession, after: str | None, limit: int) -> dict[str, Any]:
    users = await repo.users_page(session, after, limit + 1)
    page, next_after = keyset_page(users, limit, lambda user: user.id)
    return {"items": [user_view(u) for u in page], "next_after": next_after}


async def administer_user(
    session: AsyncSession,
    admin: Principal,
    user_id: str,
    roles: Iterable[str] | None,
    is_active: bool | None,
    now: datetime,
) -> dict[str, Any]:
    user = await _user(session, user_id)
    if roles is not None:
        chosen = frozenset(roles)
        if not chosen or not chosen <= ROLES:
            raise InvalidInput(f"roles are some of {', '.join(sorted(ROLES))}", field="roles")
        if user.id == admin.user_id and ADMIN not in chosen:
            raise Conflict("you cannot remove your own admin role", field="roles")
        user.roles = _roles_text(chosen)
    if is_active is not None and is_active != user.is_active:
        if user.id == admin.user_id:
            raise Conflict("you cannot deactivate yourself", field="is_active")
        user.is_active = is_active
        if not is_active:
            await _revoke_everything(session, user.id, now)
    return user_view(user)


async def grant_role(session: AsyncSession, email: str, role: str) -> dict[str, Any]:
    """Operator's path to the first admin (`gp4u user grant`), no login involved."""
    if role not in ROLES:
        raise InvalidInput(f"roles are {', '.join(sorted(ROLES))}", field="role")
    user = await repo.user_by_email(session, normalise_email(email))
    if user is None:
        raise NotFound(f"no user with the e-mail address {email}")
    user.roles = _roles_text(user.role_set | {role})
    return user_view(user)

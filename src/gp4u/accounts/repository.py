"""All SQL of accounts: users, refresh tokens, API keys and provider credentials."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.accounts.models import ApiKey, ProviderCredential, RefreshToken, User


async def user_by_id(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    found = await session.execute(select(User).where(User.email == email))
    return found.scalar_one_or_none()


async def users_page(session: AsyncSession, after: str | None, limit: int) -> Sequence[User]:
    query = select(User).order_by(User.id).limit(limit)
    if after is not None:
        query = query.where(User.id > after)
    return (await session.execute(query)).scalars().all()


async def count_users(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(User))).scalar_one())


async def claim_refresh(session: AsyncSession, token_id: str, now: datetime) -> bool:
    """Mark a refresh token used, if it is unused, unrevoked and unexpired. Exactly one of any
    number of concurrent claims succeeds."""
    result = await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.token_id == token_id,
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(used_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def refresh_token(session: AsyncSession, token_id: str) -> RefreshToken | None:
    found = await session.execute(select(RefreshToken).where(RefreshToken.token_id == token_id))
    return found.scalar_one_or_none()


async def revoke_family(session: AsyncSession, family_id: str, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_user_tokens(session: AsyncSession, user_id: str, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def api_key_by_prefix(session: AsyncSession, prefix: str) -> ApiKey | None:
    found = await session.execute(select(ApiKey).where(ApiKey.prefix == prefix))
    return found.scalar_one_or_none()


async def api_keys_of(session: AsyncSession, user_id: str) -> Sequence[ApiKey]:
    found = await session.execute(
        select(ApiKey)
        .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.created_at, ApiKey.id)
    )
    return found.scalars().all()


async def touch_api_key(session: AsyncSession, key_id: int, now: datetime) -> None:
    await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


async def credential(
    session: AsyncSession, user_id: str, provider: str
) -> ProviderCredential | None:
    found = await session.execute(
        select(ProviderCredential).where(
            ProviderCredential.user_id == user_id, ProviderCredential.provider == provider
        )
    )
    return found.scalar_one_or_none()


async def credentials_of(session: AsyncSession, user_id: str) -> Sequence[ProviderCredential]:
    found = await session.execute(
        select(ProviderCredential)
        .where(ProviderCredential.user_id == user_id)
        .order_by(ProviderCredential.provider)
    )
    return found.scalars().all()

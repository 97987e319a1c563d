"""The queries of the costs domain beyond `gp4u.provisioning.repository`: every user's sessions
that ran since a time, and the users' e-mail addresses and account budgets (the admin view)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.accounts.models import User
from gp4u.provisioning.models import GpuSession
from gp4u.wallet.models import Budget


async def ran_since(session: AsyncSession, since: datetime) -> list[GpuSession]:
    """Every user's sessions that ran (or still run) at or after `since`."""
    query = select(GpuSession).where(
        GpuSession.running_at.is_not(None),
        or_(GpuSession.billing_end.is_(None), GpuSession.billing_end >= since),
    )
    return list((await session.scalars(query.order_by(GpuSession.id))).all())


async def emails(session: AsyncSession, user_ids: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    found = await session.execute(select(User.id, User.email).where(User.id.in_(wanted)))
    return {str(user_id): str(email) for user_id, email in found.all()}


async def account_budgets(session: AsyncSession, owners: Iterable[str]) -> dict[str, int]:
    """The monthly limit of each owner's account budget (not their API keys' budgets)."""
    wanted = sorted(set(owners))
    if not wanted:
        return {}
    found = await session.execute(
        select(Budget.owner, Budget.monthly_limit).where(
            Budget.owner.in_(wanted), Budget.key_prefix == ""
        )
    )
    return {owner: int(limit) for owner, limit in found.all()}

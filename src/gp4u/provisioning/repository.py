"""Every query of the sessions domain."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.db import rows
from gp4u.offers.models import Offer
from gp4u.provisioning.models import GpuSession
from gp4u.provisioning.states import State


async def get(session: AsyncSession, session_id: int, *, lock: bool = False) -> GpuSession | None:
    return await rows.by_id(session, GpuSession, session_id, lock=lock)


async def by_agent_token(session: AsyncSession, digest: str) -> GpuSession | None:
    query = select(GpuSession).where(GpuSession.agent_token_digest == digest).with_for_update()
    return (await session.scalars(query)).one_or_none()


async def by_agent_secret(session: AsyncSession, digest: str) -> GpuSession | None:
    query = select(GpuSession).where(GpuSession.agent_secret_digest == digest).with_for_update()
    return (await session.scalars(query)).one_or_none()


async def owned(
    session: AsyncSession,
    owner: str,
    states: Sequence[str] | None,
    before: int | None,
    limit: int,
) -> list[GpuSession]:
    query = rows.owned_query(GpuSession, owner, states, before)
    return await rows.page(session, GpuSession, query, limit)


async def in_states(
    session: AsyncSession, states: Iterable[State], provider: str | None = None
) -> list[GpuSession]:
    query = select(GpuSession).where(GpuSession.state.in_([s.value for s in states]))
    if provider is not None:
        query = query.where(GpuSession.provider == provider)
    return list((await session.scalars(query.order_by(GpuSession.id))).all())


async def ids_in_states(session: AsyncSession, states: Iterable[State]) -> list[int]:
    query = select(GpuSession.id).where(GpuSession.state.in_([s.value for s in states]))
    return list((await session.scalars(query.order_by(GpuSession.id))).all())


async def by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, GpuSession]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(select(GpuSession).where(GpuSession.id.in_(wanted)))
    return {row.id: row for row in rows}


async def due_to_destroy(session: AsyncSession, now: datetime) -> list[int]:
    query = select(GpuSession.id).where(
        GpuSession.state == State.ENDING.value,
        or_(GpuSession.next_destroy_at.is_(None), GpuSession.next_destroy_at <= now),
    )
    return list((await session.scalars(query.order_by(GpuSession.id))).all())


async def counts_by_state(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(GpuSession.state, func.count()).group_by(GpuSession.state))
    return {state: int(count) for state, count in rows.all()}


async def needing_attention(session: AsyncSession) -> int:
    query = select(func.count()).where(
        GpuSession.needs_attention.is_(True), GpuSession.state == State.ENDING.value
    )
    return int((await session.scalar(query)) or 0)


async def owner_sessions_since(
    session: AsyncSession, owner: str, since: datetime
) -> list[GpuSession]:
    """The owner's sessions that ran (or may still run) at or after `since`."""
    query = select(GpuSession).where(
        GpuSession.owner == owner,
        GpuSession.running_at.is_not(None),
        or_(GpuSession.billing_end.is_(None), GpuSession.billing_end >= since),
    )
    return list((await session.scalars(query.order_by(GpuSession.id))).all())


def _matching(
    gpu: str, gpu_count: int, spot: bool, max_price: int, scopes: Sequence[tuple[str, str]]
) -> list[Any]:
    return [
        Offer.available.is_(True),
        Offer.gpu == gpu,
        Offer.gpu_count == gpu_count,
        Offer.spot.is_(spot),
        Offer.price_per_hour <= max_price,
        or_(*(and_(Offer.source == source, Offer.provider == p) for source, p in scopes)),
    ]


async def matching_offers(
    session: AsyncSession,
    *,
    gpu: str,
    gpu_count: int,
    spot: bool,
    max_price: int,
    scopes: Sequence[tuple[str, str]],
    exclude: Iterable[int],
    limit: int,
) -> list[Offer]:
    """Offers a failed launch may move to: the same GPU and count, no dearer than agreed, at a
    provider that can launch; cheapest and most reliable first."""
    if not scopes:
        return []
    query = (
        select(Offer)
        .where(*_matching(gpu, gpu_count, spot, max_price, scopes), Offer.id.not_in(list(exclude)))
        .order_by(Offer.price_per_hour, Offer.reliability.desc().nulls_last(), Offer.id)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def count_matching(
    session: AsyncSession,
    *,
    gpu: str,
    gpu_count: int,
    spot: bool,
    max_price: int,
    scopes: Sequence[tuple[str, str]],
) -> int:
    if not scopes:
        return 0
    query = select(func.count()).where(*_matching(gpu, gpu_count, spot, max_price, scopes))
    return int((await session.scalar(query)) or 0)


async def offer(session: AsyncSession, offer_id: int) -> Offer | None:
    return await session.get(Offer, offer_id)

"""Every query of the clusters domain."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.clusters.models import Cluster, ClusterMember
from gp4u.clusters.states import ClusterState
from gp4u.db import rows
from gp4u.offers.models import Offer

# The most offers a cluster plans over: live providers list thousands, not millions.
MAX_LAUNCHABLE_OFFERS = 100_000


async def get(session: AsyncSession, cluster_id: int, *, lock: bool = False) -> Cluster | None:
    return await rows.by_id(session, Cluster, cluster_id, lock=lock)


async def owned(
    session: AsyncSession,
    owner: str,
    states: Sequence[str] | None,
    before: int | None,
    limit: int,
) -> list[Cluster]:
    return await rows.page(
        session, Cluster, rows.owned_query(Cluster, owner, states, before), limit
    )


async def ids_in_states(session: AsyncSession, states: Iterable[ClusterState]) -> list[int]:
    query = select(Cluster.id).where(Cluster.state.in_([s.value for s in states]))
    return list((await session.scalars(query.order_by(Cluster.id))).all())


async def planned_before(session: AsyncSession, created_before: datetime) -> list[int]:
    query = select(Cluster.id).where(
        Cluster.state == ClusterState.PLANNED.value, Cluster.created_at < created_before
    )
    return list((await session.scalars(query.order_by(Cluster.id))).all())


async def members(
    session: AsyncSession, cluster_ids: Sequence[int], *, lock: bool = False
) -> list[ClusterMember]:
    query = (
        select(ClusterMember)
        .where(ClusterMember.cluster_id.in_(list(cluster_ids)))
        .order_by(ClusterMember.cluster_id, ClusterMember.id)
    )
    if lock:
        query = query.with_for_update()
    return list((await session.scalars(query)).all())


async def launchable_offers(
    session: AsyncSession, scopes: Sequence[tuple[str, str]]
) -> list[Offer]:
    """Available, priced offers of the providers that can launch here, cheapest first."""
    if not scopes:
        return []
    query = (
        select(Offer)
        .where(
            Offer.available.is_(True),
            Offer.price_per_hour > 0,
            or_(*(and_(Offer.source == source, Offer.provider == p) for source, p in scopes)),
        )
        .order_by(Offer.price_per_hour, Offer.id)
        .limit(MAX_LAUNCHABLE_OFFERS)
    )
    return list((await session.scalars(query)).all())


async def offers(session: AsyncSession, ids: Iterable[int]) -> dict[int, Offer]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = await session.scalars(select(Offer).where(Offer.id.in_(wanted)))
    return {row.id: row for row in rows}

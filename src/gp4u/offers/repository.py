"""All SQL of the market: running compiled searches, loading and writing offers and history,
and the per-source bookkeeping of imports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.db import bulk
from gp4u.db.base import MAX_ID
from gp4u.offers.fields import OUTPUT_COLUMNS
from gp4u.offers.index import INDEX_COLUMNS
from gp4u.offers.ingest import Existing
from gp4u.offers.models import MarketState, Offer, OfferPrice, SourceSync
from gp4u.offers.sql import Compiled, Dialect

_CHUNK = 5000


def _is_id(value: int) -> bool:
    return 0 < value <= MAX_ID


def _scope(source: str, provider: str) -> tuple[Any, ...]:
    """One source's offers of one provider, as a range of the unique key (keys start with
    `source|provider|`; the key is byte-ordered), so no index of its own is needed."""
    prefix = f"{source}|{provider}|"
    return (
        Offer.key >= prefix,
        Offer.key < prefix[:-1] + chr(ord("|") + 1),
        Offer.source == source,
        Offer.provider == provider,
    )


def dialect_of(session: AsyncSession) -> Dialect:
    name = session.get_bind().dialect.name
    return Dialect.SQLITE if name == "sqlite" else Dialect.POSTGRESQL


async def fetch(session: AsyncSession, compiled: Compiled) -> Sequence[Sequence[Any]]:
    result = await session.execute(text(compiled.sql), compiled.params)
    return result.all()


async def next_version(session: AsyncSession) -> int:
    """Take the next market version for this transaction's writes. The row stays locked until
    commit, which also serialises concurrent imports."""
    result = await session.execute(
        update(MarketState)
        .where(MarketState.id == 1)
        .values(version=MarketState.version + 1)
        .returning(MarketState.version)
    )
    return int(result.scalar_one())


async def market_version(session: AsyncSession) -> int:
    result = await session.execute(select(MarketState.version).where(MarketState.id == 1))
    return int(result.scalar_one())


async def index_rows(session: AsyncSession, since: int) -> Sequence[Sequence[Any]]:
    """(id, *INDEX_COLUMNS) of every offer written after market version `since`."""
    columns = [Offer.id, *(getattr(Offer, c) for c in INDEX_COLUMNS)]
    query = select(*columns)
    if since > 0:
        query = query.where(Offer.version > since)
    return (await session.execute(query)).all()


async def changes_since(
    session: AsyncSession, since: int, until: int, limit: int
) -> Sequence[Sequence[Any]]:
    """(id, price_per_hour, price_per_gpu_hour, available, stale, created_at, updated_at) of at
    most `limit` offers written after market version `since`, up to `until`."""
    query = (
        select(
            Offer.id,
            Offer.price_per_hour,
            Offer.price_per_gpu_hour,
            Offer.available,
            Offer.stale,
            Offer.created_at,
            Offer.updated_at,
        )
        .where(Offer.version > since, Offer.version <= until)
        .order_by(Offer.id)
        .limit(limit)
    )
    return (await session.execute(query)).all()


async def offers_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Sequence[Any]]:
    """Offer rows (OUTPUT_COLUMNS) in the order of `ids`."""
    ids = [i for i in ids if _is_id(i)]
    if not ids:
        return []
    columns = [getattr(Offer, c) for c in OUTPUT_COLUMNS]
    rows = (await session.execute(select(*columns).where(Offer.id.in_(ids)))).all()
    by_id = {row[0]: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]


async def get_offer(session: AsyncSession, offer_id: int) -> Sequence[Any] | None:
    if not _is_id(offer_id):
        return None
    columns = [getattr(Offer, c) for c in OUTPUT_COLUMNS]
    result = await session.execute(select(*columns).where(Offer.id == offer_id))
    return result.first()


async def offer_history(
    session: AsyncSession, offer_id: int, limit: int = 200
) -> Sequence[Sequence[Any]]:
    """The offer's most recent history points, oldest first."""
    recent = (
        select(
            OfferPrice.at,
            OfferPrice.price_per_hour,
            OfferPrice.price_per_gpu_hour,
            OfferPrice.available,
            OfferPrice.id,
        )
        .where(OfferPrice.offer_id == offer_id)
        .order_by(OfferPrice.at.desc(), OfferPrice.id.desc())
        .limit(limit)
    )
    rows = (await session.execute(recent)).all()
    return list(reversed(rows))


async def price_points(
    session: AsyncSession, offer_ids: Sequence[int], until: datetime
) -> list[Sequence[Any]]:
    """(offer_id, at, price_per_gpu_hour, available) of the offers' history up to `until`,
    ordered by offer and time."""
    rows: list[Sequence[Any]] = []
    for start in range(0, len(offer_ids), _CHUNK):
        query = (
            select(
                OfferPrice.offer_id,
                OfferPrice.at,
                OfferPrice.price_per_gpu_hour,
                OfferPrice.available,
            )
            .where(
                OfferPrice.offer_id.in_(offer_ids[start : start + _CHUNK]), OfferPrice.at <= until
            )
            .order_by(OfferPrice.offer_id, OfferPrice.at, OfferPrice.id)
        )
        rows.extend((await session.execute(query)).all())
    return rows


async def load_existing(session: AsyncSession, source: str, provider: str) -> dict[str, Existing]:
    query = select(
        Offer.key,
        Offer.id,
        Offer.content_hash,
        Offer.price_per_hour,
        Offer.price_per_gpu_hour,
        Offer.available,
        Offer.stale,
    ).where(*_scope(source, provider))
    result = await session.execute(query)
    return {
        key: Existing(row_id, digest, price, per_gpu, bool(available), bool(stale))
        for key, row_id, digest, price, per_gpu, available, stale in result.all()
    }


async def available_in_scope(
    session: AsyncSession, source: str, provider: str, *, stale: bool | None = None
) -> list[Sequence[Any]]:
    """(id, price_per_hour, price_per_gpu_hour) of a source's available offers, optionally only
    the stale or only the fresh ones."""
    query = select(Offer.id, Offer.price_per_hour, Offer.price_per_gpu_hour).where(
        *_scope(source, provider), Offer.available.is_(True)
    )
    if stale is not None:
        query = query.where(Offer.stale.is_(stale))
    return list((await session.execute(query)).all())


async def mark_stale(session: AsyncSession, ids: list[int], version: int) -> None:
    for start in range(0, len(ids), _CHUNK):
        await session.execute(
            update(Offer)
            .where(Offer.id.in_(ids[start : start + _CHUNK]))
            .values(stale=True, version=version)
        )


_OFFERS = cast(Table, Offer.__table__)
# What an import may change on an existing offer: everything but its identity and birth.
_MUTABLE = tuple(
    c.name
    for c in _OFFERS.columns
    if c.name not in ("id", "key", "source", "provider", "created_at")
)


_FIRST_PRICE = bulk.FollowWith(
    table="offer_prices",
    columns=("offer_id", "at", "price_per_hour", "price_per_gpu_hour", "available"),
    expressions=("id", "updated_at", "price_per_hour", "price_per_gpu_hour", "available"),
)


async def insert_offers(
    session: AsyncSession, rows: list[dict[str, Any]], source: str, provider: str, now: datetime
) -> None:
    """Insert new offers with their first history point; a row another import inserted
    meanwhile is updated instead."""
    if not rows:
        return
    done = await bulk.upsert(
        session, _OFFERS, rows, conflict="key", keep=frozenset({"created_at"}), follow=_FIRST_PRICE
    )
    if not done:  # SQLite: read the new rows back in one set-based statement
        created = select(
            Offer.id,
            Offer.updated_at,
            Offer.price_per_hour,
            Offer.price_per_gpu_hour,
            Offer.available,
        ).where(*_scope(source, provider), Offer.created_at == now)
        await session.execute(insert(OfferPrice).from_select(list(_FIRST_PRICE.columns), created))


async def update_offers(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Update changed offers by id."""
    await bulk.update_by_id(session, _OFFERS, rows, _MUTABLE)


async def mark_unavailable(
    session: AsyncSession, ids: list[int], now: datetime, version: int
) -> None:
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        await session.execute(
            update(Offer)
            .where(Offer.id.in_(chunk))
            .values(available=False, updated_at=now, version=version)
        )


async def add_history(session: AsyncSession, points: list[dict[str, Any]]) -> None:
    for start in range(0, len(points), _CHUNK):
        await session.execute(insert(OfferPrice), points[start : start + _CHUNK])


async def record_sync(session: AsyncSession, **values: Any) -> None:
    session.add(SourceSync(**values))
    await session.flush()


async def count_offers(
    session: AsyncSession,
    source: str | None = None,
    exclude_sources: tuple[str, ...] = (),
    available_only: bool = True,
) -> int:
    query = select(func.count()).select_from(Offer)
    if source is not None:
        query = query.where(Offer.source == source)
    if exclude_sources:
        query = query.where(Offer.source.not_in(exclude_sources))
    if available_only:
        query = query.where(Offer.available.is_(True))
    return int((await session.execute(query)).scalar_one())


async def source_counts(session: AsyncSession) -> Sequence[Sequence[Any]]:
    """Per (source, provider): offers, available offers, last change."""
    query = select(
        Offer.source,
        Offer.provider,
        func.count(),
        func.count().filter(Offer.available.is_(True)),
        func.max(Offer.updated_at),
    ).group_by(Offer.source, Offer.provider)
    return (await session.execute(query)).all()


async def providers_of(session: AsyncSession, source: str) -> list[str]:
    query = select(Offer.provider).where(Offer.source == source).distinct()
    return list((await session.execute(query)).scalars())


async def _latest(session: AsyncSession, status: str | None) -> dict[tuple[str, str], SourceSync]:
    newest = select(SourceSync.source, SourceSync.provider, func.max(SourceSync.id).label("last"))
    if status is not None:
        newest = newest.where(SourceSync.status == status)
    subquery = newest.group_by(SourceSync.source, SourceSync.provider).subquery()
    query = select(SourceSync).join(subquery, SourceSync.id == subquery.c.last)
    return {(s.source, s.provider): s for s in (await session.execute(query)).scalars()}


async def latest_syncs(session: AsyncSession) -> dict[tuple[str, str], SourceSync]:
    """The most recent sync run of each (source, provider), whatever its outcome."""
    return await _latest(session, None)


async def latest_successful_syncs(session: AsyncSession) -> dict[tuple[str, str], datetime]:
    """When each (source, provider) last synced successfully."""
    return {key: sync.finished_at for key, sync in (await _latest(session, "ok")).items()}


async def prune_syncs(session: AsyncSession, before: datetime) -> int:
    """Delete sync runs finished before `before`, except each source's latest run and latest
    successful run (freshness is read from those)."""
    latest = select(func.max(SourceSync.id)).group_by(SourceSync.source, SourceSync.provider)
    latest_ok = latest.where(SourceSync.status == "ok")
    result = await session.execute(
        delete(SourceSync).where(
            SourceSync.finished_at < before,
            SourceSync.id.not_in(latest.scalar_subquery()),
            SourceSync.id.not_in(latest_ok.scalar_subquery()),
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def refresh_statistics(session: AsyncSession) -> None:
    """Refresh the planner's statistics of the market tables after a large import, so the next
    search picks the right index at once instead of after autovacuum (PostgreSQL) or never
    (SQLite keeps no statistics until asked)."""
    await session.execute(text("ANALYZE offers"))
    await session.execute(text("ANALYZE offer_prices"))

"""Every query of the reservations domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.db import rows
from gp4u.reservations.models import Reservation
from gp4u.reservations.states import State

_INSERT = insert(cast(Table, Reservation.__table__)).returning(Reservation.__table__.c.id)


async def insert_new(session: AsyncSession, values: dict[str, Any]) -> int:
    """A new reservation's id, through a prepared Core statement (bookings are the hot path;
    the ORM's unit of work would cost twice the CPU). Raises IntegrityError on an overlap."""
    return int((await session.execute(_INSERT, values)).scalar_one())


async def get(
    session: AsyncSession, reservation_id: int, *, lock: bool = False
) -> Reservation | None:
    return await rows.by_id(session, Reservation, reservation_id, lock=lock)


async def owned(
    session: AsyncSession,
    owner: str,
    states: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
    before: int | None,
    limit: int,
) -> list[Reservation]:
    """The owner's reservations, newest first; `since`/`until` select those overlapping it."""
    query = rows.owned_query(Reservation, owner, states, before)
    if since is not None:
        query = query.where(Reservation.end_at > since)
    if until is not None:
        query = query.where(Reservation.start_at < until)
    return await rows.page(session, Reservation, query, limit)


async def due(session: AsyncSession, now: datetime) -> list[int]:
    """Reservations the manager must look at: pending ones whose start has come, and active
    ones (each is checked for its end, its session and a capture that is due)."""
    query = select(Reservation.id).where(
        (and_(Reservation.state == State.PENDING, Reservation.start_at <= now))
        | (Reservation.state == State.ACTIVE)
    )
    return list((await session.scalars(query.order_by(Reservation.start_at))).all())

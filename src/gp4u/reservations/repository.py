"""Every query of the reservations domain, and the rows a booking writes with its reservation
(its audit event and its host's notification)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.alerts.models import Notification
from gp4u.alerts.service import write_notification
from gp4u.audit.models import AuditEvent
from gp4u.audit.service import write_event
from gp4u.db import rows
from gp4u.reservations.models import Reservation
from gp4u.reservations.states import State

_INSERT = insert(cast(Table, Reservation.__table__)).returning(Reservation.__table__.c.id)


async def insert_new(session: AsyncSession, values: dict[str, Any]) -> int:
    """A new reservation's id, through a prepared Core statement (bookings are the hot path;
    the ORM's unit of work would cost twice the CPU). Raises IntegrityError on an overlap."""
    return int((await session.execute(_INSERT, values)).scalar_one())


_events = cast(Table, AuditEvent.__table__)
_notes = cast(Table, Notification.__table__)
# Both rows in one statement on PostgreSQL: the event's insert is a data-modifying CTE.
_INSERT_EVENT_AND_NOTE = (
    insert(_notes)
    .values({c.name: bindparam(f"note_{c.name}") for c in _notes.c if c.name != "id"})
    .add_cte(
        insert(_events)
        .values({c.name: bindparam(f"event_{c.name}") for c in _events.c if c.name != "id"})
        .cte("event")
    )
)


async def insert_event_and_note(
    session: AsyncSession, event: dict[str, Any], note: dict[str, Any]
) -> None:
    """A new booking's audit event and its host's notification (`audit.event_values`,
    `alerts.notification_values`): one round trip on PostgreSQL, where each costs the booking
    path as much CPU as the row itself; SQLite, in process, simply writes the two."""
    if session.get_bind().dialect.name == "sqlite":
        await write_event(session, event)
        await write_notification(session, note)
        return
    params = {f"event_{k}": v for k, v in event.items()}
    params.update({f"note_{k}": v for k, v in note.items()})
    await session.execute(_INSERT_EVENT_AND_NOTE, params)


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
    ones (each is checked for its end, its session and a capture that is due). A cluster's
    bookings are its own business."""
    query = select(Reservation.id).where(
        Reservation.cluster_id.is_(None),
        (and_(Reservation.state == State.PENDING, Reservation.start_at <= now))
        | (Reservation.state == State.ACTIVE),
    )
    return list((await session.scalars(query.order_by(Reservation.start_at))).all())

"""Writing and reading the audit log. `record` joins the caller's transaction, so an action and
its audit row commit together; provider calls made outside a transaction record their outcome
in a transaction of their own right after. `event_values` is the row, for a caller that writes
it together with its own rows (a booking does)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.audit.models import AuditEvent
from gp4u.kit.paging import keyset_page

DETAIL_CHARS = 500


# Written on hot paths (every booking records one), so a prepared Core statement rather than an
# ORM flush (see decision 35).
_INSERT_EVENT = insert(cast(Table, AuditEvent.__table__))


async def record(session: AsyncSession, now: datetime, action: str, **fields: Any) -> None:
    """Add one event (`fields` as `event_values` takes them)."""
    await write_event(session, event_values(now, action, **fields))


async def write_event(session: AsyncSession, values: dict[str, Any]) -> None:
    """Write an event's row (`event_values`)."""
    await session.execute(_INSERT_EVENT, values)


def event_values(
    now: datetime,
    action: str,
    *,
    actor: str = "system",
    session_id: int | None = None,
    provider: str | None = None,
    instance_id: str | None = None,
    outcome: str = "ok",
    **detail: Any,
) -> dict[str, Any]:
    """One event's row (`record` writes it; a hot path may write it in a statement of its own).
    Detail values are cut to a readable length (provider answers can be long); callers never
    pass secrets."""
    return {
        "at": now,
        "actor": actor,
        "action": action,
        "session_id": session_id,
        "provider": provider,
        "instance_id": instance_id,
        "outcome": outcome,
        "detail": {k: _short(v) for k, v in detail.items()},
    }


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > DETAIL_CHARS:
        return value[:DETAIL_CHARS] + "…"
    return value


async def events(
    session: AsyncSession,
    *,
    session_id: int | None,
    action: str | None,
    provider: str | None,
    since: datetime | None,
    before: int | None,
    limit: int,
) -> dict[str, Any]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit + 1)
    if session_id is not None:
        query = query.where(AuditEvent.session_id == session_id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if provider is not None:
        query = query.where(AuditEvent.provider == provider)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    rows = list((await session.scalars(query)).all())
    page, next_before = keyset_page(rows, limit, lambda row: row.id)
    return {"items": [event_view(row) for row in page], "next_before": next_before}


def event_view(row: AuditEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at,
        "actor": row.actor,
        "action": row.action,
        "session_id": row.session_id,
        "provider": row.provider,
        "instance_id": row.instance_id,
        "outcome": row.outcome,
        "detail": row.detail,
    }

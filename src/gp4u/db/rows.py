"""Queries every domain's repository needs in the same shape: one row by id (optionally locked
for update), and a user's rows newest first, by state, in keyset pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

Row = TypeVar("Row")


async def by_id(
    session: AsyncSession, model: type[Row], row_id: int, *, lock: bool = False
) -> Row | None:
    query = select(model).where(model.id == row_id)  # type: ignore[attr-defined]
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


def owned_query(
    model: type[Row], owner: str, states: Sequence[str] | None, before: int | None
) -> Select[Any]:
    """The owner's rows in these states (all when none), below the id `before`."""
    query = select(model).where(model.owner == owner)  # type: ignore[attr-defined]
    if states:
        query = query.where(model.state.in_(states))  # type: ignore[attr-defined]
    if before is not None:
        query = query.where(model.id < before)  # type: ignore[attr-defined]
    return query


async def page(
    session: AsyncSession, model: type[Row], query: Select[Any], limit: int
) -> list[Row]:
    """`limit` rows of the query, newest (highest id) first."""
    ordered = query.order_by(model.id.desc()).limit(limit)  # type: ignore[attr-defined]
    return list((await session.scalars(ordered)).all())

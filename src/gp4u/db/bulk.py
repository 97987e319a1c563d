"""Bulk writes through each driver's fast path, inside the caller's transaction.

SQLAlchemy's ORM bulk paths cost ~100 µs a row; imports write 100k rows at a time. Here SQLite
gets one `executemany` of a plain statement, and PostgreSQL gets `COPY` into a temporary staging
table followed by one set-based statement. Only scalar columns (text, numbers, booleans,
timestamps) are supported; timestamps must be timezone-aware.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import DateTime, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.db.base import UtcDateTime
from gp4u.kit.clock import sqlite_text


def _is_sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def insert_for(dialect_name: str) -> Any:
    """The dialect's INSERT construct (both have `on_conflict_do_nothing`/`…_do_update`)."""
    return pg_insert if dialect_name == "postgresql" else sqlite_insert


def _records(
    rows: Sequence[dict[str, Any]], table: Table, columns: Sequence[str], sqlite: bool
) -> list[tuple[Any, ...]]:
    """Row tuples in column order, built in C; on SQLite, timestamp columns (by their type)
    become SQLAlchemy's text form, converted once per distinct value: an import stamps every
    row with the same time."""
    pick = itemgetter(*columns)
    records = [pick(row) for row in rows] if len(columns) > 1 else [(pick(r),) for r in rows]
    times = [
        i
        for i, name in enumerate(columns)
        if isinstance(table.c[name].type, DateTime | UtcDateTime)
    ]
    if not sqlite or not times:
        return records
    texts: dict[datetime, str] = {}
    converted = []
    for record in records:
        values = list(record)
        for i in times:
            value = values[i]
            if value is not None:
                text = texts.get(value)
                if text is None:
                    text = texts[value] = sqlite_text(value)
                values[i] = text
        converted.append(tuple(values))
    return converted


async def _driver_connection(session: AsyncSession) -> Any:
    connection = await session.connection()
    # The asyncpg adapter opens its transaction lazily: make sure it is open, so the raw calls
    # below belong to the caller's unit of work.
    await connection.exec_driver_sql("SELECT 1")
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def _stage(
    session: AsyncSession, table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> tuple[Any, str]:
    """COPY rows into a temporary table shaped like `columns` of `table` (PostgreSQL)."""
    pg = await _driver_connection(session)
    staging = f"{table.name}_staging"
    column_list = ", ".join(columns)
    await pg.execute(f"DROP TABLE IF EXISTS {staging}")
    await pg.execute(
        f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS "
        f"SELECT {column_list} FROM {table.name} WITH NO DATA"  # nosec B608  # names: table metadata
    )
    await pg.copy_records_to_table(
        staging, records=_records(rows, table, columns, sqlite=False), columns=list(columns)
    )
    return pg, staging


@dataclass(frozen=True)
class FollowWith:
    """A second insert fed by the rows an upsert wrote: `INSERT INTO table (columns) SELECT
    expressions FROM written`, where `written` has the upserted table's columns."""

    table: str
    columns: Sequence[str]
    expressions: Sequence[str]


async def upsert(
    session: AsyncSession,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    conflict: str,
    keep: frozenset[str] = frozenset(),
    follow: FollowWith | None = None,
) -> bool:
    """Insert rows; a row whose `conflict` column already exists is updated instead, except for
    the `keep` columns. Rows carry every column but the autoincrement id.

    With `follow`, PostgreSQL also runs the follow-up insert in the same statement and this
    returns True; SQLite cannot return rows from `executemany`, so it returns False and the
    caller does the follow-up its own way."""
    if not rows:
        return True
    columns = [c.name for c in table.columns if c.name != "id"]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != conflict and c not in keep)
    column_list = ", ".join(columns)
    if _is_sqlite(session):
        placeholders = ", ".join("?" for _ in columns)
        connection = await session.connection()
        await connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({column_list}) VALUES ({placeholders}) "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}",
            _records(rows, table, columns, sqlite=True),
        )
        return follow is None
    pg, staging = await _stage(session, table, columns, rows)
    statement = (
        f"INSERT INTO {table.name} ({column_list}) SELECT {column_list} FROM {staging} "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
    )
    if follow is not None:
        statement = (
            f"WITH written AS ({statement} RETURNING *) "
            f"INSERT INTO {follow.table} ({', '.join(follow.columns)}) "
            f"SELECT {', '.join(follow.expressions)} FROM written"
        )
    await pg.execute(statement)
    return True


async def update_by_id(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], columns: Sequence[str]
) -> None:
    """Set `columns` of the rows with each row's `id`."""
    if not rows:
        return
    if _is_sqlite(session):
        assignments = ", ".join(f"{c} = ?" for c in columns)
        connection = await session.connection()
        await connection.exec_driver_sql(
            f"UPDATE {table.name} SET {assignments} WHERE id = ?",
            _records(rows, table, [*columns, "id"], sqlite=True),
        )
        return
    pg, staging = await _stage(session, table, ["id", *columns], rows)
    assignments = ", ".join(f"{c} = s.{c}" for c in columns)
    # Identifiers come from the table's metadata, never from input; the values travel by COPY.
    await pg.execute(
        f"UPDATE {table.name} t SET {assignments} FROM {staging} s WHERE t.id = s.id"  # nosec B608
    )

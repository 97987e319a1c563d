"""Enqueue jobs inside the caller's transaction, and claim and settle them for a runner.

`enqueue` only inserts a row: the job exists if and only if the caller's transaction commits.
Runners claim due rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so several relays never take the
same row; SQLite serialises writers anyway), run them, and mark them done, or due again after a
backoff, or failed after the job's last attempt. A row claimed by a process that died is claimed
again once its job's timeout has passed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.jobs.models import OutboxJob
from gp4u.jobs.registry import JOBS, load_jobs, spec
from gp4u.kit.errors import InvalidInput

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"


async def enqueue(
    session: AsyncSession, job: str, now: datetime, args: Mapping[str, Any] | None = None
) -> int:
    """Add a job to the caller's transaction; returns its outbox id."""
    if job not in JOBS:
        load_jobs()
    if job not in JOBS:
        raise InvalidInput(f"unknown job {job!r}")
    payload = dict(args or {})
    try:
        orjson.dumps(payload)
    except TypeError as exc:
        raise InvalidInput(f"job arguments must be JSON: {exc}") from exc
    row = OutboxJob(
        job=job, args=payload, status=PENDING, attempts=0, run_after=now, created_at=now
    )
    session.add(row)
    await session.flush()
    return row.id


async def enqueue_once(
    session: AsyncSession, job: str, now: datetime, args: Mapping[str, Any] | None = None
) -> int | None:
    """Enqueue unless the same job with the same arguments is already waiting to run (a burst of
    syncs asks for one alert evaluation, not ten). Returns the new id, or None."""
    waiting = await session.scalars(
        select(OutboxJob.args).where(OutboxJob.job == job, OutboxJob.status == PENDING)
    )
    if any(dict(a) == dict(args or {}) for a in waiting):
        return None
    return await enqueue(session, job, now, args)


async def claim_due(session: AsyncSession, now: datetime, limit: int = 20) -> list[OutboxJob]:
    """Claim up to `limit` due jobs (pending, or running past their timeout) for this runner."""
    stuck_before = now - timedelta(seconds=max(j.timeout_seconds for j in JOBS.values()) + 60)
    statement = (
        select(OutboxJob)
        .where(
            or_(
                (OutboxJob.status == PENDING) & (OutboxJob.run_after <= now),
                (OutboxJob.status == RUNNING) & (OutboxJob.claimed_at < stuck_before),
            )
        )
        .order_by(OutboxJob.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    rows = list((await session.scalars(statement)).all())
    for row in rows:
        row.status, row.claimed_at, row.attempts = RUNNING, now, row.attempts + 1
    await session.flush()
    return rows


async def settle(
    session: AsyncSession,
    job_id: int,
    claimed_at: datetime,
    now: datetime,
    error: str | None = None,
) -> str:
    """Record how a claimed job ended: done, due again after a backoff, or failed for good.
    Fenced on the claim: a runner whose claim was taken over (it ran past the job's timeout and
    the row was claimed again) changes nothing and gets "superseded"."""
    row = await session.get(OutboxJob, job_id)
    if row is None or row.status != RUNNING or row.claimed_at != claimed_at:
        return "superseded"
    if error is None:
        status, run_after = DONE, row.run_after
    elif row.job not in JOBS or row.attempts >= spec(row.job).max_attempts:
        status, run_after = FAILED, row.run_after
    else:
        status = PENDING
        run_after = now + timedelta(seconds=min(300, 2**row.attempts))
    await session.execute(
        update(OutboxJob)
        .where(
            OutboxJob.id == job_id,
            OutboxJob.status == RUNNING,
            OutboxJob.claimed_at == claimed_at,
        )
        .values(
            status=status,
            run_after=run_after,
            finished_at=now if status in (DONE, FAILED) else None,
            last_error=error[:2000] if error else None,
        )
    )
    return status


async def counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(OutboxJob.status, func.count()).group_by(OutboxJob.status))
    return {str(status): int(n) for status, n in rows.all()}

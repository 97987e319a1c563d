"""Jobs: the outbox is transactional, the in-process runner runs enqueued and periodic jobs, and
a failing job is retried, then marked failed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gp4u.db.engine import unit_of_work
from gp4u.jobs import outbox
from gp4u.jobs.context import JobContext
from gp4u.jobs.models import OutboxJob
from gp4u.jobs.registry import JOBS, Schedule, job
from gp4u.kit.clock import FrozenClock
from gp4u.kit.errors import InvalidInput
from gp4u.settings import Settings
from gp4u.worker.context import open_context
from gp4u.worker.inprocess import InProcessRunner

CALLS: list[dict[str, Any]] = []


@job("test.record", max_attempts=2)
async def record(ctx: JobContext, value: int, fail: bool = False) -> int:
    CALLS.append({"value": value})
    if fail:
        raise RuntimeError(f"asked to fail on {value}")
    return value


@pytest.fixture
async def ctx(
    settings: Settings, clock: FrozenClock, engine: AsyncEngine
) -> AsyncIterator[JobContext]:
    CALLS.clear()
    context = open_context(settings.model_copy(update={"providers": ""}), clock)
    yield context
    await context.aclose()
    await context.engine.dispose()


async def _wait_for(predicate: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if await predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


async def _rows(ctx: JobContext) -> list[OutboxJob]:
    async with ctx.sessions() as session:
        return list((await session.scalars(select(OutboxJob).order_by(OutboxJob.id))).all())


async def test_a_job_exists_only_if_its_transaction_commits(ctx: JobContext) -> None:
    with pytest.raises(RuntimeError):
        async with unit_of_work(ctx.sessions) as session:
            await outbox.enqueue(session, "test.record", ctx.clock.now(), {"value": 1})
            raise RuntimeError("the request failed after enqueueing")
    assert await _rows(ctx) == []
    async with unit_of_work(ctx.sessions) as session:
        await outbox.enqueue(session, "test.record", ctx.clock.now(), {"value": 2})
    runner = InProcessRunner(ctx, poll_seconds=0.05)
    runner.start(schedules=False)

    async def done() -> bool:
        return [r.status for r in await _rows(ctx)] == ["done"]

    await _wait_for(done)
    await runner.stop()
    assert CALLS == [{"value": 2}]


async def test_enqueue_refuses_unknown_jobs_and_non_json_arguments(ctx: JobContext) -> None:
    async with ctx.sessions() as session:
        with pytest.raises(InvalidInput, match="unknown job"):
            await outbox.enqueue(session, "test.nope", ctx.clock.now())
        with pytest.raises(InvalidInput, match="JSON"):
            await outbox.enqueue(session, "test.record", ctx.clock.now(), {"value": object()})


async def test_a_failing_job_is_retried_after_a_backoff_then_marked_failed(
    ctx: JobContext, clock: FrozenClock
) -> None:
    from datetime import timedelta

    async with unit_of_work(ctx.sessions) as session:
        await outbox.enqueue(session, "test.record", clock.now(), {"value": 3, "fail": True})
    runner = InProcessRunner(ctx, poll_seconds=0.05)
    runner.start(schedules=False)

    async def retrying() -> bool:
        rows = await _rows(ctx)
        return rows[0].status == "pending" and rows[0].attempts == 1

    await _wait_for(retrying)
    first = (await _rows(ctx))[0]
    assert "asked to fail on 3" in (first.last_error or "")
    assert first.run_after > clock.now()  # backing off: not run again yet
    clock.advance(timedelta(seconds=3))
    runner.kick()

    async def failed() -> bool:
        return (await _rows(ctx))[0].status == "failed"

    await _wait_for(failed)
    await runner.stop()
    assert CALLS == [{"value": 3}, {"value": 3}]  # max_attempts=2
    assert (await _rows(ctx))[0].finished_at == clock.now()


async def test_periodic_schedules_run_repeatedly_without_overlap(ctx: JobContext) -> None:
    JOBS["test.record"] = JOBS["test.record"].__class__(
        "test.record",
        record,
        schedules=lambda c: [Schedule("tick", "test.record", 0.01, {"value": 9})],
    )
    try:
        runner = InProcessRunner(ctx, poll_seconds=0.05)
        runner.start()

        async def ran_thrice() -> bool:
            return len(CALLS) >= 3

        await _wait_for(ran_thrice)
        await runner.stop()
    finally:
        JOBS["test.record"] = JOBS["test.record"].__class__("test.record", record, max_attempts=2)
    assert {c["value"] for c in CALLS} == {9}

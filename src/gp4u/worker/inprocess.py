"""The in-process runner of `gp4u serve`: every periodic schedule as its own loop (a run never
overlaps the previous one of the same schedule), and a relay that claims due outbox jobs and runs
them. One failing job is logged and retried per its policy; it never stops the others."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gp4u.db.engine import unit_of_work
from gp4u.jobs import outbox
from gp4u.jobs.context import JobContext
from gp4u.jobs.execute import run_job
from gp4u.jobs.registry import Schedule, all_schedules
from gp4u.kit.logging import get_logger

log = get_logger(__name__)


class InProcessRunner:
    def __init__(self, ctx: JobContext, *, poll_seconds: float = 1.0) -> None:
        self.ctx = ctx
        self.poll_seconds = poll_seconds
        self._tasks: set[asyncio.Task[Any]] = set()
        self._kick = asyncio.Event()

    def start(self, *, schedules: bool = True) -> None:
        if schedules:
            for schedule in all_schedules(self.ctx):
                self._spawn(self._every(schedule), schedule.key)
        self._spawn(self._relay(), "outbox-relay")

    def kick(self) -> None:
        """Look at the outbox now rather than at the next poll."""
        self._kick.set()

    async def run_now(self, job: str, args: Mapping[str, Any] | None = None) -> Any:
        return await run_job(self.ctx, job, args)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _every(self, schedule: Schedule) -> None:
        while True:
            try:
                await run_job(self.ctx, schedule.job, schedule.args)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: S110 - run_job logged it; the schedule goes on
                pass
            await asyncio.sleep(schedule.every)

    async def _relay(self) -> None:
        while True:
            try:
                now, work = await claim_due(self.ctx)
                for job_id, job, args in work:
                    self._spawn(execute_claimed(self.ctx, job_id, now, job, args), f"job-{job_id}")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be briefly unavailable
                log.warning("outbox relay failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), self.poll_seconds)
            self._kick.clear()


async def claim_due(ctx: JobContext) -> tuple[datetime, list[tuple[int, str, dict[str, Any]]]]:
    """Claim the outbox jobs due now: (the claim time, [(id, job, args)])."""
    async with unit_of_work(ctx.sessions) as session:
        now = ctx.clock.now()
        claimed = await outbox.claim_due(session, now)
        return now, [(row.id, row.job, dict(row.args)) for row in claimed]


async def run_due_jobs(ctx: JobContext, rounds: int = 100) -> list[str]:
    """Run every due outbox job, and those they enqueue, one after another (tests, benchmarks
    and tools that drive time themselves); the names of the jobs run."""
    ran: list[str] = []
    for _ in range(rounds):
        now, work = await claim_due(ctx)
        if not work:
            break
        for job_id, job, args in work:
            await execute_claimed(ctx, job_id, now, job, args)
            ran.append(job)
    return ran


async def execute_claimed(
    ctx: JobContext, job_id: int, claimed_at: datetime, job: str, args: dict[str, Any]
) -> str:
    """Run one claimed outbox job and settle it (done, retry later, or failed)."""
    error = None
    try:
        await run_job(ctx, job, args)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        error = repr(exc)
    async with unit_of_work(ctx.sessions) as session:
        return await outbox.settle(session, job_id, claimed_at, ctx.clock.now(), error)

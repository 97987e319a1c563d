"""Host jobs: publishing machines to the market, when they change and periodically (a machine
whose agent went silent turns unavailable without any event to say so)."""

from __future__ import annotations

from typing import Any

from gp4u.db.engine import unit_of_work
from gp4u.hosts import service
from gp4u.jobs.context import JobContext
from gp4u.jobs.registry import Schedule, job


def _publish_schedule(ctx: JobContext) -> list[Schedule]:
    every = max(5.0, ctx.settings.host_offline_after_seconds / 4)
    return [Schedule(service.PUBLISH_JOB, service.PUBLISH_JOB, every)]


@job(service.PUBLISH_JOB, schedules=_publish_schedule, timeout_seconds=120)
async def publish(ctx: JobContext) -> dict[str, Any]:
    async with unit_of_work(ctx.sessions) as session:
        return await service.publish(session, ctx.settings, ctx.clock.now())

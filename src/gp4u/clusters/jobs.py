"""Cluster jobs: the manager's pass over one cluster (enqueued when it starts or stops) and over
every live cluster (every `GP4U_LIFECYCLE_SECONDS`, beside the sessions' manager)."""

from __future__ import annotations

from typing import Any

from gp4u.clusters import lifecycle
from gp4u.clusters.service import ADVANCE_JOB
from gp4u.jobs.context import JobContext
from gp4u.jobs.registry import Schedule, job

MANAGE_JOB = "clusters.manage"


def _schedule(ctx: JobContext) -> list[Schedule]:
    return [Schedule(MANAGE_JOB, MANAGE_JOB, ctx.settings.lifecycle_seconds)]


@job(ADVANCE_JOB, timeout_seconds=300)
async def advance(ctx: JobContext, cluster_id: int) -> str:
    return await lifecycle.advance(ctx, cluster_id)


@job(MANAGE_JOB, schedules=_schedule, timeout_seconds=600)
async def manage(ctx: JobContext) -> dict[str, Any]:
    return await lifecycle.tick(ctx)

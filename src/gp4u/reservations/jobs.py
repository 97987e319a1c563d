"""The reservation manager, run every `GP4U_RESERVATION_TICK_SECONDS`."""

from __future__ import annotations

from gp4u.accounts.keyring import keyring
from gp4u.jobs.context import JobContext
from gp4u.jobs.registry import Schedule, job
from gp4u.reservations import lifecycle

MANAGE_JOB = "reservations.manage"


def _schedule(ctx: JobContext) -> list[Schedule]:
    return [Schedule(MANAGE_JOB, MANAGE_JOB, ctx.settings.reservation_tick_seconds)]


@job(MANAGE_JOB, schedules=_schedule, timeout_seconds=600)
async def manage(ctx: JobContext) -> dict[str, int]:
    return await lifecycle.manage(ctx, keyring(ctx.settings).box_key)

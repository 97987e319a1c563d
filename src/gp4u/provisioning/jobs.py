"""Session jobs: the launch (enqueued with the session), destruction (enqueued when a session
ends), the lifecycle manager and the reconciliation (periodic, intervals from settings)."""

from __future__ import annotations

from typing import Any

from gp4u.accounts.keyring import keyring
from gp4u.jobs.context import JobContext
from gp4u.jobs.registry import Schedule, job
from gp4u.provisioning import launcher, lifecycle, reconcile
from gp4u.provisioning.lifecycle import DESTROY_JOB, LAUNCH_JOB

LIFECYCLE_JOB = "sessions.lifecycle"
RECONCILE_JOB = "sessions.reconcile"


@job(LAUNCH_JOB, timeout_seconds=900)
async def launch(ctx: JobContext, session_id: int) -> str:
    return await launcher.launch(ctx, session_id, keyring(ctx.settings).box_key)


@job(DESTROY_JOB, timeout_seconds=300)
async def destroy(ctx: JobContext, session_id: int) -> str:
    return await lifecycle.destroy_step(ctx, session_id)


def _lifecycle_schedule(ctx: JobContext) -> list[Schedule]:
    return [Schedule(LIFECYCLE_JOB, LIFECYCLE_JOB, ctx.settings.lifecycle_seconds)]


def _reconcile_schedule(ctx: JobContext) -> list[Schedule]:
    return [Schedule(RECONCILE_JOB, RECONCILE_JOB, ctx.settings.reconcile_seconds)]


@job(LIFECYCLE_JOB, schedules=_lifecycle_schedule, timeout_seconds=600)
async def manage(ctx: JobContext) -> dict[str, Any]:
    return await lifecycle.tick(ctx)


@job(RECONCILE_JOB, schedules=_reconcile_schedule, timeout_seconds=600)
async def reconcile_instances(ctx: JobContext) -> dict[str, Any]:
    return await reconcile.reconcile(ctx)

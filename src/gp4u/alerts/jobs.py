"""Alert jobs: evaluate every watch (enqueued after each sync that changed the market), and
deliver one webhook (retried with backoff by the job system until it is delivered or the last
attempt is spent)."""

from __future__ import annotations

from typing import Any

from gp4u.alerts import service
from gp4u.db.engine import unit_of_work
from gp4u.jobs.context import JobContext
from gp4u.jobs.registry import job
from gp4u.offers.service import snapshot_index

EVALUATE = "alerts.evaluate"


class DeliveryFailed(Exception):
    """This attempt failed (logged on the delivery); the job system tries again later."""


@job(EVALUATE, max_attempts=3, timeout_seconds=120)
async def evaluate_watches(ctx: JobContext) -> dict[str, Any]:
    async with unit_of_work(ctx.sessions) as session:
        index = await snapshot_index(session, ctx.market)
        return await service.evaluate(session, index, ctx.clock.now())


@job(service.DELIVER, max_attempts=service.MAX_DELIVERY_ATTEMPTS, timeout_seconds=60)
async def deliver_webhook(ctx: JobContext, delivery_id: int) -> str:
    async with unit_of_work(ctx.sessions) as session:
        outcome = await service.deliver(
            session, ctx.providers.gateway, delivery_id, ctx.clock.now()
        )
    if outcome == "retry":  # raised after the attempt was committed to the delivery log
        raise DeliveryFailed(f"webhook delivery {delivery_id} failed; will retry")
    return outcome

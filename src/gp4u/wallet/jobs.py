"""Wallet jobs: settle pending payments with their rails, and expire holds past their time."""

from __future__ import annotations

from typing import Any

from gp4u.jobs.context import JobContext
from gp4u.jobs.registry import job
from gp4u.ledger import service as ledger
from gp4u.wallet import service
from gp4u.wallet.rails import build_rails

SETTLE_EVERY_SECONDS = 15.0
EXPIRE_EVERY_SECONDS = 60.0


@job("wallet.settle_payments", every=SETTLE_EVERY_SECONDS, timeout_seconds=120)
async def settle_payments(ctx: JobContext) -> dict[str, Any]:
    rails = build_rails(ctx.settings.rail_list, ctx.settings.test_rail_settle_seconds)
    return await service.settle_pending(ctx.sessions, rails, ctx.clock.now())


@job("ledger.expire_holds", every=EXPIRE_EVERY_SECONDS, timeout_seconds=120)
async def expire_holds(ctx: JobContext) -> int:
    return await ledger.expire_due(ctx.sessions, ctx.clock.now())

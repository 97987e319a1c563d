"""What node agents do with their sessions: register (the one-time token becomes an agent
secret and the session starts running), heartbeat, and report their workload done."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.jobs import outbox
from gp4u.jobs.context import JobContext
from gp4u.kit.errors import NotAuthenticated
from gp4u.kit.tokens import digest, new_token
from gp4u.ledger.repository import money_transaction
from gp4u.provisioning import repository as repo
from gp4u.provisioning.lifecycle import DESTROY_JOB, end_session, start_billing
from gp4u.provisioning.models import GpuSession
from gp4u.provisioning.states import EndReason, State, is_live


def _agent_terms(gs: GpuSession, ctx: JobContext) -> dict[str, Any]:
    return {
        "session_id": gs.id,
        "state": gs.state,
        "hard_deadline": gs.hard_deadline,
        "ends_at": gs.expires_at,
        "heartbeat_seconds": ctx.settings.agent_heartbeat_seconds,
        "broker_timeout_seconds": ctx.settings.agent_broker_timeout_seconds,
    }


async def agent_register(
    ctx: JobContext, token: str, facts: dict[str, Any] | None
) -> dict[str, Any]:
    """The one-time token becomes an agent secret; the session turns running (billing starts)."""
    now = ctx.clock.now()
    async with money_transaction(ctx.sessions) as session:
        gs = await repo.by_agent_token(session, digest(token))
        if gs is None or gs.agent_registered_at is not None or not is_live(gs.state):
            raise NotAuthenticated("this agent token is not valid (unknown, used or ended)")
        secret = new_token()
        gs.agent_secret_digest, gs.agent_registered_at = digest(secret), now
        gs.last_heartbeat_at = gs.last_seen_at = now
        gs.agent_facts = facts
        if gs.state != State.RUNNING:
            await start_billing(session, gs, now, "agent")
        return {**_agent_terms(gs, ctx), "agent_secret": secret}


async def _agent_session(session: AsyncSession, secret: str) -> GpuSession:
    gs = await repo.by_agent_secret(session, digest(secret))
    if gs is None:
        raise NotAuthenticated("this agent secret is not valid")
    return gs


async def agent_heartbeat(
    ctx: JobContext, secret: str, facts: dict[str, Any] | None
) -> dict[str, Any]:
    now = ctx.clock.now()
    async with money_transaction(ctx.sessions) as session:
        gs = await _agent_session(session, secret)
        if is_live(gs.state):
            gs.last_heartbeat_at = gs.last_seen_at = now
            if facts:
                gs.agent_facts = facts
        action = "continue" if is_live(gs.state) else "shutdown"
        return {**_agent_terms(gs, ctx), "action": action}


async def agent_done(
    ctx: JobContext, secret: str, exit_code: int | None, message: str | None
) -> dict[str, Any]:
    """The workload finished: end the session gracefully (billing stops now)."""
    now = ctx.clock.now()
    async with money_transaction(ctx.sessions) as session:
        gs = await _agent_session(session, secret)
        detail = f"exit code {exit_code}" if exit_code is not None else None
        if message:
            detail = f"{detail}: {message[:200]}" if detail else message[:200]
        if is_live(gs.state):
            gs.exit_code = exit_code
        if await end_session(
            session,
            gs,
            EndReason.AGENT_DONE,
            now,
            fee_basis_points=ctx.settings.platform_fee_bps,
            actor="agent",
            detail=detail,
        ):
            await outbox.enqueue(session, DESTROY_JOB, now, {"session_id": gs.id})
        return {"action": "shutdown", "state": gs.state}

"""The lifecycle manager: ends sessions (expiry, hard maximum, lost heartbeats, agents that never
check in, users and workloads that are done), settles their money the moment billing stops,
and destroys their machines with verification: terminate, then confirm with the provider that
the instance is gone, retrying with backoff for as long as it takes. A session is `terminated`
only with a recorded confirmation; after repeated failures it is flagged for attention (metric,
notification, audit) and still retried, never marked done."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.alerts.service import notify
from gp4u.audit.service import record
from gp4u.db.engine import unit_of_work
from gp4u.jobs.context import JobContext
from gp4u.kit.logging import get_logger
from gp4u.kit.money import format_usd
from gp4u.ledger.repository import money_transaction
from gp4u.providers.base import ProviderError
from gp4u.providers.interface import InstanceState
from gp4u.provisioning import billing, metrics
from gp4u.provisioning import repository as repo
from gp4u.provisioning.models import GpuSession
from gp4u.provisioning.states import FINAL, EndReason, State, check_move
from gp4u.wallet import repository as wallet_repo
from gp4u.wallet import service as wallet

log = get_logger(__name__)

LAUNCH_JOB = "sessions.launch"
DESTROY_JOB = "sessions.destroy"
FIRST_RETRY_SECONDS = 15.0
MAX_RETRY_SECONDS = 600.0
WARN_BEFORE = timedelta(minutes=15)
# Attempt outcomes after which an instance may exist at the provider.
MAY_HAVE_CREATED = frozenset({"ok", "unknown", "pending"})


# --- what a session costs --------------------------------------------------------------------


def held_cap(gs: GpuSession) -> int:
    """The most the session may cost: its price ceiling for its paid minutes (what was held)."""
    return billing.cost_of(gs.max_price_per_hour, gs.paid_minutes)


def billed_until(gs: GpuSession, now: datetime) -> datetime | None:
    """The end of its billed running time so far (None before it runs)."""
    return gs.billing_end or (now if gs.running_at else None)


def cost_so_far(gs: GpuSession, now: datetime) -> int:
    """What it cost when it ended, or has accrued so far."""
    if gs.cost is not None:
        return gs.cost
    return billing.accrued(gs.price_per_hour, gs.running_at, billed_until(gs, now), held_cap(gs))


# --- ending ----------------------------------------------------------------------------------


async def move(
    session: AsyncSession, gs: GpuSession, target: State, now: datetime, actor: str, **detail: Any
) -> None:
    """Change a session's state as the state machine allows, and audit it."""
    previous = gs.state
    check_move(previous, target)
    gs.state = target.value
    await record(
        session,
        now,
        "state",
        actor=actor,
        session_id=gs.id,
        provider=gs.provider,
        instance_id=gs.instance_id,
        previous=previous,
        state=target.value,
        **detail,
    )


async def end_session(
    session: AsyncSession,
    gs: GpuSession,
    reason: EndReason,
    now: datetime,
    *,
    fee_basis_points: int,
    actor: str = "system",
    billing_end: datetime | None = None,
    detail: str | None = None,
) -> bool:
    """Stop billing and mark the session for verified destruction, in the caller's money
    transaction: the running time is captured from the holds, the rest released. False when it
    was already ending or ended (ending twice is harmless)."""
    if gs.state == State.ENDING or State(gs.state) in FINAL:
        return False
    check_move(gs.state, State.ENDING)
    end = min(billing_end or now, now)
    if gs.running_at is not None and end < gs.running_at:
        end = gs.running_at
    if gs.cluster_id is not None:
        # A cluster member holds nothing itself: its cluster captures this from its own hold.
        cost = billing.accrued(gs.price_per_hour, gs.running_at, end, held_cap(gs))
    else:
        cost = await _capture(session, gs, end, now, fee_basis_points)
    await move(
        session, gs, State.ENDING, now, actor, reason=reason.value, cost_micros=cost, note=detail
    )
    gs.ending_at, gs.billing_end = now, end
    gs.cost, gs.end_reason, gs.end_detail = cost, reason.value, detail
    gs.next_destroy_at, gs.launch_lease_until = now, None
    await notify(
        session,
        gs.owner,
        kind="session_ended",
        message=f"Session {gs.id} ({gs.gpu_count}× {gs.gpu} at {gs.provider}) ended: "
        f"{_REASONS[reason]}. Cost {format_usd(cost)}.",
        payload={"session_id": gs.id, "reason": reason.value, "cost": cost / 1e6},
        now=now,
    )
    metrics.ENDED.labels(reason.value).inc()
    return True


async def _capture(
    session: AsyncSession, gs: GpuSession, end: datetime, now: datetime, fee_basis_points: int
) -> int:
    """Capture the running time up to `end` from the session's holds in order and release the
    rest; returns the cost."""
    charges = [await wallet_repo.charge(session, cid, lock=True) for cid in gs.charge_ids]
    held = [c.held if c is not None else 0 for c in charges]
    cost = billing.accrued(gs.price_per_hour, gs.running_at, end, sum(held))
    for charge_id, part in zip(gs.charge_ids, billing.split(cost, held), strict=True):
        if part:
            await wallet.capture_spend(
                session,
                gs.owner,
                charge_id,
                part,
                now,
                host=None,
                fee_basis_points=fee_basis_points,
            )
        else:
            await wallet.release_spend(session, gs.owner, charge_id, now)
    return cost


_REASONS = {
    EndReason.USER: "stopped by you",
    EndReason.AGENT_DONE: "your workload reported it was done",
    EndReason.EXPIRED: "its paid time ran out",
    EndReason.HARD_MAX: "it reached the maximum session lifetime",
    EndReason.HEARTBEAT_LOST: "the machine stopped reporting in",
    EndReason.NO_CHECKIN: "the machine never came up",
    EndReason.LAUNCH_FAILED: "no offer could be launched",
    EndReason.INTERRUPTED: "its launch was interrupted",
    EndReason.GHOST: "the provider no longer has the machine",
    EndReason.CLUSTER: "its cluster ended",
}


async def end_by_id(
    ctx: JobContext,
    session_id: int,
    reason: EndReason,
    *,
    actor: str = "system",
    billing_end: datetime | None = None,
    detail: str | None = None,
) -> bool:
    async with money_transaction(ctx.sessions) as session:
        gs = await repo.get(session, session_id, lock=True)
        if gs is None:
            return False
        return await end_session(
            session,
            gs,
            reason,
            ctx.clock.now(),
            fee_basis_points=ctx.settings.platform_fee_bps,
            actor=actor,
            billing_end=billing_end,
            detail=detail,
        )


# --- verified destruction --------------------------------------------------------------------


def retry_delay(attempts: int) -> float:
    """15 s, 30 s, 1 min… up to 10 min between destroy attempts."""
    return float(min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2.0 ** max(0, attempts - 1)))


def providers_of(gs: GpuSession) -> list[str]:
    """Every provider this session asked for a machine (failover may have tried several)."""
    names = {a["provider"] for a in gs.attempts if a.get("outcome") in MAY_HAVE_CREATED}
    return sorted(names | {gs.provider})


async def destroy_step(ctx: JobContext, session_id: int) -> str:
    """One destroy attempt for an ending session: terminate every instance tagged for it (and
    its recorded one), then ask the provider whether each is gone. Returns the session's state
    afterwards."""
    async with ctx.sessions() as session:
        gs = await repo.get(session, session_id)
    if gs is None or gs.state != State.ENDING:
        return gs.state if gs is not None else "missing"
    errors: list[str] = []
    alive: list[str] = []
    outcomes: list[dict[str, Any]] = []
    for name in providers_of(gs):
        try:
            adapter = ctx.providers.get(name)
            ids = {gs.instance_id} if gs.instance_id and name == gs.provider else set()
            tagged = await adapter.list_tagged(gs.deployment)
            ids |= {
                i.instance_id for i in tagged if i.tags is not None and i.tags.session == str(gs.id)
            }
            for instance_id in sorted(ids):
                await adapter.terminate(instance_id)
                outcomes.append({"provider": name, "instance_id": instance_id, "terminate": "ok"})
            for instance in await adapter.status(sorted(ids)) if ids else []:
                if instance.state is not InstanceState.TERMINATED:
                    alive.append(f"{name}:{instance.instance_id} is {instance.provider_status}")
        except (ProviderError, LookupError) as exc:
            errors.append(f"{name}: {exc}")
    now = ctx.clock.now()
    async with unit_of_work(ctx.sessions) as session:
        gs = await repo.get(session, session_id, lock=True)
        if gs is None or gs.state != State.ENDING:
            return gs.state if gs is not None else "missing"
        if not errors and not alive:
            final = State.TERMINATED if gs.instance_id or gs.running_at else State.FAILED
            gs.state, gs.destroy_confirmed_at, gs.next_destroy_at = final.value, now, None
            gs.needs_attention, gs.last_error = False, None
            await record(
                session,
                now,
                "destroy_confirmed",
                session_id=gs.id,
                provider=gs.provider,
                instance_id=gs.instance_id,
                state=final.value,
                attempts=gs.destroy_attempts + 1,
                calls=outcomes,
            )
            return final.value
        gs.destroy_attempts += 1
        gs.next_destroy_at = now + timedelta(seconds=retry_delay(gs.destroy_attempts))
        gs.last_error = "; ".join(errors + alive)[:1000]
        metrics.DESTROY_RETRIES.labels(gs.provider).inc()
        await record(
            session,
            now,
            "destroy_attempt",
            session_id=gs.id,
            provider=gs.provider,
            instance_id=gs.instance_id,
            outcome="failed",
            attempt=gs.destroy_attempts,
            error=gs.last_error,
            calls=outcomes,
        )
        if gs.destroy_attempts >= ctx.settings.destroy_attention_after and not gs.needs_attention:
            gs.needs_attention = True
            log.error(
                "session machine not confirmed destroyed",
                session_id=gs.id,
                provider=gs.provider,
                attempts=gs.destroy_attempts,
                error=gs.last_error,
            )
            await notify(
                session,
                gs.owner,
                kind="session_destroy_delayed",
                message=f"Session {gs.id}: {gs.provider} has not confirmed the machine is gone "
                f"after {gs.destroy_attempts} attempts. You are not being charged; we keep trying.",
                payload={"session_id": gs.id, "attempts": gs.destroy_attempts},
                now=now,
            )
        return gs.state


async def destroy_due(ctx: JobContext) -> dict[str, int]:
    async with ctx.sessions() as session:
        due = await repo.due_to_destroy(session, ctx.clock.now())
    states = [await destroy_step(ctx, session_id) for session_id in due]
    return {
        "destroy_attempted": len(due),
        "destroy_confirmed": sum(s in (State.TERMINATED, State.FAILED) for s in states),
    }


# --- the periodic pass -----------------------------------------------------------------------


def why_end(gs: GpuSession, now: datetime, ctx: JobContext) -> EndReason | None:
    """The reason a live session must end now, if any."""
    s = ctx.settings
    if now >= gs.hard_deadline:
        return EndReason.HARD_MAX
    if gs.state == State.RUNNING:
        if now >= gs.expires_at + timedelta(seconds=s.session_grace_seconds):
            return EndReason.EXPIRED
        last = gs.last_heartbeat_at or gs.agent_registered_at
        if last is not None and now - last > timedelta(seconds=s.agent_heartbeat_timeout_seconds):
            return EndReason.HEARTBEAT_LOST
    if gs.state == State.STARTING and now - (gs.launched_at or gs.created_at) > timedelta(
        seconds=s.agent_checkin_timeout_seconds
    ):
        return EndReason.NO_CHECKIN
    return None


async def tick(ctx: JobContext) -> dict[str, Any]:
    """One pass of the lifecycle manager."""
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        live = await repo.in_states(session, (State.STARTING, State.RUNNING, State.PROVISIONING))
    ended: dict[str, int] = {}
    for gs in live:
        reason = why_end(gs, now, ctx)
        if reason is None:
            continue
        if gs.state == State.PROVISIONING and reason is not EndReason.HARD_MAX:
            continue  # launches in flight are resolved by the launch job or reconciliation
        billing_end = _billing_end(gs, reason, now, ctx)
        if await end_by_id(ctx, gs.id, reason, billing_end=billing_end):
            ended[reason.value] = ended.get(reason.value, 0) + 1
    await refresh_connections(ctx)
    warned = await warn_unfunded(ctx, now)
    destroyed = await destroy_due(ctx)
    await refresh_gauges(ctx)
    return {"ended": ended, "warned": warned, **destroyed}


def _billing_end(gs: GpuSession, reason: EndReason, now: datetime, ctx: JobContext) -> datetime:
    """Billing stops at the end of the paid time, not when the manager noticed."""
    if reason is EndReason.EXPIRED:
        return gs.expires_at
    if reason is EndReason.HEARTBEAT_LOST:
        return gs.last_heartbeat_at or gs.agent_registered_at or now
    return min(now, gs.expires_at) if gs.running_at else now


async def start_billing(session: AsyncSession, gs: GpuSession, now: datetime, actor: str) -> None:
    """The machine is up and reachable: the session runs, its paid time starts now."""
    await move(session, gs, State.RUNNING, now, actor)
    gs.running_at = now
    gs.expires_at = min(now + timedelta(minutes=gs.paid_minutes), gs.hard_deadline)


def _agentless(ctx: JobContext, provider: str) -> bool:
    adapter = ctx.providers.adapters.get(provider)
    return adapter is not None and not adapter.runs_agent


async def refresh_connections(ctx: JobContext) -> int:
    """Fill in SSH details the provider knows only once the machine is up (its address and
    mapped port come after the create); on providers where the agent cannot run, that is also
    when the session starts running."""
    async with ctx.sessions() as session:
        live = await repo.in_states(session, (State.STARTING, State.RUNNING))
    waiting: dict[str, list[GpuSession]] = {}
    for gs in live:
        agentless_start = gs.state == State.STARTING and _agentless(ctx, gs.provider)
        if gs.instance_id and (not gs.ssh_host or agentless_start):
            waiting.setdefault(gs.provider, []).append(gs)
    filled = 0
    for name, group in waiting.items():
        try:
            found = await ctx.providers.get(name).status([g.instance_id or "" for g in group])
        except (ProviderError, LookupError):
            continue
        by_id = {i.instance_id: i for i in found}
        async with unit_of_work(ctx.sessions) as session:
            for gs in group:
                instance = by_id.get(gs.instance_id or "")
                host = instance and (instance.ssh_host or instance.public_ip)
                if instance is None or not host:
                    continue
                row = await repo.get(session, gs.id, lock=True)
                if row is None:
                    continue
                if not row.ssh_host:
                    row.ssh_host = host
                    row.ssh_port = instance.ssh_port or 22
                    row.ssh_user = instance.ssh_user or "root"
                    filled += 1
                if (
                    row.state == State.STARTING
                    and _agentless(ctx, name)
                    and instance.state is InstanceState.RUNNING
                ):
                    await start_billing(session, row, ctx.clock.now(), "provider")
    return filled


async def warn_unfunded(ctx: JobContext, now: datetime) -> int:
    """Warn once when a running session nears the end of its paid time and its owner's budget
    or balance could not pay for another hour: it will end at the end of its paid period."""
    warned = 0
    async with unit_of_work(ctx.sessions) as session:
        for gs in await repo.in_states(session, (State.RUNNING,)):
            if gs.warned_at is not None or gs.expires_at - now > WARN_BEFORE:
                continue
            if gs.reservation_id is not None or gs.cluster_id is not None:
                continue  # its reservation or cluster paid for its time in advance
            hour = billing.cost_of(gs.price_per_hour, 60)
            room = await wallet.spending_room(session, gs.owner, gs.key_prefix, now)
            if room >= hour:
                continue
            gs.warned_at = now
            await notify(
                session,
                gs.owner,
                kind="session_ending_soon",
                message=f"Session {gs.id} ends at {gs.expires_at:%H:%M} UTC, when its paid time "
                f"runs out: your balance or budget ({format_usd(max(room, 0))} left) cannot "
                f"extend it.",
                payload={"session_id": gs.id, "expires_at": gs.expires_at.isoformat()},
                now=now,
            )
            warned += 1
    return warned


async def refresh_gauges(ctx: JobContext) -> None:
    async with ctx.sessions() as session:
        counts = await repo.counts_by_state(session)
        attention = await repo.needing_attention(session)
    for state in State:
        metrics.SESSIONS.labels(state.value).set(counts.get(state.value, 0))
    metrics.ATTENTION.set(attention)

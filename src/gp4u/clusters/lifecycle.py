"""The cluster manager: one pass per live cluster (periodic, and right after start and stop).

A pass pays for members whose sessions ended (their cost is captured from the cluster's hold,
the rest stays held; a host-owned member's cost joins the host pool and its machine's booked
time is freed), replaces members that could not launch or were lost (the rest of the work is
re-planned with their offers excluded, more is held only if the new plan needs it), ends every
member when the cluster ends, and settles the cluster once every member's machine is confirmed
destroyed: the final state, the delivered compute and the release of what was not spent. Once
an ending cluster's members have all ended (the shares are final), the host pool is split among
the host-owned members' owners by contribution. Planning runs outside the cluster's lock; the
result is applied only if nothing changed meanwhile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.accounts.keyring import keyring
from gp4u.alerts.service import notify
from gp4u.audit.service import record
from gp4u.clusters import repository as repo
from gp4u.clusters.contribution import Work, delivered, shares, split, still_needed
from gp4u.clusters.launch import (
    HOLD_MARGIN,
    START_WITHIN,
    cost_of,
    event,
    hold,
    hold_ttl,
    members_for,
    open_sessions,
    plan_launchable,
    requirement_of,
    working_hours,
)
from gp4u.clusters.models import Cluster, ClusterMember
from gp4u.clusters.planner.explain import usd
from gp4u.clusters.planner.planning import Planning
from gp4u.clusters.requirements import Compute, Placement
from gp4u.clusters.states import FINAL, ClusterEnd, ClusterState, MemberState, check_move
from gp4u.jobs import outbox
from gp4u.jobs.context import JobContext
from gp4u.kit.errors import AppError
from gp4u.kit.logging import get_logger
from gp4u.kit.money import format_usd
from gp4u.ledger.repository import money_transaction
from gp4u.provisioning import billing
from gp4u.provisioning import repository as sessions_repo
from gp4u.provisioning.lifecycle import DESTROY_JOB, billed_until, end_session
from gp4u.provisioning.models import GpuSession
from gp4u.provisioning.states import FINAL as SESSION_FINAL
from gp4u.provisioning.states import LOST, EndReason, State, is_live
from gp4u.reservations import lifecycle as reservations
from gp4u.wallet import service as wallet

log = get_logger(__name__)

DELIVERED_ENOUGH = 0.999  # of the requirement: the model's rounding is not a shortfall


# --- what members did ------------------------------------------------------------------------


def work_of(member: ClusterMember, gs: GpuSession | None, now: datetime) -> Work:
    """A member's work so far and the time it has left (by its session's clock)."""
    if gs is None:
        left = member.minutes / 60 if member.state == MemberState.PLANNED else 0.0
        return Work(member.pflops, 0.0, left)
    ran = billing.billable_minutes(gs.running_at, billed_until(gs, now)) / 60
    if not is_live(gs.state):
        return Work(member.pflops, ran, 0.0)
    if gs.running_at is None:
        return Work(member.pflops, 0.0, gs.paid_minutes / 60)
    return Work(member.pflops, ran, max(0.0, (gs.expires_at - now).total_seconds() / 3600))


def works(
    members: list[ClusterMember], sessions: dict[int, GpuSession], now: datetime
) -> list[Work]:
    return [work_of(m, sessions.get(m.session_id or 0), now) for m in members]


async def member_sessions(
    session: AsyncSession, members: list[ClusterMember]
) -> dict[int, GpuSession]:
    """The sessions of the members that have one, by id."""
    return await sessions_repo.by_ids(session, (m.session_id for m in members if m.session_id))


# --- paying for members ----------------------------------------------------------------------


async def _pay(session: AsyncSession, cluster: Cluster, amount: int, now: datetime) -> None:
    """Capture `amount` from the cluster's holds, oldest first; what is left stays held."""
    cluster.charge_ids, paid = await wallet.capture_in_order(
        session,
        cluster.owner,
        cluster.charge_ids,
        amount,
        now,
        ttl=max(hold_ttl(cluster, now), HOLD_MARGIN),
    )
    if paid != amount:
        raise ValueError(f"cluster {cluster.id}'s holds do not cover {amount}")
    cluster.captured += amount


async def _settle(
    session: AsyncSession,
    cluster: Cluster,
    members: list[ClusterMember],
    sessions: dict[int, GpuSession],
    now: datetime,
) -> list[ClusterMember]:
    """Pay for members whose sessions ended; returns those lost (to be replaced)."""
    lost = []
    for member in members:
        gs = sessions.get(member.session_id or 0)
        if gs is None or gs.cost is None or member.settled_at is not None:
            continue
        was_lost = gs.end_reason is not None and EndReason(gs.end_reason) in LOST
        if member.reservation_id is None:
            await _pay(session, cluster, gs.cost, now)
        else:  # its owner is paid from the pool, by contribution, when the cluster ends
            cluster.host_pool += gs.cost
            await reservations.end_for_cluster(
                session,
                member.reservation_id,
                ran=gs.running_at is not None,
                lost=was_lost,
                detail=f"cluster {cluster.id}'s member {member.id} ended: {_why(gs)}",
                now=now,
            )
        member.cost, member.settled_at = gs.cost, now
        if was_lost:
            member.state = MemberState.FAILED.value
            member.failure = gs.end_detail or gs.end_reason
            cluster.excluded_offers = sorted({*cluster.excluded_offers, member.offer_id})
            lost.append(member)
        else:
            member.state = MemberState.DONE.value
    return lost


async def _pay_hosts(
    session: AsyncSession,
    cluster: Cluster,
    members: list[ClusterMember],
    sessions: dict[int, GpuSession],
    fee_bps: int,
    now: datetime,
) -> None:
    """Split the host pool (what the host-owned members cost, each at its own price for the
    time it ran) among their owners by contribution score, to the micro-dollar; each is paid
    less the platform fee."""
    scores = shares(works(members, sessions, now))
    hosted = [
        (m, score)
        for m, score in zip(members, scores, strict=True)
        if m.cost and m.reservation_id is not None
    ]
    if not hosted or cluster.host_pool <= 0:
        return
    parts = split(
        cluster.host_pool, [score for _, score in hosted], [m.cost or 0 for m, _ in hosted]
    )
    for (member, _), part in zip(hosted, parts, strict=True):
        fee = 0
        if part > 0:
            cluster.charge_ids, fee = await reservations.pay_host_for_cluster(
                session,
                member.reservation_id or 0,
                cluster.charge_ids,
                part,
                fee_bps,
                now,
                ttl=max(hold_ttl(cluster, now), HOLD_MARGIN),
            )
        member.host_paid, member.host_fee = part - fee, fee
    cluster.captured += cluster.host_pool
    cluster.host_pool = 0


# --- ending ----------------------------------------------------------------------------------


async def begin_end(
    session: AsyncSession,
    ctx: JobContext,
    cluster: Cluster,
    reason: ClusterEnd,
    now: datetime,
    detail: str | None = None,
    actor: str = "system",
) -> None:
    """The cluster ends: members not started are cancelled, every live member's session ends
    (billing stops) and is handed to the destroyer. In the caller's money transaction."""
    check_move(cluster.state, ClusterState.ENDING)
    previous = cluster.state
    cluster.state, cluster.ending_at = ClusterState.ENDING.value, now
    cluster.end_reason, cluster.end_detail = reason.value, detail
    members = await repo.members(session, [cluster.id], lock=True)
    session_reason = EndReason.USER if reason is ClusterEnd.USER else EndReason.CLUSTER
    for member in members:
        if member.state == MemberState.PLANNED:
            member.state = MemberState.CANCELLED.value
        if member.session_id is None:
            continue
        gs = await sessions_repo.get(session, member.session_id, lock=True)
        if gs is not None and await end_session(
            session,
            gs,
            session_reason,
            now,
            fee_basis_points=ctx.settings.platform_fee_bps,
            actor=actor,
            detail=f"cluster {cluster.id} ended",
        ):
            await outbox.enqueue(session, DESTROY_JOB, now, {"session_id": gs.id})
    event(cluster, now, f"ending: {detail or reason.value}")
    await record(
        session,
        now,
        "cluster_state",
        actor=actor,
        cluster_id=cluster.id,
        previous=previous,
        state=cluster.state,
        reason=reason.value,
        note=detail,
    )


def _outcome(
    cluster: Cluster, members: list[ClusterMember], sessions: dict[int, GpuSession], now: datetime
) -> tuple[ClusterState, str]:
    done = sum(delivered(works(members, sessions, now)))
    share = done / cluster.pflop_hours
    finished = [sessions.get(m.session_id or 0) for m in members if m.state == MemberState.DONE]
    failed = [gs.id for gs in finished if gs is not None and gs.exit_code not in (None, 0)]
    workloads_done = bool(finished) and all(
        gs is not None and gs.end_reason == EndReason.AGENT_DONE for gs in finished
    )
    summary = f"{done:,.6g} of {cluster.pflop_hours:,.6g} PFLOP-hours delivered ({share:.1%})"
    if failed:
        sessions_named = ", ".join(str(i) for i in failed)
        return ClusterState.FAILED, f"{summary}; the workload failed (sessions {sessions_named})"
    if cluster.end_reason == ClusterEnd.NOT_REPLACEABLE:
        return ClusterState.FAILED, summary
    if share >= DELIVERED_ENOUGH or (workloads_done and cluster.end_reason != ClusterEnd.USER):
        return ClusterState.COMPLETED, summary
    if cluster.end_reason in (ClusterEnd.USER, ClusterEnd.NOT_STARTED):
        return ClusterState.STOPPED, summary
    return ClusterState.FAILED, summary


async def _finish(
    session: AsyncSession,
    cluster: Cluster,
    members: list[ClusterMember],
    sessions: dict[int, GpuSession],
    now: datetime,
) -> None:
    """Every member's machine is confirmed gone: decide the outcome, release what is held."""
    await wallet.release_open(session, cluster.owner, cluster.charge_ids, now)
    released = cluster.held - cluster.captured
    cluster.charge_ids = []
    state, summary = _outcome(cluster, members, sessions, now)
    check_move(cluster.state, state)
    cluster.state, cluster.ended_at = state.value, now
    cluster.end_detail = f"{cluster.end_detail}; {summary}" if cluster.end_detail else summary
    event(cluster, now, f"{state.value}: {summary}; cost {usd(cluster.captured)}")
    await record(
        session,
        now,
        "cluster_state",
        cluster_id=cluster.id,
        previous=ClusterState.ENDING.value,
        state=state.value,
        cost_micros=cluster.captured,
        released_micros=released,
    )
    await notify(
        session,
        cluster.owner,
        kind="cluster_ended",
        message=f"Cluster {cluster.id} {state.value}: {summary}. "
        f"Cost {format_usd(cluster.captured)}; {format_usd(released)} released.",
        payload={"cluster_id": cluster.id, "state": state.value, "cost": cluster.captured / 1e6},
        now=now,
    )


def _all_gone(members: list[ClusterMember], sessions: dict[int, GpuSession]) -> bool:
    for member in members:
        gs = sessions.get(member.session_id or 0)
        if member.session_id is not None and (gs is None or State(gs.state) not in SESSION_FINAL):
            return False
        if member.state in (MemberState.PLANNED, MemberState.STARTED):
            return False
    return True


# --- the pass --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Replan:
    """What a re-plan is computed from (outside the lock) and checked against (inside it)."""

    replans: int
    lost: int  # members failed when it was planned: a later loss needs a plan of its own
    remaining: float
    planning: Planning | None
    reason: str | None  # why no re-plan is possible, when there is none


async def advance(ctx: JobContext, cluster_id: int) -> str:
    """One pass over one cluster. Returns its state afterwards."""
    if await _step(ctx, cluster_id):
        replan = await _replan(ctx, cluster_id)
        if replan is not None:
            await _apply(ctx, cluster_id, replan)
        await _step(ctx, cluster_id)
    async with ctx.sessions() as session:
        cluster = await repo.get(session, cluster_id)
    return cluster.state if cluster is not None else "missing"


async def _step(ctx: JobContext, cluster_id: int) -> bool:
    """Settle ended members, move the state on, finish when all is gone. True when lost
    members wait to be replaced (the cluster then re-plans)."""
    now = ctx.clock.now()
    async with money_transaction(ctx.sessions) as session:
        cluster = await repo.get(session, cluster_id, lock=True)
        if cluster is None or cluster.state in (ClusterState.PLANNED, *FINAL):
            return False
        members = await repo.members(session, [cluster.id], lock=True)
        sessions = await member_sessions(session, members)
        for member in await _settle(session, cluster, members, sessions, now):
            gs = sessions[member.session_id or 0]
            event(cluster, now, f"member {member.id} ({member.label}) lost: {_why(gs)}")
            cluster.pending_replan = True
        running = any(gs.state == State.RUNNING for gs in sessions.values())
        if cluster.state == ClusterState.STARTING and running:
            check_move(cluster.state, ClusterState.RUNNING)
            cluster.state = ClusterState.RUNNING.value
            event(cluster, now, "running")
        live = [m for m in members if m.state in (MemberState.PLANNED, MemberState.STARTED)]
        ending = cluster.state == ClusterState.ENDING
        if not ending and not live and not cluster.pending_replan:
            await begin_end(session, ctx, cluster, ClusterEnd.FINISHED, now)
        if cluster.state == ClusterState.ENDING and cluster.host_pool and not live:
            # Every member has ended and no re-plan can follow: the shares are final.
            fee_bps = ctx.settings.platform_fee_bps
            await _pay_hosts(session, cluster, members, sessions, fee_bps, now)
        if cluster.state == ClusterState.ENDING and _all_gone(members, sessions):
            await _finish(session, cluster, members, sessions, now)
        return cluster.pending_replan and cluster.state in (
            ClusterState.STARTING,
            ClusterState.RUNNING,
        )


def _why(gs: GpuSession) -> str:
    return f"{gs.end_reason}" + (f" ({gs.end_detail})" if gs.end_detail else "")


def _live(member: ClusterMember, sessions: dict[int, GpuSession]) -> bool:
    if member.state == MemberState.PLANNED:
        return True
    gs = sessions.get(member.session_id or 0)
    return member.state == MemberState.STARTED and gs is not None and is_live(gs.state)


async def _replan(ctx: JobContext, cluster_id: int) -> _Replan | None:
    """Plan the rest of the work around the lost members (no lock held while planning). The
    amount depends on how many machines the re-plan adds (they all share the scaling penalty),
    so it is planned again until that count settles."""
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        cluster = await repo.get(session, cluster_id)
        if cluster is None or cluster.state not in (ClusterState.STARTING, ClusterState.RUNNING):
            return None
        members = await repo.members(session, [cluster.id])
        sessions = await member_sessions(session, members)
        lost = sum(m.state == MemberState.FAILED for m in members)
        done = works(members, sessions, now)
        live = [m for m in members if _live(m, sessions)]
        hours = min(
            (cluster.deadline_at - now).total_seconds() / 3600,
            working_hours(cluster.machine_hours_cap, ctx.settings),
        )
        machines = int(cluster.requirement["max_machines"]) - len(live)
        committed = (
            cluster.captured
            + cluster.host_pool
            + cost_of(m for m in members if m.settled_at is None)
        )
        budget = None if cluster.budget is None else cluster.budget - committed
        if still_needed(cluster.pflop_hours, done) <= cluster.pflop_hours * (1 - DELIVERED_ENOUGH):
            return _Replan(cluster.replans, lost, 0.0, None, None)
        reason = (
            "the deadline has passed"
            if hours <= 1 / 60
            else "no machine is left under the cluster's maximum"
            if machines < 1
            else "the budget is spent"
            if budget is not None and budget <= 0
            else None
        )
        if reason is not None:
            return _Replan(cluster.replans, lost, 1.0, None, reason)
        only = None
        if live and cluster.requirement["placement"] in (
            Placement.SAME_PROVIDER,
            Placement.SAME_REGION,
        ):
            anchor = (await repo.offers(session, [live[0].offer_id])).get(live[0].offer_id)
            if anchor is not None:
                same_region = cluster.requirement["placement"] == Placement.SAME_REGION
                only = (anchor.provider, anchor.region if same_region else None)
        added, remaining, planning = 1, 0.0, None
        for _ in range(3):
            remaining = still_needed(cluster.pflop_hours, done, added)
            req = requirement_of(
                cluster,
                compute=Compute(
                    remaining,
                    cluster.precision,  # type: ignore[arg-type]
                    f"the rest of the job: {remaining:,.6g} PFLOP-hours",
                ),
                deadline_hours=hours,
                budget_micros=budget,
                max_machines=machines,
                exclude_offers=frozenset(cluster.excluded_offers),
            )
            planning = await plan_launchable(
                session,
                ctx.providers,
                req,
                owner=cluster.owner,
                in_use=[m.offer_id for m in live],
                only=only,
            )
            if planning.exact is None or planning.exact.machines == added:
                break
            added = planning.exact.machines
    why = None
    if planning is None or planning.exact is None:
        why = planning.infeasibility.detail if planning and planning.infeasibility else "no plan"
    return _Replan(cluster.replans, lost, remaining, planning, why)


async def _apply(ctx: JobContext, cluster_id: int, replan: _Replan) -> None:
    """Add the re-planned members (holding more if needed), or end the cluster without them."""
    now = ctx.clock.now()
    box_key = keyring(ctx.settings).box_key
    try:
        async with money_transaction(ctx.sessions) as session:
            cluster = await repo.get(session, cluster_id, lock=True)
            if cluster is None or cluster.replans != replan.replans:
                return  # another pass re-planned first
            if cluster.state not in (ClusterState.STARTING, ClusterState.RUNNING):
                return
            members = await repo.members(session, [cluster.id], lock=True)
            if sum(m.state == MemberState.FAILED for m in members) != replan.lost:
                return  # lost another member meanwhile: the next pass plans for both
            cluster.pending_replan = False
            if replan.remaining <= 0:
                event(cluster, now, "the members still running cover the rest of the job")
            elif replan.planning is None or replan.planning.exact is None:
                await _not_replaceable(session, ctx, cluster, str(replan.reason), now)
            else:
                await _add_round(ctx, session, cluster, replan, box_key, now)
    except AppError as exc:  # the extra hold was refused (budget, balance)
        async with money_transaction(ctx.sessions) as session:
            cluster = await repo.get(session, cluster_id, lock=True)
            if (
                cluster is not None
                and cluster.replans == replan.replans
                and cluster.state in (ClusterState.STARTING, ClusterState.RUNNING)
            ):
                await _not_replaceable(session, ctx, cluster, exc.detail, now)


async def _not_replaceable(
    session: AsyncSession, ctx: JobContext, cluster: Cluster, why: str, now: datetime
) -> None:
    cluster.pending_replan = False
    await begin_end(
        session,
        ctx,
        cluster,
        ClusterEnd.NOT_REPLACEABLE,
        now,
        f"a lost member could not be replaced: {why}",
    )


async def _add_round(
    ctx: JobContext,
    session: AsyncSession,
    cluster: Cluster,
    replan: _Replan,
    box_key: bytes,
    now: datetime,
) -> None:
    assert replan.planning is not None and replan.planning.exact is not None
    chosen = replan.planning.exact
    added = await members_for(session, cluster, chosen, ctx.providers, cluster.replans + 1)
    members = await repo.members(session, [cluster.id], lock=True)
    unsettled = cost_of(m for m in members if m.settled_at is None and m.state != "cancelled")
    room = cluster.held - cluster.captured - cluster.host_pool - unsettled
    extra = cost_of(added) - room
    await hold(session, cluster, extra, f"re-plan {cluster.replans + 1}", now)
    session.add_all(added)
    await session.flush()
    await open_sessions(ctx, session, cluster, added, box_key, now)
    cluster.replans += 1
    event(
        cluster,
        now,
        f"re-planned {replan.remaining:,.6g} PFLOP-hours: "
        + ", ".join(m.label for m in chosen.members)
        + f" ({usd(chosen.cost_micros)}"
        + (f", {usd(extra)} more held)" if extra > 0 else ")"),
    )
    await record(
        session,
        now,
        "cluster_replanned",
        cluster_id=cluster.id,
        round=cluster.replans,
        members=[m.id for m in added],
        cost_micros=chosen.cost_micros,
        extra_held_micros=max(0, extra),
    )


async def _expire_unstarted(ctx: JobContext, now: datetime) -> None:
    """Planned clusters not started in time end `stopped`: their hold comes back."""
    async with ctx.sessions() as session:
        stale = await repo.planned_before(session, now - START_WITHIN)
    for cluster_id in stale:
        async with money_transaction(ctx.sessions) as session:
            cluster = await repo.get(session, cluster_id, lock=True)
            if cluster is not None and cluster.state == ClusterState.PLANNED:
                await begin_end(
                    session,
                    ctx,
                    cluster,
                    ClusterEnd.NOT_STARTED,
                    now,
                    f"not started within {START_WITHIN.days} days of planning",
                )


async def tick(ctx: JobContext) -> dict[str, Any]:
    """The periodic pass over every cluster that is starting, running or ending (and planned
    ones left unstarted too long)."""
    await _expire_unstarted(ctx, ctx.clock.now())
    async with ctx.sessions() as session:
        ids = await repo.ids_in_states(
            session, (ClusterState.STARTING, ClusterState.RUNNING, ClusterState.ENDING)
        )
    states = []
    for cluster_id in ids:
        try:
            states.append(await advance(ctx, cluster_id))
        except Exception:  # one cluster's trouble must not stall the others
            log.exception("cluster pass failed", cluster_id=cluster_id)
            states.append("error")
    return {
        "clusters": len(ids),
        "ended": sum(s in {c.value for c in FINAL} for s in states),
        "errors": states.count("error"),
    }

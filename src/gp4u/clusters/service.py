"""Cluster services: planning a job over the current market (the public cost simulator), and
running clusters: create from a plan (one hold), start (one session per member), read with
members and progress, stop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.accounts.keyring import keyring
from gp4u.accounts.principal import Principal
from gp4u.accounts.service import session_hours_cap
from gp4u.audit.service import record
from gp4u.catalog.normalise import known_family
from gp4u.clusters import repository as repo
from gp4u.clusters.contribution import Work, delivered, shares
from gp4u.clusters.export import ExportFormat, export_plan
from gp4u.clusters.launch import (
    START_WITHIN,
    cost_of,
    event,
    hold,
    members_for,
    on_planner_thread,
    open_sessions,
    plan_launchable,
    seal_env,
    working_hours,
)
from gp4u.clusters.lifecycle import begin_end, member_sessions, works
from gp4u.clusters.models import Cluster, ClusterMember
from gp4u.clusters.planner.explain import Change, usd
from gp4u.clusters.planner.market import PlanMarket, market_from_index
from gp4u.clusters.planner.planning import Planning, plan
from gp4u.clusters.planner.result import Plan
from gp4u.clusters.requirements import Compute, JobRequirement, Precision
from gp4u.clusters.schemas import JobIn
from gp4u.clusters.states import LIVE, ClusterEnd, ClusterState, check_move
from gp4u.clusters.throughput import LOSS_PER_DOUBLING, compute_from_gpu_hours, efficiency_of
from gp4u.jobs import outbox
from gp4u.jobs.context import JobContext
from gp4u.kit.errors import Conflict, InvalidInput, NotFound
from gp4u.kit.money import micros_to_usd, usd_to_micros
from gp4u.kit.paging import keyset_page
from gp4u.ledger import service as ledger
from gp4u.ledger.repository import money_transaction
from gp4u.offers.index import MarketIndex
from gp4u.offers.service import MarketSearch, snapshot_index
from gp4u.pricing.service import gscore_weights, market_arrays
from gp4u.pricing.value import GScoreWeights, g_score_arrays
from gp4u.provisioning import sshkeys
from gp4u.provisioning.lifecycle import cost_so_far
from gp4u.provisioning.models import GpuSession
from gp4u.provisioning.service import check_env, ssh_keys
from gp4u.provisioning.states import State as SessionState
from gp4u.settings import Settings

ADVANCE_JOB = "clusters.advance"


def market_for(index: MarketIndex, precision: Precision, weights: GScoreWeights) -> PlanMarket:
    """The available offers of the index as a planning market, G-Scored against each other."""
    slots = np.flatnonzero(index.bools["available"])
    score = g_score_arrays(market_arrays(index, slots), weights) if slots.size else None
    return market_from_index(index, precision, score)


def plan_on(index: MarketIndex, req: JobRequirement, weights: GScoreWeights) -> Planning:
    """Plan a job on a market index (CPU work: call it off the event loop)."""
    return plan(market_for(index, req.compute.precision, weights), req)


async def plan_job(
    session: AsyncSession, market: MarketSearch | None, settings: Settings, req: JobRequirement
) -> Planning:
    """The exact and greedy plans for a job on the current market, explained."""
    index = await snapshot_index(session, market)
    return await on_planner_thread(plan_on, index, req, gscore_weights(settings))


def requirement_from(body: JobIn, now: datetime) -> JobRequirement:
    """The planner's requirement from an API request (deadline dates become hours from now)."""
    compute = body.compute
    try:
        amount = (
            Compute(
                compute.pflop_hours, compute.precision, f"{compute.pflop_hours:,.6g} PFLOP-hours"
            )
            if compute.pflop_hours is not None
            else compute_from_gpu_hours(
                compute.gpu_hours or 0.0, canonical_gpu(compute.reference_gpu), compute.precision
            )
        )
        hours = (
            body.deadline_hours
            if body.deadline_hours is not None
            else ((body.deadline or now) - now).total_seconds() / 3600
        )
        return JobRequirement(
            compute=amount,
            deadline_hours=hours,
            min_vram_gb=body.min_vram_gb,
            budget_micros=usd_to_micros(body.budget_usd) if body.budget_usd is not None else None,
            spot_allowed=body.spot_allowed,
            min_reliability=body.min_reliability,
            placement=body.placement,
            max_machines=body.max_machines,
            min_gpus_per_machine=body.min_gpus_per_machine,
            sustained=body.sustained,
            exclude_offers=frozenset(body.exclude_offers),
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def canonical_gpu(spelling: str) -> str:
    """A GPU family from any spelling (`h100 sxm` → `H100`)."""
    family = known_family(spelling)
    if family is None:
        raise ValueError(f"unknown GPU {spelling!r}")
    return family


def _usd(micros: int | None) -> float | None:
    return None if micros is None else micros_to_usd(micros)


def _plan_view(plan: Plan, req: JobRequirement) -> dict[str, Any]:
    return {
        "method": plan.method,
        "cost": micros_to_usd(plan.cost_micros),
        "within_budget": plan.within_budget(req),
        "machines": plan.machines,
        "gpus": plan.gpus,
        "scaling": round(plan.scaling, 6),
        "delivered_pflop_hours": round(plan.delivered_pflop_hours, 6),
        "finish_hours": round(plan.finish_hours, 4),
        "members": [
            {
                "offer_id": m.offer_id,
                "label": m.label,
                "instances": m.instances,
                "gpus_each": m.gpus_each,
                "hours_each": round(m.hours_each, 4),
                "price_per_hour": micros_to_usd(m.price_micros),
                "pflops_each": round(m.pflops_each, 6),
                "measured": m.measured,
                "cost": micros_to_usd(m.cost_micros),
            }
            for m in plan.members
        ],
    }


def _stored_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """A plan as stored with its cluster; plans stored before members said whether their speed
    was measured (migration 0013) read as not measured."""
    return {**plan, "members": [{"measured": False, **m} for m in plan["members"]]}


def _change_view(change: Change) -> dict[str, Any]:
    return {
        "constraint": change.constraint,
        "description": change.description,
        "changes": change.changes,
        "feasible": change.cost_micros is not None,
        "cost": _usd(change.cost_micros),
        "saves": _usd(change.saves_micros),
        "finish_hours": None if change.finish_hours is None else round(change.finish_hours, 4),
    }


def _assumptions(result: Planning) -> list[str]:
    gpus = sorted({m.gpu for p in (result.exact, result.greedy) if p for m in p.members})
    lines = [
        f"{gpu} delivers {efficiency_of(gpu):.0%} of its dense peak as useful compute."
        for gpu in gpus
    ]
    return [
        *lines,
        f"Spreading a job over machines loses {LOSS_PER_DOUBLING:.0%} of throughput per doubling"
        " of machines.",
        "Members may run for different lengths of time: the job checkpoints and accepts members"
        " joining and leaving (elastic data parallelism).",
        "Prices are the providers' current hourly prices; the plan is billed by the second.",
    ]


def requirement_view(req: JobRequirement) -> dict[str, Any]:
    return {
        "pflop_hours": req.compute.pflop_hours,
        "precision": req.compute.precision,
        "described_as": req.compute.described_as,
        "deadline_hours": round(req.deadline_hours, 4),
        "min_vram_gb": req.min_vram_gb,
        "budget": _usd(req.budget_micros),
        "spot_allowed": req.spot_allowed,
        "min_reliability": req.min_reliability,
        "placement": req.placement,
        "max_machines": req.max_machines,
        "min_gpus_per_machine": req.min_gpus_per_machine,
        "sustained": req.sustained,
    }


def planning_view(result: Planning, export: ExportFormat | None = None) -> dict[str, Any]:
    """The response of `POST /api/v1/clusters/plan` (with the plan exported, when asked)."""
    req = result.requirement
    status = (
        "planned" if result.exact else {"time_limit": "timeout"}.get(result.status, result.status)
    )
    return {
        "status": status,
        "optimal": result.exact is not None and result.status == "optimal",
        "requirement": requirement_view(req),
        "exact": _plan_view(result.exact, req) if result.exact else None,
        "greedy": _plan_view(result.greedy, req) if result.greedy else None,
        "greedy_gap_pct": None if result.gap is None else round(100 * result.gap, 3),
        "market": vars(result.market),
        "explanation": None
        if result.explanation is None
        else {
            "reasons": result.explanation.reasons,
            "binding": result.explanation.binding,
            "binding_detail": result.explanation.binding_detail,
            "relaxations": [_change_view(c) for c in result.explanation.relaxations],
        },
        "infeasibility": None
        if result.infeasibility is None
        else {
            "constraint": result.infeasibility.constraint,
            "detail": result.infeasibility.detail,
            "alternatives": [_change_view(c) for c in result.infeasibility.alternatives],
        },
        "assumptions": _assumptions(result),
        "export": export_plan(result.exact, req, export) if export and result.exact else None,
    }


# --- running clusters ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterSpec:
    """What every member runs, beside the plan request."""

    name: str | None = None
    image: str | None = None
    startup_command: str | None = None
    env: dict[str, str] | None = None
    ssh_public_key: str | None = None  # an OpenSSH public key, or "generate"


async def create(
    ctx: JobContext,
    principal: Principal,
    body: JobIn,
    spec: ClusterSpec,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """Plan the job over the offers this server can launch and hold the plan's cost once; the
    members start when the cluster is started. Refused (409) when no plan exists."""
    now = ctx.clock.now()
    payload = {
        **body.model_dump(mode="json", include=set(JobIn.model_fields)),
        "spec": {**vars(spec), "env": sorted((spec.env or {}).keys())},
    }
    # A retry is answered before planning again (the market may have moved since).
    replay = await ledger.replayed(
        ctx.sessions, principal.owner, idempotency_key, "cluster", payload
    )
    if replay is not None:
        return replay
    req = requirement_from(body, now)
    check_env(spec.env)
    async with ctx.sessions() as session:
        cap = await session_hours_cap(session, principal.owner, ctx.settings.session_max_hours)
    hours = min(req.deadline_hours, working_hours(cap, ctx.settings))
    async with ctx.sessions() as session:
        planning = await plan_launchable(
            session, ctx.providers, req.but(deadline_hours=hours), owner=principal.owner
        )
    chosen = planning.exact
    if chosen is None:
        raise Conflict(_no_plan(planning), plan=planning_view(planning))

    private: list[str] = []  # a generated key, only when this call creates the cluster

    async def work(session: AsyncSession) -> dict[str, Any]:
        keys = ssh_keys(spec.ssh_public_key, "gp4u-cluster")
        if keys and keys[1] is not None:
            private[:] = [keys[1]]
        cluster = Cluster(
            owner=principal.owner,
            key_prefix=principal.key_prefix,
            name=spec.name,
            state=ClusterState.PLANNED.value,
            # "In 48 hours" counts from the start; a date stays that date.
            requirement={**requirement_view(req), "deadline_fixed": body.deadline is not None},
            plan=planning_view(planning),
            pflop_hours=req.compute.pflop_hours,
            precision=req.compute.precision,
            deadline_at=now + timedelta(hours=req.deadline_hours),
            machine_hours_cap=cap,
            budget=req.budget_micros,
            estimate=0,
            charge_ids=[],
            held=0,
            captured=0,
            host_pool=0,
            excluded_offers=sorted(req.exclude_offers),
            replans=0,
            image=spec.image,
            startup_command=spec.startup_command,
            env_keys=sorted((spec.env or {}).keys()),
            ssh_public_key=keys[0] if keys else None,
            events=[],
            created_at=now,
        )
        session.add(cluster)
        await session.flush()
        if spec.env:
            cluster.env_sealed = seal_env(spec.env, keyring(ctx.settings).box_key, cluster.id)
        members = await members_for(session, cluster, chosen, ctx.providers, 0)
        session.add_all(members)
        await session.flush()
        cluster.estimate = cost_of(members)
        await hold(session, cluster, cluster.estimate, "the plan's estimate", now)
        event(cluster, now, f"planned: {len(members)} machines, {usd(cluster.estimate)}")
        await record(
            session,
            now,
            "cluster_created",
            actor=principal.user_id,
            cluster_id=cluster.id,
            members=len(members),
            held_micros=cluster.estimate,
        )
        # Stored for replays (Idempotency-Key): plain JSON.
        return dict(orjson.loads(orjson.dumps(cluster_view(cluster, members, {}, now))))

    view = await ledger.idempotent(
        ctx.sessions, principal.owner, idempotency_key, "cluster", payload, work, now
    )
    # A replay (same Idempotency-Key) made nothing: the key was shown by the call that did.
    return {**view, "ssh_private_key": private[0]} if private else view


def _no_plan(planning: Planning) -> str:
    why = planning.infeasibility
    if why is None:
        return f"no plan could be made ({planning.status})"
    nearest = "; ".join(c.description for c in why.alternatives)
    return f"no plan on the offers that can launch here: {why.detail}" + (
        f" Nearest: {nearest}." if nearest else ""
    )


async def _owned(
    session: AsyncSession, principal: Principal, cluster_id: int, *, lock: bool = False
) -> Cluster:
    cluster = await repo.get(session, cluster_id, lock=lock)
    if cluster is None or cluster.owner != principal.owner:
        raise NotFound(f"no cluster {cluster_id}")
    return cluster


async def start(ctx: JobContext, principal: Principal, cluster_id: int) -> dict[str, Any]:
    """Open one session per member (each launched by its own job); starting twice is harmless."""
    now = ctx.clock.now()
    async with money_transaction(ctx.sessions) as session:
        cluster = await _owned(session, principal, cluster_id, lock=True)
        if cluster.state != ClusterState.PLANNED:
            if cluster.state in (ClusterState.STARTING, ClusterState.RUNNING):
                return await _view(session, cluster, now)
            raise Conflict(f"cluster {cluster.id} is {cluster.state}; it cannot start")
        if now > cluster.created_at + START_WITHIN:
            raise Conflict(
                f"cluster {cluster.id} was planned more than {START_WITHIN.days} days ago; prices "
                "and offers have moved: create it again"
            )
        if not cluster.requirement["deadline_fixed"]:
            cluster.deadline_at = now + timedelta(hours=cluster.requirement["deadline_hours"])
        finish = timedelta(hours=float(cluster.plan["exact"]["finish_hours"]))
        if now + finish > cluster.deadline_at:
            raise Conflict(
                f"cluster {cluster.id}'s plan no longer finishes by its deadline "
                f"({cluster.deadline_at:%Y-%m-%d %H:%M} UTC); stop it and create it again to "
                "re-plan"
            )
        members = await repo.members(session, [cluster.id], lock=True)
        await open_sessions(ctx, session, cluster, members, keyring(ctx.settings).box_key, now)
        check_move(cluster.state, ClusterState.STARTING)
        cluster.state, cluster.started_at = ClusterState.STARTING.value, now
        event(cluster, now, f"starting {len(members)} machines")
        await record(
            session,
            now,
            "cluster_state",
            actor=principal.user_id,
            cluster_id=cluster.id,
            previous=ClusterState.PLANNED.value,
            state=cluster.state,
        )
        await outbox.enqueue(session, ADVANCE_JOB, now, {"cluster_id": cluster.id})
        return await _view(session, cluster, now)


async def stop(ctx: JobContext, principal: Principal, cluster_id: int) -> dict[str, Any]:
    """End every member now (billing stops; each machine is destroyed and verified gone); the
    cluster settles once they all are. Stopping twice is harmless."""
    now = ctx.clock.now()
    async with money_transaction(ctx.sessions) as session:
        cluster = await _owned(session, principal, cluster_id, lock=True)
        if ClusterState(cluster.state) in LIVE:
            await begin_end(
                session, ctx, cluster, ClusterEnd.USER, now, "stopped by you", principal.user_id
            )
            await outbox.enqueue(session, ADVANCE_JOB, now, {"cluster_id": cluster.id})
        return await _view(session, cluster, now)


async def get(
    session: AsyncSession, principal: Principal, cluster_id: int, now: datetime
) -> dict[str, Any]:
    return await _view(session, await _owned(session, principal, cluster_id), now)


async def list_mine(
    session: AsyncSession,
    principal: Principal,
    states: list[str] | None,
    before: int | None,
    limit: int,
    now: datetime,
) -> dict[str, Any]:
    rows = await repo.owned(session, principal.owner, states, before, limit + 1)
    page, next_before = keyset_page(rows, limit, lambda row: row.id)
    members = await repo.members(session, [c.id for c in page])
    sessions = await member_sessions(session, members)
    return {
        "items": [
            cluster_view(c, [m for m in members if m.cluster_id == c.id], sessions, now)
            for c in page
        ],
        "next_before": next_before,
    }


async def _view(session: AsyncSession, cluster: Cluster, now: datetime) -> dict[str, Any]:
    members = await repo.members(session, [cluster.id])
    sessions = await member_sessions(session, members)
    return cluster_view(cluster, members, sessions, now)


def cluster_view(
    cluster: Cluster,
    members: list[ClusterMember],
    sessions: dict[int, GpuSession],
    now: datetime,
) -> dict[str, Any]:
    """A cluster as its owner sees it: members, progress, money and what happened."""
    done = works(members, sessions, now)
    each = delivered(done)
    scores = shares(done)
    total = sum(each)
    costs = [
        cost_so_far(gs, now) if (gs := sessions.get(m.session_id or 0)) else 0 for m in members
    ]
    return {
        "id": cluster.id,
        "name": cluster.name,
        "state": cluster.state,
        "requirement": cluster.requirement,
        "deadline_at": cluster.deadline_at,
        "machine_hours_cap": cluster.machine_hours_cap,
        "plan": _stored_plan(cluster.plan["exact"]),
        "progress": {
            "required_pflop_hours": cluster.pflop_hours,
            "delivered_pflop_hours": round(total, 6),
            "share_delivered": round(min(1.0, total / cluster.pflop_hours), 6),
            "machines_running": sum(
                1 for gs in sessions.values() if gs.state == SessionState.RUNNING
            ),
        },
        "money": {
            "estimate": micros_to_usd(cluster.estimate),
            "held": micros_to_usd(cluster.held - cluster.captured if cluster.charge_ids else 0),
            "cost_so_far": micros_to_usd(sum(costs)),
            "captured": micros_to_usd(cluster.captured),
            "owed_to_hosts": micros_to_usd(cluster.host_pool),
        },
        "members": [
            _member_view(m, sessions.get(m.session_id or 0), w, d, s, c)
            for m, w, d, s, c in zip(members, done, each, scores, costs, strict=True)
        ],
        "replans": cluster.replans,
        "excluded_offers": cluster.excluded_offers,
        "image": cluster.image,
        "env_keys": cluster.env_keys,
        "ssh_fingerprint": sshkeys.fingerprint(cluster.ssh_public_key)
        if cluster.ssh_public_key
        else None,
        "events": cluster.events,
        "created_at": cluster.created_at,
        "started_at": cluster.started_at,
        "ending_at": cluster.ending_at,
        "ended_at": cluster.ended_at,
        "end_reason": cluster.end_reason,
        "end_detail": cluster.end_detail,
    }


def _member_view(
    member: ClusterMember,
    gs: GpuSession | None,
    work: Work,
    delivered_pflop_hours: float,
    share: float,
    cost: int,
) -> dict[str, Any]:
    return {
        "id": member.id,
        "round": member.round,
        "state": member.state,
        "offer_id": member.offer_id,
        "provider": member.provider,
        "label": member.label,
        "gpu": member.gpu,
        "gpu_count": member.gpu_count,
        "region": member.region,
        "spot": member.spot,
        "price_per_hour": micros_to_usd(member.price_per_hour),
        "planned_hours": round(member.minutes / 60, 4),
        "pflops": round(member.pflops, 6),
        "session_id": member.session_id,
        "session_state": gs.state if gs is not None else None,
        "running_at": gs.running_at if gs is not None else None,
        "ran_hours": round(work.ran_hours, 4),
        "delivered_pflop_hours": round(delivered_pflop_hours, 6),
        "contribution": round(share, 6),
        "cost_so_far": micros_to_usd(cost),
        "failure": member.failure,
        "host_owned": member.host is not None,
        "reservation_id": member.reservation_id,
        "paid_to_host": None
        if member.host_paid is None
        else micros_to_usd(member.host_paid + (member.host_fee or 0)),
    }

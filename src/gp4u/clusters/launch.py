"""From plans to machines: planning over the offers this server can launch (host machines
included), turning a plan into members (one per planned instance), and opening each member's
session (intent first, with its launch job, paid from the cluster's hold). A host-owned member
first books its machine's time as a reservation of the cluster's."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.accounts import secrets_box
from gp4u.clusters import repository as repo
from gp4u.clusters.models import Cluster, ClusterMember
from gp4u.clusters.planner.market import market_from_records
from gp4u.clusters.planner.planning import Planning, plan
from gp4u.clusters.planner.result import Plan
from gp4u.clusters.requirements import Compute, JobRequirement, Placement
from gp4u.clusters.states import MemberState
from gp4u.hosts import repository as hosts_repo
from gp4u.hosts import service as hosts
from gp4u.jobs.context import JobContext
from gp4u.offers.fields import MEASURED_COLUMNS
from gp4u.offers.models import Offer
from gp4u.providers.hosts.port import host_ref
from gp4u.providers.interface import Capability
from gp4u.providers.registry import ProviderSet
from gp4u.provisioning import billing
from gp4u.provisioning.service import ClusterMachine, LaunchSpec, open_for_cluster
from gp4u.reservations import service as reservation_service
from gp4u.reservations.models import Reservation
from gp4u.settings import Settings
from gp4u.wallet import service as wallet

T = TypeVar("T")
MAX_EVENTS = 100
HOLD_MARGIN = timedelta(days=1)  # the cluster's holds outlive its last possible member by this
# A planned cluster may be started this long after it was planned; then its hold is released.
START_WITHIN = timedelta(days=7)


# Planning is CPU work and the plan endpoint is public: plans run on their own threads, one per
# core, and further requests queue there instead of taking the threads other work runs on.
_PLANNERS = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="plan")


async def on_planner_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run a planning function on the planners' threads."""
    return await asyncio.get_running_loop().run_in_executor(_PLANNERS, fn, *args)


def launchers(providers: ProviderSet) -> dict[tuple[str, str], str]:
    """(source, provider) → the name of the adapter that launches its offers. Host machines'
    offers launch through the adapter that reaches them (`GP4U_HOST_SESSIONS_PROVIDER`), as a
    reservation's session does."""
    names = {
        (a.source, a.provider): a.name
        for a in providers.adapters.values()
        if Capability.LAUNCH in a.capabilities() and a.source != hosts.SOURCE
    }
    reaching = providers.adapters.get(providers.settings.host_sessions_provider)
    if reaching is not None and Capability.LAUNCH in reaching.capabilities():
        names[(hosts.SOURCE, hosts.PROVIDER)] = reaching.name
    return names


def requirement_of(cluster: Cluster, **changes: Any) -> JobRequirement:
    """The cluster's requirement as the planner takes it (`changes` for a re-plan)."""
    r = cluster.requirement
    req = JobRequirement(
        compute=Compute(cluster.pflop_hours, r["precision"], r["described_as"]),
        deadline_hours=r["deadline_hours"],
        min_vram_gb=r["min_vram_gb"],
        budget_micros=cluster.budget,
        spot_allowed=r["spot_allowed"],
        min_reliability=r["min_reliability"],
        placement=Placement(r["placement"]),
        max_machines=r["max_machines"],
        min_gpus_per_machine=r["min_gpus_per_machine"],
        sustained=r["sustained"],
    )
    return req.but(**changes) if changes else req


def _record(offer: Offer, in_use: int) -> dict[str, Any]:
    # Instances this cluster already runs on an offer are not free for it to plan again.
    count = 1 if offer.available_count is None else offer.available_count
    return {
        "id": offer.id,
        "provider": offer.provider,
        "region": offer.region,
        "gpu": offer.gpu,
        "gpu_variant": offer.gpu_variant,
        "gpu_memory_gb": offer.gpu_memory_gb,
        "gpu_count": offer.gpu_count,
        "price_per_hour": offer.price_per_hour,
        "spot": offer.spot,
        "reliability": offer.reliability,
        "available_count": max(0, count - in_use),
        **{column: getattr(offer, column) for column in MEASURED_COLUMNS},
    }


async def plan_launchable(
    session: AsyncSession,
    providers: ProviderSet,
    req: JobRequirement,
    *,
    owner: str,
    in_use: Iterable[int] = (),
    only: tuple[str, str | None] | None = None,
) -> Planning:
    """Plan `req` for `owner` over the offers that can be launched here (never on the owner's
    own host machines). `in_use`: offer ids the cluster already runs (one per instance);
    `only`: (provider, region or None) a re-plan must stay in for the job's placement."""
    found = await repo.launchable_offers(session, list(launchers(providers)))
    own = {m.id for m in await hosts_repo.owned(session, owner, None)}
    found = [o for o in found if _machine_of(o) not in own]
    if only is not None:
        provider, region = only
        found = [
            o for o in found if o.provider == provider and (region is None or o.region == region)
        ]
    used = Counter(in_use)
    market = market_from_records([_record(o, used[o.id]) for o in found], req.compute.precision)
    return await on_planner_thread(plan, market, req)


def _machine_of(offer: Offer) -> int | None:
    return hosts.machine_of_offer(offer.source, offer.provider, offer.offer_ref)


async def members_for(
    session: AsyncSession, cluster: Cluster, chosen: Plan, providers: ProviderSet, round_: int
) -> list[ClusterMember]:
    """One member per planned instance (a host machine's names its owner)."""
    offers = await repo.offers(session, [m.offer_id for m in chosen.members])
    names = launchers(providers)
    owners: dict[int, str] = {}
    for offer in offers.values():
        machine_id = _machine_of(offer)
        if machine_id is not None and (machine := await hosts_repo.get(session, machine_id)):
            owners[offer.id] = machine.owner
    made = []
    for m in chosen.members:
        offer = offers[m.offer_id]
        for _ in range(m.instances):
            made.append(
                ClusterMember(
                    cluster_id=cluster.id,
                    round=round_,
                    state=MemberState.PLANNED.value,
                    offer_id=offer.id,
                    provider=names[(offer.source, offer.provider)],
                    label=m.label[:255],
                    gpu=offer.gpu,
                    gpu_count=offer.gpu_count,
                    region=offer.region,
                    spot=offer.spot,
                    price_per_hour=m.price_micros,
                    minutes=billing.minutes_for(m.hours_each),
                    pflops=m.pflops_each,
                    host=owners.get(offer.id),
                )
            )
    return made


def working_hours(lifetime_hours: float, settings: Settings) -> float:
    """The most a member may be planned to run: its session's lifetime counts from the launch,
    so the time its agent may take to check in is left out."""
    return lifetime_hours - min(lifetime_hours / 2, settings.agent_checkin_timeout_seconds / 3600)


def cost_of(members: Iterable[ClusterMember]) -> int:
    """What members may cost at most: their price for their planned minutes."""
    return sum(billing.cost_of(m.price_per_hour, m.minutes) for m in members)


def hold_ttl(cluster: Cluster, now: datetime) -> timedelta:
    """Long enough for any member: started as late as allowed, running its longest, plus a
    margin (a deadline in hours is set again at the start)."""
    latest_start = max(cluster.created_at + START_WITHIN, now)
    deadline = cluster.deadline_at
    if not cluster.requirement.get("deadline_fixed", False):
        deadline = max(
            deadline, latest_start + timedelta(hours=cluster.requirement["deadline_hours"])
        )
    return deadline - now + timedelta(hours=cluster.machine_hours_cap) + HOLD_MARGIN


async def hold(
    session: AsyncSession, cluster: Cluster, amount: int, what: str, now: datetime
) -> None:
    """Hold `amount` more for the cluster, within its owner's budgets and balance."""
    if amount <= 0:
        return
    charge = await wallet.authorise_spend(
        session,
        cluster.owner,
        cluster.key_prefix,
        amount,
        "cluster",
        f"cluster {cluster.id}: {what}",
        hold_ttl(cluster, now),
        now,
    )
    cluster.charge_ids = [*cluster.charge_ids, charge["id"]]
    cluster.held += amount


def seal_env(env: dict[str, str], key: bytes, cluster_id: int) -> str:
    return secrets_box.encrypt(orjson.dumps(env).decode(), key, f"cluster:{cluster_id}")


def _open_env(cluster: Cluster, key: bytes) -> dict[str, str]:
    if cluster.env_sealed is None:
        return {}
    return dict(orjson.loads(secrets_box.decrypt(cluster.env_sealed, key, f"cluster:{cluster.id}")))


def event(cluster: Cluster, now: datetime, text: str) -> None:
    """Something its owner should read in the cluster's story (the latest MAX_EVENTS)."""
    cluster.events = [*cluster.events, {"at": now.isoformat(), "what": text}][-MAX_EVENTS:]


async def _book_host_time(
    ctx: JobContext,
    session: AsyncSession,
    cluster: Cluster,
    member: ClusterMember,
    machine_id: int,
    now: datetime,
) -> Reservation | None:
    """Book a host-owned member's machine for its planned minutes, the agent's check-in
    allowance and the grace after its paid time, at its planned price; the reservation, or None
    when the machine cannot take it: the member then fails (its offer excluded) and the cluster
    re-plans."""
    s = ctx.settings
    slack = timedelta(seconds=s.agent_checkin_timeout_seconds + s.session_grace_seconds)
    booked = await reservation_service.book_for_cluster(
        ctx,
        session,
        machine_id,
        cluster.owner,
        cluster.key_prefix,
        cluster.id,
        member.price_per_hour,
        now + timedelta(minutes=member.minutes) + slack,
        now,
    )
    if isinstance(booked, str):
        member.state, member.failure = MemberState.FAILED.value, booked
        member.settled_at, member.cost = now, 0
        cluster.excluded_offers = sorted({*cluster.excluded_offers, member.offer_id})
        cluster.pending_replan = True
        event(cluster, now, f"member {member.id} ({member.label}) cannot start: {booked}")
        return None
    member.host, member.reservation_id = booked.host, booked.id
    return booked


async def open_sessions(
    ctx: JobContext,
    session: AsyncSession,
    cluster: Cluster,
    members: Sequence[ClusterMember],
    box_key: bytes,
    now: datetime,
) -> None:
    """A session (and its launch job) for each planned member, in the caller's transaction. A
    host-owned member's machine time is booked first; one that cannot be booked fails at once
    and leaves the cluster to re-plan."""
    offers = await repo.offers(session, [m.offer_id for m in members])
    spec = LaunchSpec(
        offer_id=0,
        hours=0,
        image=cluster.image,
        startup_command=cluster.startup_command,
        env=_open_env(cluster, box_key),
        ssh_public_key=cluster.ssh_public_key,
    )
    for member in members:
        offer = offers[member.offer_id]
        offer_ref, instance_type, booked = offer.offer_ref or "", offer.instance_type, None
        machine_id = _machine_of(offer)
        if machine_id is not None:
            booked = await _book_host_time(ctx, session, cluster, member, machine_id, now)
            if booked is None:
                continue
            offer_ref = instance_type = host_ref(machine_id)
        machine = ClusterMachine(
            cluster_id=cluster.id,
            offer_id=offer.id,
            provider=member.provider,
            offer_ref=offer_ref,
            gpu=member.gpu,
            gpu_count=member.gpu_count,
            instance_type=instance_type,
            region=member.region,
            spot=member.spot,
            price_per_hour=member.price_per_hour,
            minutes=member.minutes,
            reservation_id=booked.id if booked is not None else None,
        )
        hours_cap = max(cluster.machine_hours_cap, member.minutes / 60)
        if booked is not None:  # the machine is the cluster's only until its booked end
            hours_cap = (booked.end_at - now).total_seconds() / 3600
        gs = await open_for_cluster(
            session,
            ctx.settings,
            cluster.owner,
            cluster.key_prefix,
            machine,
            spec,
            hours_cap,
            box_key,
            now,
        )
        member.session_id, member.state = gs.id, MemberState.STARTED.value
        if booked is not None:
            booked.session_id = gs.id

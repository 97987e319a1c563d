"""What renters do with sessions: launch (quote, hold, record, then hand over to the launch job),
list and read them, extend, stop; and the sessions GP4U opens itself, for reservations and
cluster members. Node agents' side is `agents.py`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.accounts.principal import Principal
from gp4u.accounts.service import session_hours_cap
from gp4u.audit.service import record
from gp4u.jobs import outbox
from gp4u.jobs.context import JobContext
from gp4u.kit.errors import Conflict, InvalidInput, NotFound
from gp4u.kit.money import micros_to_usd
from gp4u.kit.paging import keyset_page
from gp4u.kit.tokens import digest, new_token
from gp4u.ledger.repository import money_transaction
from gp4u.providers.hosts.port import host_ref
from gp4u.provisioning import billing, sshkeys
from gp4u.provisioning import repository as repo
from gp4u.provisioning.launcher import attempts_summary, launch_scopes, quote, seal_env
from gp4u.provisioning.lifecycle import DESTROY_JOB, LAUNCH_JOB, cost_so_far, end_session
from gp4u.provisioning.models import GpuSession
from gp4u.provisioning.states import FINAL, EndReason, State, is_live
from gp4u.settings import Settings
from gp4u.wallet import service as wallet

DEFAULT_IMAGE = "nvidia/cuda:12.4.1-runtime-ubuntu22.04"
HOLD_MARGIN = timedelta(days=1)  # holds outlive the session's hard maximum by this much


@dataclass(frozen=True)
class LaunchSpec:
    offer_id: int
    hours: float
    image: str | None = None
    startup_command: str | None = None
    env: dict[str, str] | None = None
    ssh_public_key: str | None = None  # an OpenSSH public key, or "generate"
    max_price_per_hour: int | None = None  # failover may go up to this (default: the quote)


# --- launch ----------------------------------------------------------------------------------


async def create(
    ctx: JobContext, principal: Principal, spec: LaunchSpec, box_key: bytes
) -> dict[str, Any]:
    """Quote from fresh data, hold the estimate, commit the session and its launch job
    together; the provider is called only after that commit (by the job)."""
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        offer = await repo.offer(session, spec.offer_id)
        if offer is None:
            raise NotFound(f"no offer {spec.offer_id}")
        cap_hours = await session_hours_cap(
            session, principal.owner, ctx.settings.session_max_hours
        )
        candidates = await repo.count_matching(
            session,
            gpu=offer.gpu,
            gpu_count=offer.gpu_count,
            spot=offer.spot,
            max_price=max(offer.price_per_hour, spec.max_price_per_hour or 0),
            scopes=launch_scopes(ctx.providers),
        )
    if spec.hours > cap_hours:
        raise InvalidInput(
            f"a session may last at most {cap_hours:g} h (the maximum session lifetime)",
            field="hours",
        )
    q = await quote(ctx.providers, offer)
    price = q.price_per_hour
    max_price = max(price, spec.max_price_per_hour or 0)
    minutes = billing.minutes_for(spec.hours)
    estimate = billing.cost_of(max_price, minutes)
    check_env(spec.env)
    keys = ssh_keys(spec.ssh_public_key)
    token = new_token()
    async with money_transaction(ctx.sessions) as session:
        gs = _intent(
            ctx.settings,
            principal.owner,
            principal.key_prefix,
            spec,
            keys,
            token,
            now,
            offer_id=offer.id,
            provider=q.adapter.name,
            offer_ref=q.current.offer_ref or "",
            gpu=offer.gpu,
            gpu_count=offer.gpu_count,
            instance_type=q.current.instance_type,
            region=offer.region,
            spot=offer.spot,
            price_per_hour=price,
            max_price_per_hour=max_price,
            paid_minutes=minutes,
            env_keys=sorted((spec.env or {}).keys()),
            candidates=max(candidates, 1),
            expires_at=now + timedelta(minutes=minutes),
            hard_deadline=now + timedelta(hours=cap_hours),
        )
        session.add(gs)
        await session.flush()
        gs.env_sealed = seal_env(spec.env or {}, token, box_key, gs.id)
        await _hold(
            session,
            gs,
            principal.key_prefix,
            estimate,
            f"{gs.gpu_count}× {gs.gpu} at {gs.provider}",
            now,
        )
        await record(
            session,
            now,
            "state",
            actor=principal.user_id,
            session_id=gs.id,
            provider=gs.provider,
            state=gs.state,
            offer_id=offer.id,
            price_micros=price,
            minutes=minutes,
            held_micros=estimate,
        )
        await outbox.enqueue(session, LAUNCH_JOB, now, {"session_id": gs.id})
        view = session_view(gs, now, held=estimate)
    if keys and keys[1] is not None:
        view["ssh_private_key"] = keys[1]
    return view


@dataclass(frozen=True)
class ReservedMachine:
    """What a reservation's session runs on: its booked machine, reached through `provider`."""

    reservation_id: int
    offer_id: int
    machine_id: int
    provider: str  # the adapter that reaches host machines
    gpu: str
    gpu_count: int
    region: str | None


async def open_for_reservation(
    session: AsyncSession,
    settings: Settings,
    owner: str,
    key_prefix: str | None,
    machine: ReservedMachine,
    ends_at: datetime,
    spec: LaunchSpec,
    box_key: bytes,
    now: datetime,
) -> GpuSession:
    """The session of a reservation that starts now, in the caller's money transaction, with
    its launch job. The reservation pays (the session holds and charges nothing); it runs until
    the reservation ends, on the booked machine only."""
    keys = ssh_keys(spec.ssh_public_key)
    token = new_token()
    gs = _intent(
        settings,
        owner,
        key_prefix,
        spec,
        keys,
        token,
        now,
        offer_id=machine.offer_id,
        provider=machine.provider,
        offer_ref=host_ref(machine.machine_id),
        gpu=machine.gpu,
        gpu_count=machine.gpu_count,
        instance_type=host_ref(machine.machine_id),
        region=machine.region,
        spot=False,
        price_per_hour=0,
        max_price_per_hour=0,
        paid_minutes=max(1, billing.billable_minutes(now, ends_at)),
        reservation_id=machine.reservation_id,
        expires_at=ends_at,
        hard_deadline=ends_at + timedelta(seconds=settings.session_grace_seconds),
    )
    await _record_intent(
        session, gs, {}, token, box_key, now, reservation_id=machine.reservation_id
    )
    return gs


async def _record_intent(
    session: AsyncSession,
    gs: GpuSession,
    env: dict[str, str],
    token: str,
    box_key: bytes,
    now: datetime,
    **detail: Any,
) -> None:
    """Write a system-made session with its sealed environment, audit and launch job."""
    session.add(gs)
    await session.flush()
    gs.env_sealed = seal_env(env, token, box_key, gs.id)
    await record(
        session,
        now,
        "state",
        actor="system",
        session_id=gs.id,
        provider=gs.provider,
        state=gs.state,
        **detail,
    )
    await outbox.enqueue(session, LAUNCH_JOB, now, {"session_id": gs.id})


def _intent(
    settings: Settings,
    owner: str,
    key_prefix: str | None,
    spec: LaunchSpec,
    keys: tuple[str, str | None] | None,
    token: str,
    now: datetime,
    **where: Any,
) -> GpuSession:
    """A new session row (`provisioning`) for `where` (offer, price, times): the intent that is
    committed before any provider is asked."""
    values: dict[str, Any] = {"env_keys": [], "candidates": 1, **where}
    return GpuSession(
        owner=owner,
        key_prefix=key_prefix,
        state=State.PROVISIONING.value,
        deployment=settings.deployment_id,
        client_token=uuid.uuid4().hex,
        image=spec.image or DEFAULT_IMAGE,
        startup_command=spec.startup_command,
        ssh_public_key=keys[0] if keys else None,
        ssh_fingerprint=sshkeys.fingerprint(keys[0]) if keys else None,
        attempts=[],
        agent_token_digest=digest(token),
        charge_ids=[],
        created_at=now,
        destroy_attempts=0,
        **values,
    )


@dataclass(frozen=True)
class ClusterMachine:
    """A cluster member's machine: one instance of a planned offer, paid from the cluster's
    hold at the planned price, for its planned minutes, with no failover (the cluster re-plans
    instead)."""

    cluster_id: int
    offer_id: int
    provider: str  # the adapter that launches it
    offer_ref: str
    gpu: str
    gpu_count: int
    instance_type: str
    region: str | None
    spot: bool
    price_per_hour: int
    minutes: int
    reservation_id: int | None = None  # a host machine's time, booked by the cluster


async def open_for_cluster(
    session: AsyncSession,
    settings: Settings,
    owner: str,
    key_prefix: str | None,
    machine: ClusterMachine,
    spec: LaunchSpec,
    hours_cap: float,
    box_key: bytes,
    now: datetime,
) -> GpuSession:
    """A cluster member's session, in the caller's money transaction, with its launch job. It
    holds nothing itself: what it costs is captured from the cluster's hold when it ends."""
    token = new_token()
    gs = _intent(
        settings,
        owner,
        key_prefix,
        spec,
        ssh_keys(spec.ssh_public_key),
        token,
        now,
        offer_id=machine.offer_id,
        provider=machine.provider,
        offer_ref=machine.offer_ref,
        gpu=machine.gpu,
        gpu_count=machine.gpu_count,
        instance_type=machine.instance_type,
        region=machine.region,
        spot=machine.spot,
        price_per_hour=machine.price_per_hour,
        max_price_per_hour=machine.price_per_hour,
        paid_minutes=machine.minutes,
        env_keys=sorted((spec.env or {}).keys()),
        cluster_id=machine.cluster_id,
        reservation_id=machine.reservation_id,
        expires_at=now + timedelta(minutes=machine.minutes),
        hard_deadline=now + timedelta(hours=hours_cap),
    )
    await _record_intent(
        session,
        gs,
        spec.env or {},
        token,
        box_key,
        now,
        cluster_id=machine.cluster_id,
        offer_id=machine.offer_id,
    )
    return gs


async def retime_for_reservation(
    session: AsyncSession, settings: Settings, session_id: int, ends_at: datetime, now: datetime
) -> None:
    """A reservation was extended: its session runs until the new end."""
    gs = await repo.get(session, session_id, lock=True)
    if gs is None or not is_live(gs.state):
        return
    gs.expires_at = ends_at
    gs.hard_deadline = ends_at + timedelta(seconds=settings.session_grace_seconds)
    start = gs.running_at or gs.created_at
    gs.paid_minutes = max(1, billing.billable_minutes(start, ends_at))
    await record(
        session,
        now,
        "extended",
        session_id=gs.id,
        provider=gs.provider,
        ends_at=ends_at.isoformat(),
    )


async def _hold(
    session: AsyncSession,
    gs: GpuSession,
    key_prefix: str | None,
    amount: int,
    what: str,
    now: datetime,
) -> None:
    """Hold `amount` for the session on its owner's wallet, within their budgets; the hold
    outlives the session's hard maximum. A free machine (the local provider) needs none."""
    if amount <= 0:
        return
    charge = await wallet.authorise_spend(
        session,
        gs.owner,
        key_prefix,
        amount,
        "session",
        f"session {gs.id}: {what}",
        gs.hard_deadline - now + HOLD_MARGIN,
        now,
    )
    gs.charge_ids = [*gs.charge_ids, charge["id"]]


def check_env(env: dict[str, str] | None) -> None:
    """The agent's own variables cannot be set by the user."""
    reserved = sorted(k for k in env or {} if k.upper().startswith("GP4U_AGENT_"))
    if reserved:
        raise InvalidInput(
            f"env names starting with GP4U_AGENT_ are reserved: {reserved}", field="env"
        )


def ssh_keys(value: str | None, comment: str = "gp4u-session") -> tuple[str, str | None] | None:
    """(public key, private key shown once or None) from an OpenSSH public key or "generate",
    or None without SSH."""
    if value is None:
        return None
    if value.strip().lower() == "generate":
        pair = sshkeys.generate(comment)
        return pair.public, pair.private
    return sshkeys.check_public(value), None


# --- reading ---------------------------------------------------------------------------------


async def owned(session: AsyncSession, principal: Principal, session_id: int) -> GpuSession:
    gs = await repo.get(session, session_id)
    if gs is None or gs.owner != principal.owner:
        raise NotFound(f"no session {session_id}")
    return gs


async def get(
    session: AsyncSession, principal: Principal, session_id: int, now: datetime
) -> dict[str, Any]:
    return session_view(await owned(session, principal, session_id), now)


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
    return {"items": [session_view(r, now) for r in page], "next_before": next_before}


def session_view(gs: GpuSession, now: datetime, *, held: int | None = None) -> dict[str, Any]:
    """A session as its owner sees it: never the agent token, env values or private key."""
    cost = cost_so_far(gs, now)
    connection = None
    if gs.ssh_host and State(gs.state) in (State.STARTING, State.RUNNING):
        connection = {
            "host": gs.ssh_host,
            "port": gs.ssh_port,
            "user": gs.ssh_user,
            "command": f"ssh -p {gs.ssh_port} {gs.ssh_user}@{gs.ssh_host}",
        }
    return {
        "id": gs.id,
        "state": gs.state,
        "offer_id": gs.offer_id,
        "provider": gs.provider,
        "gpu": gs.gpu,
        "gpu_count": gs.gpu_count,
        "instance_type": gs.instance_type,
        "region": gs.region,
        "spot": gs.spot,
        "price_per_hour": micros_to_usd(gs.price_per_hour),
        "max_price_per_hour": micros_to_usd(gs.max_price_per_hour),
        "paid_hours": round(gs.paid_minutes / 60, 4),
        "image": gs.image,
        "env_keys": gs.env_keys,
        "ssh_fingerprint": gs.ssh_fingerprint,
        "connection": connection,
        "instance_id": gs.instance_id,
        "attempts": [
            {
                **{k: v for k, v in a.items() if k != "price_per_hour"},
                "price_per_hour": micros_to_usd(a["price_per_hour"])
                if a.get("price_per_hour")
                else None,
            }
            for a in gs.attempts
        ],
        "launch_summary": attempts_summary(gs) if gs.attempts else None,
        "agent": {
            "registered_at": gs.agent_registered_at,
            "last_heartbeat_at": gs.last_heartbeat_at,
            "facts": gs.agent_facts,
        },
        "created_at": gs.created_at,
        "running_at": gs.running_at,
        "expires_at": gs.expires_at,
        "hard_deadline": gs.hard_deadline,
        "ending_at": gs.ending_at,
        "destroyed_at": gs.destroy_confirmed_at,
        "end_reason": gs.end_reason,
        "end_detail": gs.end_detail,
        "cost_so_far": micros_to_usd(cost),
        "held": micros_to_usd(held) if held is not None else None,
        "needs_attention": gs.needs_attention,
    }


# --- changing --------------------------------------------------------------------------------


async def stop(ctx: JobContext, principal: Principal, session_id: int) -> dict[str, Any]:
    """End the session now: billing stops, the machine is destroyed and verified gone."""
    now = ctx.clock.now()
    async with money_transaction(ctx.sessions) as session:
        gs = await owned(session, principal, session_id)
        gs = await repo.get(session, gs.id, lock=True) or gs
        if State(gs.state) in FINAL or gs.state == State.ENDING:
            return session_view(gs, now)
        await end_session(
            session,
            gs,
            EndReason.USER,
            now,
            fee_basis_points=ctx.settings.platform_fee_bps,
            actor=principal.user_id,
        )
        await outbox.enqueue(session, DESTROY_JOB, now, {"session_id": gs.id})
        return session_view(gs, now)


async def extend(
    ctx: JobContext, principal: Principal, session_id: int, hours: float
) -> dict[str, Any]:
    """Pay for more time: one more hold for the added minutes, never past the hard maximum."""
    now = ctx.clock.now()
    async with money_transaction(ctx.sessions) as session:
        gs = await owned(session, principal, session_id)
        gs = await repo.get(session, gs.id, lock=True) or gs
        if not is_live(gs.state):
            raise Conflict(f"session {gs.id} is {gs.state}; only a live session can be extended")
        if gs.cluster_id is not None:
            raise Conflict(
                f"session {gs.id} is a member of cluster {gs.cluster_id}, which paid for its "
                "planned time; the cluster re-plans when more is needed"
            )
        if gs.reservation_id is not None:
            raise Conflict(
                f"session {gs.id} runs reservation {gs.reservation_id}: extend the reservation"
            )
        added = billing.minutes_for(hours)
        start = gs.running_at or now
        new_expiry = start + timedelta(minutes=gs.paid_minutes + added)
        if new_expiry > gs.hard_deadline:
            room = max(0.0, (gs.hard_deadline - start).total_seconds() / 60 - gs.paid_minutes)
            raise InvalidInput(
                f"session {gs.id} can be extended by at most {room / 60:.2f} h: it must end by "
                f"{gs.hard_deadline:%Y-%m-%d %H:%M} UTC (the maximum session lifetime)",
                field="hours",
            )
        amount = billing.cost_of(gs.max_price_per_hour, added)
        await _hold(session, gs, principal.key_prefix, amount, f"extension of {added} min", now)
        gs.paid_minutes += added
        if gs.running_at is not None:
            gs.expires_at = new_expiry
        else:
            gs.expires_at = gs.created_at + timedelta(minutes=gs.paid_minutes)
        gs.warned_at = None
        await record(
            session,
            now,
            "extended",
            actor=principal.user_id,
            session_id=gs.id,
            provider=gs.provider,
            minutes=added,
            held_micros=amount,
            expires_at=gs.expires_at.isoformat(),
        )
        return session_view(gs, now, held=amount)

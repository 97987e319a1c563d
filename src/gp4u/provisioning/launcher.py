"""Launching a session's machine: quote an offer from fresh provider data, then ask the
provider, intent first. Each attempt is written (with a lease) before the provider is called,
the instance id is recorded the moment it is known, and a launch that fails for capacity moves
to the next best matching offer, never dearer than the price the user agreed to. Launches are
idempotent per attempt (the provider sees one client token and one tag per attempt), and an
attempt cut off before its outcome was written (a crash) is left to reconciliation, never
followed by another, so a job delivered twice never makes a second machine."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u import __version__
from gp4u.accounts import secrets_box
from gp4u.audit.service import record
from gp4u.db.engine import unit_of_work
from gp4u.jobs.context import JobContext
from gp4u.kit.errors import AppError, Conflict, ServiceUnavailable
from gp4u.kit.failpoints import failpoint
from gp4u.kit.money import format_usd
from gp4u.offers.models import Offer
from gp4u.providers.base import (
    BreakerOpen,
    NoCapacity,
    NotSupported,
    ProviderAuthError,
    ProviderError,
    ProviderOffer,
    ProviderRejected,
)
from gp4u.providers.interface import Capability, Instance, LaunchRequest, ProviderAdapter, Tags
from gp4u.providers.registry import ProviderSet
from gp4u.provisioning import metrics
from gp4u.provisioning import repository as repo
from gp4u.provisioning.lifecycle import destroy_step, end_by_id
from gp4u.provisioning.models import GpuSession
from gp4u.provisioning.states import EndReason, State

LEASE = timedelta(minutes=10)  # a launch attempt in flight is left alone this long
AGENT_BOOTSTRAP = (
    "(command -v gp4u >/dev/null 2>&1 || pip install --quiet 'gp4u=={version}') && "
    "(nohup gp4u agent run >/var/log/gp4u-agent.log 2>&1 &)"
)
_OUTCOME_WORDS = {
    "no_capacity": "no capacity",
    "rejected": "refused",
    "unknown": "no clear answer (any machine it made is destroyed)",
    "price_rose": "price now above what you agreed",
    "unavailable": "not available",
    "provider_down": "provider failing right now (not asked)",
}


def _down(gs: GpuSession) -> set[str]:
    return {a["provider"] for a in gs.attempts if a.get("outcome") == "provider_down"}


# --- which provider, at what price ----------------------------------------------------------


def launchable(providers: ProviderSet, source: str, provider: str) -> ProviderAdapter:
    """The adapter that launches offers of this (source, provider), or Conflict saying why none
    can."""
    if source == "host":
        raise Conflict(
            "host machines are booked by time, not launched on demand: book one with "
            "POST /api/v1/reservations (gp4u book)"
        )
    for adapter in providers.adapters.values():
        if adapter.source == source and adapter.provider == provider:
            reason = adapter.capabilities().reason(Capability.LAUNCH)
            if reason is None:
                return adapter
            raise Conflict(f"offers from {provider} cannot be launched here: {reason}")
    if source in ("simulated", "catalog"):
        raise Conflict(
            f"this offer comes from the {source} market, which is for comparing prices; it "
            "cannot be launched (search for live offers: source=live)"
        )
    raise Conflict(f"provider {provider} is not configured on this server, so it cannot launch")


def launch_scopes(providers: ProviderSet, skip: Collection[str] = ()) -> list[tuple[str, str]]:
    """(source, provider) of every adapter that can launch (but those named in `skip`)."""
    return [
        (a.source, a.provider)
        for a in providers.adapters.values()
        if Capability.LAUNCH in a.capabilities() and a.name not in skip
    ]


@dataclass(frozen=True)
class Quote:
    adapter: ProviderAdapter
    offer: Offer
    current: ProviderOffer

    @property
    def price_per_hour(self) -> int:
        return self.current.price_per_hour


async def quote(providers: ProviderSet, offer: Offer) -> Quote:
    """The offer's price as its provider states it now: through the offer cache, which answers
    only within the hard staleness limit (else it fetches, and a failure is a 503 here)."""
    adapter = launchable(providers, offer.source, offer.provider)
    if not offer.available:
        raise Conflict(f"offer {offer.id} is not available now")
    try:
        current = await providers.current_offers(adapter.name)
    except ProviderError as exc:
        raise ServiceUnavailable(
            f"{offer.provider} cannot be reached to confirm the price of offer {offer.id} "
            f"({exc.message}); try again shortly"
        ) from exc
    match = next(
        (
            o
            for o in current.report.offers
            if o.offer_ref == offer.offer_ref and o.spot == offer.spot and o.available
        ),
        None,
    )
    if match is None:
        raise Conflict(f"offer {offer.id} is no longer available at {offer.provider}")
    return Quote(adapter, offer, match)


def reserved_quote(ctx: JobContext, gs: GpuSession, offer: Offer) -> Quote:
    """A session on a host machine's booked time (a reservation's, or a cluster member's):
    already paid for, started through the adapter that reaches host machines
    (`GP4U_HOST_SESSIONS_PROVIDER`), on the booked machine."""
    adapter = ctx.providers.adapters.get(gs.provider)
    reason = (
        "it is not configured on this server"
        if adapter is None
        else adapter.capabilities().reason(Capability.LAUNCH)
    )
    if adapter is None or reason is not None:
        raise Conflict(f"{gs.provider} cannot start sessions on host machines: {reason}")
    current = ProviderOffer(
        provider=adapter.provider,
        instance_type=gs.instance_type,
        gpu_name=gs.gpu,
        gpu_count=gs.gpu_count,
        price_per_hour=gs.price_per_hour,  # 0 for a reservation's; a cluster's pays its price
        region=gs.region,
        offer_ref=gs.offer_ref,
    )
    return Quote(adapter, offer, current)


# --- the launch job --------------------------------------------------------------------------


def seal_env(env: dict[str, str], agent_token: str, key: bytes, session_id: int) -> str:
    body = orjson.dumps({"env": env, "agent_token": agent_token}).decode()
    return secrets_box.encrypt(body, key, f"session:{session_id}")


def _open_env(gs: GpuSession, key: bytes) -> tuple[dict[str, str], str]:
    if gs.env_sealed is None:
        raise ValueError(f"session {gs.id} has no sealed environment")
    body = orjson.loads(secrets_box.decrypt(gs.env_sealed, key, f"session:{gs.id}"))
    return dict(body["env"]), str(body["agent_token"])


def _agent_deadline(ctx: JobContext, gs: GpuSession) -> datetime:
    """The deadline the machine enforces by itself. A reservation may be extended while it
    runs, so its machine gets the longest a reservation may last and learns the real deadline
    from each heartbeat answer (the agent keeps the earlier of the two). A cluster's member
    (even on a host machine's booked time) has its own hard deadline."""
    if gs.reservation_id is None or gs.cluster_id is not None:
        return gs.hard_deadline
    return gs.created_at + timedelta(days=ctx.settings.reservation_max_days + 1)


def _request(ctx: JobContext, gs: GpuSession, q: Quote, attempt: int, key: bytes) -> LaunchRequest:
    env, token = _open_env(gs, key)
    s = ctx.settings
    agent_env = {
        "GP4U_AGENT_BROKER": s.broker_url,
        "GP4U_AGENT_TOKEN": token,
        "GP4U_AGENT_HARD_DEADLINE": _agent_deadline(ctx, gs).isoformat(),
        "GP4U_AGENT_HEARTBEAT_SECONDS": f"{s.agent_heartbeat_seconds:g}",
        "GP4U_AGENT_BROKER_TIMEOUT_SECONDS": f"{s.agent_broker_timeout_seconds:g}",
    }
    command = gs.startup_command
    if q.adapter.agent_in_workload:
        agent_env |= {"GP4U_AGENT_ON_SHUTDOWN": "exit", "GP4U_AGENT_STATUS_PORT": "0"}
    else:
        bootstrap = AGENT_BOOTSTRAP.format(version=__version__)
        command = f"{bootstrap}\n{command}" if command else bootstrap
    return LaunchRequest(
        offer_ref=q.current.offer_ref or "",
        client_token=f"{gs.client_token}-{attempt}",
        tags=Tags(
            gs.deployment,
            str(gs.id),
            gs.owner,
            cluster=None if gs.cluster_id is None else str(gs.cluster_id),
        ),
        instance_type=q.current.instance_type,
        region=q.current.region,
        gpu_count=q.current.gpu_count,
        spot=q.current.spot,
        image=gs.image,
        startup_command=command,
        env=env | agent_env,
        ssh_public_key=gs.ssh_public_key,
    )


async def _next_offer(ctx: JobContext, gs: GpuSession) -> Offer | None:
    tried = [a["offer_id"] for a in gs.attempts]
    async with ctx.sessions() as session:
        if not tried:
            return await repo.offer(session, gs.offer_id)
        if gs.reservation_id is not None or gs.cluster_id is not None:
            # A reservation runs on the machine it booked, or not at all; a cluster re-plans.
            return None
        found = await repo.matching_offers(
            session,
            gpu=gs.gpu,
            gpu_count=gs.gpu_count,
            spot=gs.spot,
            max_price=gs.max_price_per_hour,
            # A provider failing fast (breaker open) is not asked again in this launch.
            scopes=launch_scopes(ctx.providers, skip=_down(gs)),
            exclude=tried,
            limit=1,
        )
    return found[0] if found else None


async def _find_tagged(adapter: ProviderAdapter, gs: GpuSession) -> Instance | None:
    """After an unclear answer to a create: did the provider make the machine after all?"""
    try:
        tagged = await adapter.list_tagged(gs.deployment)
    except ProviderError:
        return None
    return next((i for i in tagged if i.tags is not None and i.tags.session == str(gs.id)), None)


async def launch(ctx: JobContext, session_id: int, key: bytes) -> str:
    """Launch the session's machine, failing over across matching offers. Returns the state."""
    for _ in range(ctx.settings.launch_max_attempts + 1):
        async with ctx.sessions() as session:
            gs = await repo.get(session, session_id)
        if gs is None or gs.state != State.PROVISIONING:
            return gs.state if gs is not None else "missing"
        if gs.instance_id is not None:
            return await _started(ctx, session_id)
        if _cut_off(gs):
            return gs.state
        if len(gs.attempts) >= ctx.settings.launch_max_attempts:
            break
        offer = await _next_offer(ctx, gs)
        if offer is None:
            break
        state = await _attempt(ctx, gs, offer, key)
        if state is not None:
            return state
    return await _give_up(ctx, session_id)


def _cut_off(gs: GpuSession) -> bool:
    """Whether an attempt's outcome was never written (its launch died, or is still at work):
    it may have made a machine, so no other offer is tried. Reconciliation adopts that machine,
    or ends the session when none turns up, once the attempt's lease is over."""
    return any(a["outcome"] == "pending" for a in gs.attempts)


async def _attempt(ctx: JobContext, gs: GpuSession, offer: Offer, key: bytes) -> str | None:
    """One attempt on one offer; the state when it launched, None to try the next offer."""
    n = len(gs.attempts) + 1
    attempt: dict[str, Any] = {
        "n": n,
        "offer_id": offer.id,
        "provider": offer.provider,
        "gpu": f"{offer.gpu_count}× {offer.gpu}",
        "at": ctx.clock.now().isoformat(),
    }
    try:
        q = (
            reserved_quote(ctx, gs, offer)
            if gs.reservation_id
            else await quote(ctx.providers, offer)
        )
    except AppError as exc:
        await _record_attempt(
            ctx, gs.id, {**attempt, "outcome": "unavailable", "reason": exc.detail}
        )
        return None
    attempt |= {"provider": q.adapter.name, "price_per_hour": q.price_per_hour}
    if q.price_per_hour > gs.max_price_per_hour:
        await _record_attempt(ctx, gs.id, {**attempt, "outcome": "price_rose"})
        return None
    if not await _record_attempt(ctx, gs.id, {**attempt, "outcome": "pending"}, lease=True):
        return None
    instance, outcome, reason = None, "ok", None
    try:
        instance = await q.adapter.launch(_request(ctx, gs, q, n, key))
    except NoCapacity as exc:
        outcome, reason = "no_capacity", exc.message
    except (ProviderRejected, ProviderAuthError, NotSupported) as exc:
        outcome, reason = "rejected", exc.message
    except BreakerOpen as exc:  # never sent: certainly no machine
        outcome, reason = "provider_down", exc.message
    except ProviderError as exc:
        instance = await _find_tagged(q.adapter, gs)
        if instance is None:
            outcome, reason = "unknown", exc.message
    metrics.LAUNCH_ATTEMPTS.labels(q.adapter.name, outcome).inc()
    if instance is None:
        await _record_attempt(ctx, gs.id, {**attempt, "outcome": outcome, "reason": reason})
        return None
    failpoint("after_provider_create")
    return await _record_instance(ctx, gs.id, {**attempt, "outcome": "ok"}, q, instance)


async def _record_attempt(
    ctx: JobContext, session_id: int, attempt: dict[str, Any], *, lease: bool = False
) -> bool:
    """Write (or update) an attempt. False when the session stopped provisioning meanwhile, or,
    for a new attempt (`lease`), when another launch of it has an attempt at work."""
    now = ctx.clock.now()
    async with unit_of_work(ctx.sessions) as session:
        gs = await repo.get(session, session_id, lock=True)
        if gs is None or gs.state != State.PROVISIONING or (lease and _cut_off(gs)):
            return False
        _put_attempt(gs, attempt)
        gs.launch_lease_until = now + LEASE if lease else None
        await record(
            session,
            now,
            "launch_attempt",
            session_id=gs.id,
            provider=attempt["provider"],
            outcome=attempt["outcome"],
            offer_id=attempt["offer_id"],
            attempt=attempt["n"],
            reason=attempt.get("reason"),
        )
        return True


def _put_attempt(gs: GpuSession, attempt: dict[str, Any]) -> None:
    # A new list: JSON columns do not see changes made in place.
    others = [a for a in gs.attempts if a["n"] != attempt["n"]]
    gs.attempts = sorted([*others, attempt], key=lambda a: a["n"])


async def _record_instance(
    ctx: JobContext, session_id: int, attempt: dict[str, Any], q: Quote, instance: Instance
) -> str:
    now = ctx.clock.now()
    async with unit_of_work(ctx.sessions) as session:
        gs = await repo.get(session, session_id, lock=True)
        if gs is None:
            return "missing"
        await adopt(session, gs, q.adapter.name, instance, now, attempt=attempt)
        gs.offer_id, gs.offer_ref = q.offer.id, q.current.offer_ref or gs.offer_ref
        gs.price_per_hour = min(q.price_per_hour, gs.max_price_per_hour)
        gs.instance_type = q.current.instance_type
        return gs.state


async def adopt(
    session: AsyncSession,
    gs: GpuSession,
    provider: str,
    instance: Instance,
    now: datetime,
    *,
    attempt: dict[str, Any] | None = None,
    actor: str = "system",
) -> None:
    """Record the machine a launch made (also when reconciliation finds one a crash left
    unrecorded). A session that ended meanwhile keeps ending: its destroyer now knows the id."""
    if attempt is not None:
        _put_attempt(gs, attempt)
    gs.instance_id, gs.provider, gs.launched_at = instance.instance_id, provider, now
    gs.region = instance.region or gs.region
    gs.ssh_host = instance.ssh_host or instance.public_ip
    if gs.ssh_host:
        gs.ssh_port, gs.ssh_user = instance.ssh_port or 22, instance.ssh_user or "root"
    gs.launch_lease_until, gs.last_seen_at = None, now
    if gs.state == State.PROVISIONING:
        gs.state = State.STARTING.value
    await record(
        session,
        now,
        "provisioned",
        actor=actor,
        session_id=gs.id,
        provider=provider,
        instance_id=instance.instance_id,
        state=gs.state,
        provider_status=instance.provider_status,
    )


async def _started(ctx: JobContext, session_id: int) -> str:
    async with unit_of_work(ctx.sessions) as session:
        gs = await repo.get(session, session_id, lock=True)
        if gs is not None and gs.state == State.PROVISIONING and gs.instance_id:
            gs.state = State.STARTING.value
        return gs.state if gs is not None else "missing"


def attempts_summary(gs: GpuSession) -> str:
    """ "tried 3 of 12 offers: #1 vastai 1× RTX4090 $0.35/h: no capacity; …" """
    parts = []
    for a in gs.attempts:
        price = f" {format_usd(a['price_per_hour'])}/h" if a.get("price_per_hour") else ""
        word = _OUTCOME_WORDS.get(a["outcome"], a["outcome"])
        reason = f" ({a['reason']})" if a.get("reason") else ""
        parts.append(f"#{a['n']} {a['provider']} {a['gpu']}{price}: {word}{reason}")
    return f"tried {len(gs.attempts)} of {max(gs.candidates, len(gs.attempts))} offers: " + (
        "; ".join(parts) or "none could be quoted"
    )


async def _give_up(ctx: JobContext, session_id: int) -> str:
    async with ctx.sessions() as session:
        gs = await repo.get(session, session_id)
    if gs is None:
        return "missing"
    await end_by_id(ctx, session_id, EndReason.LAUNCH_FAILED, detail=attempts_summary(gs))
    return await destroy_step(ctx, session_id)

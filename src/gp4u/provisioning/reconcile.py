"""Reconciliation: compare, per provider account, the instances carrying our deployment tag
with the sessions in the database, and repair the difference.

- Orphans (tagged with our deployment, but unknown, ended or failed here, or a second machine
  for one session) are terminated and logged; the next cycle checks they are gone.
- Ghosts (live here, gone at the provider, confirmed by a status call) are ended; billing stops
  when we last saw the machine alive.
- A provider that cannot be listed leaves its sessions "unknown" for the cycle: nothing about
  them is decided from silence.
- Instances without our deployment tag are never looked at, even in the same account.

A tagged instance of a session that has no instance recorded (its launch died between the
provider's create and our commit; its agent may even have checked in since) is adopted: the
session records it, and a session still billing takes the price quoted for the attempt that made
it. On startup the same pass runs before new sessions are accepted, and also resolves sessions a
crash left `provisioning` without waiting for their launch lease: adopted if a tagged instance
exists, ended (then verified) if not.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.audit.service import record
from gp4u.db.engine import unit_of_work
from gp4u.jobs.context import JobContext
from gp4u.kit.logging import get_logger
from gp4u.providers.base import ProviderError
from gp4u.providers.interface import Capability, Instance, InstanceState, ProviderAdapter
from gp4u.provisioning import metrics
from gp4u.provisioning import repository as repo
from gp4u.provisioning.launcher import adopt
from gp4u.provisioning.lifecycle import MAY_HAVE_CREATED, end_by_id
from gp4u.provisioning.models import GpuSession
from gp4u.provisioning.states import EndReason, State

log = get_logger(__name__)

WATCHED = (State.PROVISIONING, State.STARTING, State.RUNNING, State.ENDING)


async def _listing(adapter: ProviderAdapter, deployment: str) -> list[Instance] | ProviderError:
    try:
        return await adapter.list_tagged(deployment)
    except ProviderError as exc:
        return exc


def _session_of(instance: Instance) -> int | None:
    tag = instance.tags.session if instance.tags is not None else ""
    return int(tag) if tag.isdigit() else None


async def reconcile(ctx: JobContext, *, startup: bool = False) -> dict[str, Any]:
    """One reconciliation pass over every provider that can launch."""
    now = ctx.clock.now()
    deployment = ctx.settings.deployment_id
    adapters = [a for a in ctx.providers.adapters.values() if Capability.LAUNCH in a.capabilities()]
    listings = await asyncio.gather(*(_listing(a, deployment) for a in adapters))
    known: dict[str, list[Instance]] = {}
    report: dict[str, Any] = {"unknown": [], "orphans": 0, "ghosts": 0, "adopted": 0}
    for adapter, listing in zip(adapters, listings, strict=True):
        if isinstance(listing, ProviderError):
            report["unknown"].append(adapter.name)
            metrics.RECONCILE_UNKNOWN.labels(adapter.name).inc()
            log.warning("reconcile: provider not listed", provider=adapter.name, error=str(listing))
            continue
        known[adapter.name] = listing
    async with ctx.sessions() as session:
        ids = {
            sid for found in known.values() for i in found if (sid := _session_of(i)) is not None
        }
        rows = await repo.by_ids(session, ids)
        watched = await repo.in_states(session, WATCHED)
    rows |= {gs.id: gs for gs in watched}
    orphans: list[tuple[ProviderAdapter, Instance, str]] = []
    tagged_for: dict[int, list[tuple[str, Instance]]] = defaultdict(list)
    for name, found in known.items():
        for instance in found:
            sid = _session_of(instance)
            gs = rows.get(sid) if sid is not None else None
            verdict = _verdict(gs, name, instance, now, startup)
            if verdict == "orphan":
                orphans.append((ctx.providers.get(name), instance, _why(gs)))
            elif gs is not None and verdict != "in_flight":
                tagged_for[gs.id].append((name, instance))
    report["orphans"] = await _destroy_orphans(ctx, orphans)
    seen = await _update_seen(ctx, tagged_for, now)
    report["adopted"] = seen["adopted"]
    report["ghosts"] = await _ghosts(ctx, watched, known, tagged_for)
    report["interrupted"] = await _interrupted(ctx, watched, known, tagged_for, now, startup)
    return report


def _verdict(
    gs: GpuSession | None, provider: str, instance: Instance, now: datetime, startup: bool
) -> str:
    if gs is None or gs.state in (State.TERMINATED, State.FAILED):
        return "orphan"
    if gs.state == State.PROVISIONING and gs.instance_id is None:
        return "adopt" if _lease_over(gs, now, startup) else "in_flight"
    if gs.instance_id is not None and (
        gs.instance_id != instance.instance_id or gs.provider != provider
    ):
        return "orphan"  # a second machine for one session (an unclear create, then failover)
    return "ours"


def _lease_over(gs: GpuSession, now: datetime, startup: bool) -> bool:
    return startup or gs.launch_lease_until is None or gs.launch_lease_until <= now


def _why(gs: GpuSession | None) -> str:
    if gs is None:
        return "no such session"
    if gs.instance_id is not None:
        return f"session {gs.id} runs on {gs.provider}:{gs.instance_id}, not this machine"
    return f"session {gs.id} is {gs.state}"


async def _destroy_orphans(
    ctx: JobContext, orphans: list[tuple[ProviderAdapter, Instance, str]]
) -> int:
    for adapter, instance, why in orphans:
        metrics.ORPHANS_FOUND.labels(adapter.name).inc()
        outcome, error = "ok", None
        try:
            await adapter.terminate(instance.instance_id)
            metrics.ORPHANS_DESTROYED.labels(adapter.name).inc()
        except ProviderError as exc:
            outcome, error = "failed", str(exc)
        log.warning(
            "reconcile: orphan instance terminated",
            provider=adapter.name,
            instance_id=instance.instance_id,
            why=why,
            outcome=outcome,
        )
        async with unit_of_work(ctx.sessions) as session:
            await record(
                session,
                ctx.clock.now(),
                "orphan_destroyed",
                session_id=_session_of(instance),
                provider=adapter.name,
                instance_id=instance.instance_id,
                outcome=outcome,
                why=why,
                error=error,
                provider_status=instance.provider_status,
            )
    return len(orphans)


async def _update_seen(
    ctx: JobContext, tagged_for: dict[int, list[tuple[str, Instance]]], now: datetime
) -> dict[str, int]:
    adopted = 0
    if not tagged_for:
        return {"adopted": 0}
    async with unit_of_work(ctx.sessions) as session:
        for session_id, found in tagged_for.items():
            gs = await repo.get(session, session_id, lock=True)
            if gs is None:
                continue
            name, instance = found[0]
            if gs.instance_id is None:  # made by a launch that died before recording it
                attempt = _maker(gs, name)
                await adopt(session, gs, name, instance, now, attempt=attempt, actor="reconcile")
                if attempt is not None and gs.state != State.ENDING:
                    await _bill_as_attempted(session, gs, attempt)
                adopted += 1
            elif gs.state in (State.STARTING, State.RUNNING):
                gs.last_seen_at = now
            if gs.state == State.ENDING:
                gs.next_destroy_at = now  # still there: the destroyer goes again now
    return {"adopted": adopted}


def _maker(gs: GpuSession, provider: str) -> dict[str, Any] | None:
    """The attempt that made the machine found at `provider` (its latest there whose answer left
    a machine possible), marked ok."""
    attempt = next(
        (
            a
            for a in reversed(gs.attempts)
            if a["provider"] == provider and a.get("outcome") in MAY_HAVE_CREATED
        ),
        None,
    )
    return {**attempt, "outcome": "ok"} if attempt is not None else None


async def _bill_as_attempted(
    session: AsyncSession, gs: GpuSession, attempt: dict[str, Any]
) -> None:
    """A session still billing runs on its machine's offer, at the price quoted for that attempt
    (never above the agreed maximum), as a launch that recorded the machine would have set."""
    gs.offer_id = attempt["offer_id"]
    if attempt.get("price_per_hour"):
        gs.price_per_hour = min(int(attempt["price_per_hour"]), gs.max_price_per_hour)
    offer = await repo.offer(session, gs.offer_id)
    if offer is not None:
        gs.offer_ref, gs.instance_type = offer.offer_ref or gs.offer_ref, offer.instance_type


async def _ghosts(
    ctx: JobContext,
    watched: list[GpuSession],
    known: dict[str, list[Instance]],
    tagged_for: dict[int, list[tuple[str, Instance]]],
) -> int:
    """Live sessions whose instance is missing from a successful listing, confirmed gone by a
    status call (a listing may lag a create)."""
    suspects = [
        gs
        for gs in watched
        if gs.state in (State.STARTING, State.RUNNING)
        and gs.instance_id is not None
        and gs.provider in known
        and gs.id not in tagged_for
    ]
    ghosts = 0
    for gs in suspects:
        try:
            [status] = await ctx.providers.get(gs.provider).status([gs.instance_id or ""])
        except (ProviderError, LookupError, ValueError):
            continue
        if status.state is not InstanceState.TERMINATED:
            continue
        metrics.GHOSTS_FOUND.labels(gs.provider).inc()
        ghosts += 1
        last_alive = gs.last_seen_at or gs.running_at or gs.created_at
        await end_by_id(
            ctx,
            gs.id,
            EndReason.GHOST,
            actor="reconcile",
            billing_end=last_alive,
            detail=f"{gs.provider} reports the instance {status.provider_status}",
        )
    return ghosts


async def _interrupted(
    ctx: JobContext,
    watched: list[GpuSession],
    known: dict[str, list[Instance]],
    tagged_for: dict[int, list[tuple[str, Instance]]],
    now: datetime,
    startup: bool,
) -> int:
    """Sessions left provisioning (no launch at work on them) with no machine anywhere: end
    them, and the destroyer verifies nothing is left."""
    ended = 0
    for gs in watched:
        if (
            gs.state != State.PROVISIONING
            or gs.id in tagged_for
            or not _lease_over(gs, now, startup)
        ):
            continue
        asked = {a["provider"] for a in gs.attempts if a.get("outcome") in MAY_HAVE_CREATED}
        if not asked <= set(known):
            continue  # a provider it may have reached could not be listed: decide next cycle
        if not gs.attempts:
            continue  # its launch job (committed with it) has not run yet, and will
        if await end_by_id(
            ctx, gs.id, EndReason.INTERRUPTED, actor="reconcile", detail="no machine was found"
        ):
            ended += 1
    return ended

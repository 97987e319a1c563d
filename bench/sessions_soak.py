"""Sessions soak benchmark: many GPU sessions through their whole lifecycle (quote and hold,
launch, agent check-in, heartbeats, an ending, verified destruction, reconciliation) against the
fake Vast.ai, with random provider faults, then the invariants and the money checked.

Mechanics. One `FrozenClock` is shared by GP4U (`open_context(settings, clock)`) and the fake
(`FakeState(clock=...)`), which is served in-process on a real local port; the Vast adapter runs
without its real-time request pacing (the soak simulates hours). The database is a fresh SQLite
file (default) or the PostgreSQL database named by `--database-url`, which is wiped and migrated.
Sessions run in waves of `--wave`, one after the other, each on distinct offers: the market is
synced from the fake (`sources.sync_provider`, as its schedule would), the sessions are created
over the wave's first five minutes (`service.create`, then the launch job), and time moves in
lifecycle steps (`lifecycle_seconds`). Each step the benchmark plays every node agent (it reads
the agent token from the fake instance's env, then calls `agent_register` / `agent_heartbeat`
every `agent_heartbeat_seconds` / `agent_done`) and the renter (`stop`), then runs
`sessions.reconcile` every `reconcile_seconds`, `sessions.lifecycle` and every due outbox job,
until every session of the wave is final. After the last wave, with faults cleared, a few
reconciliation cycles more. Everything is seeded (`--seed`): a run is repeatable, and SQLite and
PostgreSQL see the same sessions and faults.

Endings (seeded, per session): the user stops it; the workload reports done; the paid time
expires; the agent falls silent (heartbeat lost); the owner's own lifetime cap ends it (hard
max: a second user whose `max_session_hours` is 0.25); the agent never checks in.
Faults (seeded, per wave; `faults_injected` counts the create faults per session, the others
per episode): lying creates (the instance is made, the answer is 500); lying creates whose
machine the listing does not show yet (labels missing while it launches: the launch gives up and
reconciliation must reap the machines); destroys failing N times; a lying destroy for a while;
instance listings failing for some minutes; the provider unreachable (every call fails) for some
minutes. Episodes may overlap the launches: failed listings and outages open the provider's
circuit breaker, and launches then fail (`launch_failed`).

Reported:
- `leaked_instances` (must be 0): instances at the fake carrying our deployment tag and still
  running at the end; `ghosts` (must be 0): sessions live in the DB (starting or running) whose
  instance the fake no longer runs, checked after every step;
- destruction: time from `ending_at` to `destroy_confirmed_at` (simulated seconds), the failed
  destroy attempts (`destroy_retries`), sessions flagged for attention (and still flagged at the
  end: must be 0), orphan machines reconciliation destroyed;
- cost accuracy: what GP4U captured (`cost`: every started minute from agent check-in to the
  end of billing, at the quoted price) against what the fake billed for the instances tagged for
  that session (every whole second from create to actual termination, at the offer's price).
  They differ by design, and `explained_usd` splits the difference: boot time before check-in
  (billed by the provider, never charged: the user had no machine yet); time after billing ends
  until the machine is confirmed gone (grace after expiry, the heartbeat timeout after the last
  heartbeat, destroy retries: the broker's cost, not the user's); machines never charged at all
  (no check-in, failed launches, orphans of unclear creates); the per-minute rounding up of
  GP4U's charge (negative: the user pays more than the per-second bill); any difference between
  the charged and the billed hourly price. What remains (`residual_usd`) is the fake's rounding
  down to whole seconds and micro-dollars;
- `ledger_audit` (must be empty) and money still held (must be 0), and that the wallets paid
  exactly the sum of the session costs.

    python bench/sessions_soak.py [--sessions 1000] [--wave 50] [--seed 7]
                                  [--database-url postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from pydantic import SecretStr
from sqlalchemy import func, select, text

from common import bench_settings, emit
from gp4u.accounts.keyring import keyring
from gp4u.accounts.models import User
from gp4u.accounts.principal import RENTER, Principal, local_principal, scopes_of
from gp4u.audit.models import AuditEvent
from gp4u.db.engine import create_engine, unit_of_work
from gp4u.db.migrate import upgrade
from gp4u.fakes import kit, vastai
from gp4u.fakes.kit import FakeState, Faults, RunningFake
from gp4u.jobs.context import JobContext
from gp4u.jobs.execute import run_job
from gp4u.jobs.models import OutboxJob
from gp4u.kit.clock import FrozenClock
from gp4u.kit.errors import AppError, NotAuthenticated
from gp4u.kit.logging import configure_logging
from gp4u.ledger import service as ledger
from gp4u.ledger.repository import money_transaction
from gp4u.offers.models import Offer
from gp4u.providers import registry
from gp4u.providers.gateway import CallPolicy
from gp4u.providers.vastai.adapter import VastaiAdapter
from gp4u.provisioning import service
from gp4u.provisioning.models import GpuSession
from gp4u.provisioning.states import FINAL, State
from gp4u.settings import Settings
from gp4u.worker.context import open_context
from gp4u.worker.inprocess import run_due_jobs

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
DEPLOYMENT = "soak"
LABEL_PREFIX = f"gp4u-{DEPLOYMENT}-"
MICROS = 1_000_000
DEPOSIT = 1_000_000 * MICROS  # per owner: far more than a thousand sessions can hold
CAPPED_USER = "soakcapped"
CAP_HOURS = 0.25  # the capped user's own maximum session lifetime
BOOT_SECONDS = 45.0  # the fake's boot time (instances show "loading" until then)
WAVE_LIMIT = timedelta(hours=6)  # a wave still unsettled after this is reported stuck
CREATE_SPREAD = 300.0  # a wave's sessions are created over its first five minutes
SETTLE_CYCLES = 3  # reconciliation cycles after the last wave, with faults cleared
# Planned ending → weight.
ENDINGS = {
    "user_stop": 30,
    "agent_done": 22,
    "heartbeat_loss": 14,
    "expiry": 12,
    "hard_max": 12,
    "no_checkin": 10,
}
ACTING = ("user_stop", "agent_done", "heartbeat_loss")  # endings the agent or user acts out


class FastVastai(VastaiAdapter):
    """Vast.ai without its real-time request pacing and long backoffs: the soak runs hours of
    simulated time in minutes (as the session tests do)."""

    call_policy: ClassVar[CallPolicy] = dataclasses.replace(
        VastaiAdapter.call_policy, rate=None, backoff_seconds=0.01, attempts=2
    )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the world -------------------------------------------------------------------------------


@dataclass
class Plan:
    """One session as the benchmark means to play it."""

    ending: str
    offer_id: int
    hours: float
    create_at: float  # seconds into the wave
    checkin_after: float  # seconds from the instance's create to the agent's check-in
    act_after: float  # seconds of running before the user stops / the agent ends or falls silent
    lying_create: bool = False
    lost_create: bool = False  # lying create whose machine the listing does not show yet
    session_id: int | None = None
    secret: str | None = None
    running_at: datetime | None = None
    last_beat: datetime | None = None
    acted: bool = False
    agent_gone: bool = False


@dataclass
class Soak:
    """The run: GP4U's job context, the clock it shares with the fake, the sessions of the
    current wave, and what was seen along the way."""

    ctx: JobContext
    clock: FrozenClock
    fake: FakeState
    rng: random.Random
    box_key: bytes
    owners: dict[str, Principal]
    plans: list[Plan] = field(default_factory=list)
    next_reconcile: datetime | None = None
    ghosts: set[int] = field(default_factory=set)
    create_refused: Counter[str] = field(default_factory=Counter)
    refusals: list[str] = field(default_factory=list)
    faults_injected: Counter[str] = field(default_factory=Counter)
    stuck: list[dict[str, Any]] = field(default_factory=list)
    steps: int = 0
    wall_started: float = field(default_factory=time.perf_counter)

    def now(self) -> datetime:
        return self.clock.now()

    def set_faults(self, **changes: Any) -> None:
        """Merge fault switches into the fake's, as `POST /_fake/faults` does."""
        self.fake.faults = Faults.model_validate({**self.fake.faults.model_dump(), **changes})


def settings_for(url: str, data_dir: Path, fake_url: str) -> Settings:
    return bench_settings(
        url,
        data_dir,
        providers="vastai",
        vastai_url=fake_url,
        vastai_api_key=SecretStr("test-key"),
        public_url="http://broker.soak",
        deployment_id=DEPLOYMENT,
        agent_heartbeat_seconds=60.0,
    )


async def prepare_database(url: str | None, workdir: Path) -> str:
    """A fresh SQLite file, or the PostgreSQL database wiped; then migrated."""
    if url is None:
        url = f"sqlite+aiosqlite:///{workdir / 'gp4u.sqlite3'}"
    elif url.startswith("postgresql"):
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    await upgrade(url)
    return url


async def open_owners(ctx: JobContext) -> dict[str, Principal]:
    """The local user and a renter with a short lifetime cap of their own, both funded."""
    now = ctx.clock.now()
    async with unit_of_work(ctx.sessions) as session:
        session.add(
            User(
                id=CAPPED_USER,
                email=f"{CAPPED_USER}@gp4u.invalid",
                password_hash=None,
                display_name="soak (capped)",
                roles=RENTER,
                is_active=True,
                created_at=now,
                token_version=0,
                max_session_hours=CAP_HOURS,
            )
        )
    capped = Principal(CAPPED_USER, frozenset({RENTER}), scopes_of(frozenset({RENTER})), "token")
    owners = {"local": local_principal(), CAPPED_USER: capped}
    for principal in owners.values():
        async with money_transaction(ctx.sessions) as session:
            await ledger.deposit(session, principal.owner, DEPOSIT, now)
    return owners


# --- scheduling ------------------------------------------------------------------------------


async def drain(ctx: JobContext) -> None:
    """Run every due outbox job (and those they enqueue), as the in-process runner would."""
    await run_due_jobs(ctx, rounds=10_000)


async def step(soak: Soak, rows: dict[int, GpuSession]) -> None:
    """One lifecycle interval: agents and renters act, reconciliation when due, the lifecycle
    manager, then the due outbox jobs."""
    soak.clock.advance(timedelta(seconds=soak.ctx.settings.lifecycle_seconds))
    soak.steps += 1
    for plan in soak.plans:
        if plan.session_id is not None and plan.session_id in rows:
            await play(soak, plan, rows[plan.session_id])
    await drain(soak.ctx)
    if soak.next_reconcile is None or soak.now() >= soak.next_reconcile:
        await run_job(soak.ctx, "sessions.reconcile")
        soak.next_reconcile = soak.now() + timedelta(seconds=soak.ctx.settings.reconcile_seconds)
    await run_job(soak.ctx, "sessions.lifecycle")
    await drain(soak.ctx)
    await check_ghosts(soak)


async def session_rows(soak: Soak, ids: list[int]) -> dict[int, GpuSession]:
    async with soak.ctx.sessions() as session:
        found = await session.scalars(select(GpuSession).where(GpuSession.id.in_(ids)))
        return {gs.id: gs for gs in found}


async def check_ghosts(soak: Soak) -> None:
    """Sessions live here whose instance the fake no longer runs."""
    live = (State.STARTING.value, State.RUNNING.value)
    async with soak.ctx.sessions() as session:
        rows = await session.execute(
            select(GpuSession.id, GpuSession.instance_id).where(GpuSession.state.in_(live))
        )
        found = rows.all()
    now = soak.fake.now()
    for session_id, instance_id in found:
        instance = soak.fake.instances.get(instance_id or "")
        if instance is None or instance.state(now) == "terminated":
            soak.ghosts.add(session_id)


# --- the renter and the agent ----------------------------------------------------------------


async def play(soak: Soak, plan: Plan, gs: GpuSession) -> None:
    """What this session's agent (and its renter) do at this moment."""
    if plan.agent_gone:
        return
    if State(gs.state) in FINAL or (gs.state == State.ENDING and plan.secret is None):
        plan.agent_gone = True
        return
    now = soak.now()
    if plan.secret is None:
        await check_in(soak, plan, gs, now)
        return
    assert plan.running_at is not None and plan.last_beat is not None
    if plan.ending in ACTING and not plan.acted and now >= plan.running_at + secs(plan.act_after):
        plan.acted = True
        if plan.ending == "user_stop":
            await service.stop(soak.ctx, soak.owners[gs.owner], gs.id)
        elif plan.ending == "agent_done":
            await service.agent_done(soak.ctx, plan.secret, 0, "workload finished")
            plan.agent_gone = True
            return
        else:  # heartbeat_loss: the machine is cut off from GP4U
            plan.agent_gone = True
            return
    if now - plan.last_beat >= secs(soak.ctx.settings.agent_heartbeat_seconds):
        answer = await service.agent_heartbeat(soak.ctx, plan.secret, {"gpu_util": 97})
        plan.last_beat = now
        if answer["action"] == "shutdown":
            plan.agent_gone = True


async def check_in(soak: Soak, plan: Plan, gs: GpuSession, now: datetime) -> None:
    if plan.ending == "no_checkin" or gs.instance_id is None:
        return
    instance = soak.fake.instances.get(gs.instance_id)
    if instance is None:
        return
    booted = datetime.fromtimestamp(instance.created, UTC)
    if now < booted + secs(plan.checkin_after):
        return
    token = str(instance.attrs["env"]["GP4U_AGENT_TOKEN"])
    try:
        answer = await service.agent_register(soak.ctx, token, {"gpus": gs.gpu_count})
    except NotAuthenticated:  # the session ended before its machine came up
        plan.agent_gone = True
        return
    plan.secret = str(answer["agent_secret"])
    plan.running_at = plan.last_beat = now


def secs(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


# --- a wave ----------------------------------------------------------------------------------


async def sync_market(soak: Soak) -> list[int]:
    """Sync the fake's offers into the market; the launchable on-demand offer ids."""
    outcome = await run_job(soak.ctx, "sources.sync_provider", {"provider": "vastai"})
    if outcome["status"] != "ok":
        raise RuntimeError(f"market sync failed: {outcome}")
    async with soak.ctx.sessions() as session:
        ids = await session.scalars(
            select(Offer.id)
            .where(
                Offer.provider == "vastai",
                Offer.spot.is_(False),
                Offer.available.is_(True),
            )
            .order_by(Offer.id)
        )
        return list(ids)


def plan_wave(rng: random.Random, size: int, offer_ids: list[int]) -> list[Plan]:
    """Distinct offers, and a seeded ending and timing for each session."""
    if len(offer_ids) < size:
        raise RuntimeError(f"only {len(offer_ids)} launchable offers for a wave of {size}")
    lying = rng.random() < 0.5  # this wave has lying creates
    plans = []
    for offer_id in rng.sample(offer_ids, size):
        ending = rng.choices(list(ENDINGS), list(ENDINGS.values()))[0]
        plan = Plan(
            ending=ending,
            offer_id=offer_id,
            hours=CAP_HOURS if ending in ("expiry", "hard_max") else 1.0,
            create_at=rng.uniform(0, CREATE_SPREAD),
            checkin_after=rng.uniform(20, 150),
            act_after=rng.uniform(120, 1200),
        )
        if lying and rng.random() < 0.3:
            plan.lying_create = True
            plan.lost_create = rng.random() < 0.2
        plans.append(plan)
    return plans


def fault_schedule(rng: random.Random) -> list[tuple[float, str, dict[str, Any]]]:
    """(seconds into the wave, fault name, switches): HTTP failure episodes one after another
    (they share the fake's `operations` filter), and a lying destroy window on its own."""
    events: list[tuple[float, str, dict[str, Any]]] = []
    at = rng.uniform(0, 600)  # it may begin while the wave is still launching
    episodes = ["destroy_failures", "list_errors", "outage"]
    rng.shuffle(episodes)
    for name in episodes:
        if rng.random() >= 0.45:
            continue
        length = rng.uniform(60, 480)
        if name == "destroy_failures":
            start = {"fail_next": rng.randint(2, 12), "operations": ["destroy"]}
        elif name == "list_errors":
            start = {"fail_all": True, "operations": ["list"]}
        else:
            start = {"fail_all": True, "operations": []}
        events.append((at, name, start))
        events.append((at + length, "", {"fail_next": 0, "fail_all": False, "operations": []}))
        at += length + rng.uniform(60, 300)
    if rng.random() < 0.4:
        at = rng.uniform(180, 1200)
        events.append((at, "lying_destroy", {"lying_destroy": True}))
        events.append((at + rng.uniform(60, 480), "", {"lying_destroy": False}))
    return sorted(events, key=lambda e: e[0])


async def create_due(soak: Soak, waiting: list[Plan], start: datetime) -> None:
    """Create the sessions whose time has come (dropping them from `waiting`, which is in
    order) and run each one's launch job, with that session's create faults."""
    while waiting and soak.now() >= start + secs(waiting[0].create_at):
        plan = waiting.pop(0)
        owner = soak.owners[CAPPED_USER if plan.ending == "hard_max" else "local"]
        spec = service.LaunchSpec(offer_id=plan.offer_id, hours=plan.hours)
        try:
            view = await service.create(soak.ctx, owner, spec, soak.box_key)
        except AppError as exc:
            soak.create_refused[type(exc).__name__] += 1
            soak.refusals.append(f"{type(exc).__name__}: {exc.detail}")
            continue
        plan.session_id = int(view["id"])
        soak.plans.append(plan)
        if plan.lying_create:
            kind = "lost_create" if plan.lost_create else "lying_create"
            soak.faults_injected[f"{kind}_sessions"] += 1
            soak.set_faults(lying_create=True, missing_fields=["label"] if plan.lost_create else [])
        try:
            await drain(soak.ctx)
        finally:
            soak.set_faults(lying_create=False, missing_fields=[])


async def run_wave(soak: Soak, index: int, size: int) -> None:
    """Sync the market, then create the wave's sessions over its first minutes and play them
    (and its faults) step by step until every one is final."""
    plans = plan_wave(soak.rng, size, await sync_market(soak))
    waiting = sorted(plans, key=lambda p: p.create_at)
    events = fault_schedule(soak.rng)
    started = soak.now()
    while True:
        apply_due(soak, events, started)
        await create_due(soak, waiting, started)
        ids = [p.session_id for p in plans if p.session_id is not None]
        rows = await session_rows(soak, ids)
        if not events and not waiting and all(State(gs.state) in FINAL for gs in rows.values()):
            break
        if soak.now() - started > WAVE_LIMIT:
            soak.stuck += [
                {"session": gs.id, "state": gs.state, "last_error": gs.last_error}
                for gs in rows.values()
                if State(gs.state) not in FINAL
            ]
            soak.set_faults(**Faults().model_dump())
            break
        await step(soak, rows)
    soak.plans = []
    minutes = (soak.now() - started).total_seconds() / 60
    wall = time.perf_counter() - soak.wall_started
    log(f"wave {index + 1}: {len(ids)} sessions, {minutes:.0f} simulated min, {wall:.0f} s wall")


def apply_due(soak: Soak, events: list[tuple[float, str, dict[str, Any]]], start: datetime) -> None:
    """Switch the faults whose time has come (and drop them from `events`)."""
    while events and soak.now() >= start + secs(events[0][0]):
        _, name, switches = events.pop(0)
        if name:
            soak.faults_injected[f"{name}_episodes"] += 1
        soak.set_faults(**switches)


async def settle(soak: Soak) -> None:
    """Faults cleared: a few more reconciliation cycles (lifecycle steps in between)."""
    soak.set_faults(**Faults().model_dump())
    soak.next_reconcile = None
    end = soak.now() + secs(SETTLE_CYCLES * soak.ctx.settings.reconcile_seconds)
    while soak.now() < end:
        await step(soak, {})


# --- measuring -------------------------------------------------------------------------------


def usd(micros: float) -> float:
    return round(micros / MICROS, 6)


def summary(values: list[float], digits: int = 2) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return {
        "n": len(ordered),
        "mean": round(statistics.fmean(ordered), digits),
        "p95": round(p95, digits),
        "max": round(ordered[-1], digits),
    }


async def all_sessions(ctx: JobContext) -> list[GpuSession]:
    async with ctx.sessions() as session:
        return list((await session.scalars(select(GpuSession).order_by(GpuSession.id))).all())


def lifecycle_report(rows: list[GpuSession], attention_after: int) -> dict[str, Any]:
    destroy_seconds = [
        (gs.destroy_confirmed_at - gs.ending_at).total_seconds()
        for gs in rows
        if gs.destroy_confirmed_at is not None and gs.ending_at is not None
    ]
    times = summary(destroy_seconds)
    return {
        "sessions_by_state": dict(Counter(gs.state for gs in rows)),
        "sessions_ended_by_reason": dict(Counter(gs.end_reason or "-" for gs in rows)),
        "mean_time_to_destroy_s": times.get("mean"),
        "p95_time_to_destroy_s": times.get("p95"),
        "max_time_to_destroy_s": times.get("max"),
        "destroy_retries": sum(gs.destroy_attempts for gs in rows),
        "flagged_for_attention": sum(gs.destroy_attempts >= attention_after for gs in rows),
        "needs_attention": sum(bool(gs.needs_attention) for gs in rows),
    }


def cost_report(rows: list[GpuSession], fake: FakeState) -> dict[str, Any]:
    """Captured (GP4U) against billed (the fake), per session, with the difference explained."""
    now = fake.now()
    by_session: dict[str, list[kit.FakeInstance]] = defaultdict(list)
    for instance in fake.instances.values():
        by_session[instance.label() or ""].append(instance)
    parts: dict[str, float] = defaultdict(float)
    diffs, pcts = [], []
    captured_total = billed_total = mismatches = 0
    for gs in rows:
        captured = gs.cost or 0
        machines = by_session.get(f"{LABEL_PREFIX}{gs.id}", [])
        billed = sum(i.billed_micros(now) for i in machines)
        captured_total += captured
        billed_total += billed
        diffs.append(abs(billed - captured) / MICROS)
        if billed:
            pcts.append(abs(billed - captured) / billed * 100)
        for instance in machines:
            explain(parts, gs, instance, now)
        if any(i.id == gs.instance_id and i.price_per_hour != gs.price_per_hour for i in machines):
            mismatches += 1
    difference = billed_total - captured_total
    explained = {k: usd(v) for k, v in sorted(parts.items())}
    return {
        "sessions_compared": len(rows),
        "captured_usd": usd(captured_total),
        "billed_usd": usd(billed_total),
        "billed_minus_captured_usd": usd(difference),
        "abs_diff_per_session_usd": summary(diffs, 6),
        "abs_diff_per_session_pct": summary(pcts, 3),
        "explained_usd": explained,
        "residual_usd": usd(difference - sum(parts.values())),
        "price_mismatches": mismatches,
    }


def explain(
    parts: dict[str, float], gs: GpuSession, instance: kit.FakeInstance, now: float
) -> None:
    """Split what one instance was billed beyond what its session captured, in micro-USD."""
    price = instance.price_per_hour
    end = instance.terminated if instance.terminated is not None else now

    def cost(start: float, stop: float) -> float:
        return price * max(0.0, stop - start) / 3600

    charged = instance.id == gs.instance_id and gs.running_at is not None
    if not charged or gs.billing_end is None or gs.running_at is None:
        parts["machines_never_charged"] += cost(instance.created, end)
        return
    start, stop = gs.running_at.timestamp(), gs.billing_end.timestamp()
    parts["boot_before_checkin"] += cost(instance.created, start)
    parts["after_billing_end"] += cost(stop, end)
    exact = gs.price_per_hour * (stop - start) / 3600
    parts["per_minute_rounding"] -= (gs.cost or 0) - exact
    parts["price_difference"] += cost(start, stop) - exact


async def ledger_report(ctx: JobContext, owners: list[str], captured: int) -> dict[str, Any]:
    async with ctx.sessions() as session:
        problems = await ledger.audit(session)
        balances = {owner: await ledger.balance(session, owner) for owner in owners}
    paid = sum(DEPOSIT - b["posted"] for b in balances.values())
    return {
        "ledger_audit": problems[:20],
        "wallet_held_usd": usd(sum(b["pending"] for b in balances.values())),
        "wallet_paid_usd": usd(paid),
        "wallet_paid_equals_captured": paid == captured,
    }


async def extra_counts(ctx: JobContext) -> dict[str, Any]:
    async with ctx.sessions() as session:
        orphans = await session.scalar(
            select(func.count(func.distinct(AuditEvent.instance_id))).where(
                AuditEvent.action == "orphan_destroyed", AuditEvent.outcome == "ok"
            )
        )
        jobs = await session.execute(
            select(OutboxJob.job, OutboxJob.status, func.count()).group_by(
                OutboxJob.job, OutboxJob.status
            )
        )
        outbox_counts = {f"{job}:{status}": int(n) for job, status, n in jobs.all()}
    return {"orphans_destroyed": int(orphans or 0), "outbox_jobs": outbox_counts}


def leaked(fake: FakeState) -> list[str]:
    return [i.id for i in fake.live_instances() if (i.label() or "").startswith(LABEL_PREFIX)]


# --- the run ---------------------------------------------------------------------------------


async def soak_run(
    args: argparse.Namespace, clock: FrozenClock, server: RunningFake, workdir: Path
) -> dict[str, Any]:
    url = await prepare_database(args.database_url, workdir)
    settings = settings_for(url, workdir / "data", server.url)
    ctx = open_context(settings, clock)
    try:
        soak = Soak(
            ctx,
            clock,
            server.state,
            random.Random(args.seed),
            keyring(settings).box_key,
            await open_owners(ctx),
        )
        for index in range(-(-args.sessions // args.wave)):
            await run_wave(soak, index, min(args.wave, args.sessions - index * args.wave))
        await settle(soak)
        wall = time.perf_counter() - soak.wall_started
        return {
            "benchmark": "sessions_soak",
            "database": "postgresql" if url.startswith("postgresql") else "sqlite",
            "seed": args.seed,
            "wave": args.wave,
            "settings": {
                "lifecycle_seconds": settings.lifecycle_seconds,
                "reconcile_seconds": settings.reconcile_seconds,
                "agent_heartbeat_seconds": settings.agent_heartbeat_seconds,
                "agent_heartbeat_timeout_seconds": settings.agent_heartbeat_timeout_seconds,
                "destroy_attention_after": settings.destroy_attention_after,
                "capped_user_max_session_hours": CAP_HOURS,
            },
            **await measure(soak, wall),
        }
    finally:
        await ctx.aclose()
        await ctx.engine.dispose()


async def measure(soak: Soak, wall: float) -> dict[str, Any]:
    """Every figure of the report, once every session is final."""
    rows = await all_sessions(soak.ctx)
    left = leaked(soak.fake)
    await check_ghosts(soak)
    captured = sum(gs.cost or 0 for gs in rows)
    return {
        "sessions": len(rows),
        "create_refused": dict(soak.create_refused),
        "create_refused_sample": soak.refusals[:5],
        "faults_injected": dict(sorted(soak.faults_injected.items())),
        "leaked_instances": len(left),
        "leaked_sample": left[:10],
        "ghosts": len(soak.ghosts),
        "ghost_sample": sorted(soak.ghosts)[:10],
        "stuck_sessions": soak.stuck[:10],
        **lifecycle_report(rows, soak.ctx.settings.destroy_attention_after),
        **await extra_counts(soak.ctx),
        "cost": cost_report(rows, soak.fake),
        **await ledger_report(soak.ctx, list(soak.owners), captured),
        "provider_requests": len(soak.fake.requests),
        "instances_created": len(soak.fake.instances),
        "simulated_hours": round((soak.now() - T0).total_seconds() / 3600, 2),
        "lifecycle_steps": soak.steps,
        "wall_seconds": round(wall, 1),
        "sessions_per_second": round(len(rows) / wall, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--wave", type=int, default=50, help="sessions launched together")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database-url",
        default=None,
        help="postgresql+asyncpg://… (wiped); default: a fresh SQLite file in a temp dir",
    )
    args = parser.parse_args()
    configure_logging("console", "CRITICAL")
    registry.BUILTIN["vastai"] = f"{__name__}:FastVastai"
    clock = FrozenClock(T0)
    state = FakeState(
        api_key="test-key", boot_seconds=BOOT_SECONDS, clock=lambda: clock.now().timestamp()
    )
    state.offers = vastai.generate_offers(max(300, 4 * args.wave), args.seed)
    with (
        tempfile.TemporaryDirectory(prefix="gp4u-soak-") as workdir,
        kit.running(vastai.create_app(state)) as server,
    ):
        emit(asyncio.run(soak_run(args, clock, server, Path(workdir))))


if __name__ == "__main__":
    main()

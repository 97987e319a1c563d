"""Host machines: owners list, change and retire them, block time and read their calendars;
the host agent proves a machine exists (one-time token, then a secret) and keeps it online;
listed machines are published to the market as offers (`source: host`, `provider: gp4u`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.accounts.principal import Principal
from gp4u.audit.service import record
from gp4u.catalog.normalise import normalise_gpu
from gp4u.hosts import availability as cal
from gp4u.hosts import gpucheck, runs
from gp4u.hosts import repository as repo
from gp4u.hosts.measured import measured_tflops, throughput_view
from gp4u.hosts.models import HostMachine, MachineBlock
from gp4u.hosts.reliability import WINDOW, reliability, uptime
from gp4u.jobs import outbox
from gp4u.kit.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from gp4u.kit.money import micros_to_usd
from gp4u.kit.tokens import digest, new_token
from gp4u.ledger import service as ledger
from gp4u.offers import service as market
from gp4u.providers.base import ParseReport, ProviderOffer
from gp4u.providers.hosts.port import host_ref
from gp4u.settings import Settings
from gp4u.wallet import repository as wallet_repo
from gp4u.wallet import service as wallet

PUBLISH_JOB = "hosts.publish"
# A machine as the booking path reads it (a plain row) or as the rest of the code does.
Machine = HostMachine | repo.BookableMachine
SOURCE, PROVIDER = "host", "gp4u"
STATUSES = ("listed", "paused", "retired")


@dataclass(frozen=True)
class MachineSpec:
    """What an owner states about a machine (prices in micro-USD per hour, whole machine)."""

    name: str
    gpu_name: str
    gpu_count: int
    price_per_hour: int
    gpu_memory_gb: float | None = None
    vcpus: float | None = None
    memory_gb: float | None = None
    disk_gb: float | None = None
    inet_down_mbps: float | None = None
    inet_up_mbps: float | None = None
    region: str | None = None
    country: str | None = None
    min_hours: float = 1.0
    timezone: str = "UTC"
    windows: list[dict[str, Any]] | None = None


SPEC_FIELDS = frozenset(f.name for f in fields(MachineSpec))


def _terms(machine: HostMachine, spec: dict[str, Any]) -> None:
    """Apply stated terms to a machine, normalising the GPU and checking hours and zone."""
    for name, value in spec.items():
        if name in ("gpu_name", "min_hours", "windows", "timezone"):
            continue
        setattr(machine, name, value)
    if "timezone" in spec:
        try:
            machine.timezone = cal.check_tz(spec["timezone"])
        except ValueError as exc:
            raise InvalidInput(str(exc), field="timezone") from None
    if "windows" in spec:
        try:
            windows = cal.parse_windows(spec["windows"] or [])
        except ValueError as exc:
            raise InvalidInput(str(exc), field="windows") from None
        machine.windows = [_window_json(w) for w in windows]
    if "min_hours" in spec:
        machine.min_minutes = max(1, round(spec["min_hours"] * 60))
    if "gpu_name" in spec or "gpu_memory_gb" in spec or "gpu_count" in spec:
        raw = spec.get("gpu_name", machine.gpu_raw_name)
        gpu = normalise_gpu(raw, spec.get("gpu_memory_gb", machine.gpu_memory_gb))
        if not gpu.known:
            raise InvalidInput(f"unknown GPU {raw!r}: name a GPU model", field="gpu_name")
        machine.gpu, machine.gpu_variant = gpu.gpu, gpu.variant
        machine.gpu_memory_gb, machine.gpu_raw_name = float(gpu.memory_gb), raw[:128]
        if machine.agent_facts is not None:
            _check_gpus(machine)
    if machine.country:
        machine.country = machine.country.upper()


def _window_json(window: cal.WeeklyWindow) -> dict[str, Any]:
    def hhmm(minute: int) -> str:
        return f"{minute // 60:02d}:{minute % 60:02d}"

    return {
        "day": cal.DAYS[window.day],
        "start": hhmm(window.start_minute),
        "end": hhmm(window.end_minute),
    }


def windows_of(machine: Machine) -> list[cal.WeeklyWindow]:
    return cal.parse_windows(machine.windows)


def _check_gpus(machine: HostMachine) -> None:
    machine.gpu_check, machine.gpu_check_detail = gpucheck.check(
        machine.agent_facts, machine.gpu, machine.gpu_count, machine.gpu_memory_gb
    )


# --- owners ----------------------------------------------------------------------------------


async def register(
    session: AsyncSession, principal: Principal, spec: MachineSpec, now: datetime
) -> dict[str, Any]:
    """List a machine. The answer carries the one-time agent token (shown once): the machine
    is bookable once `gp4u agent host --token …` runs on it."""
    token = new_token()
    machine = HostMachine(
        owner=principal.owner,
        status="listed",
        gpu="",
        gpu_raw_name="",
        gpu_count=spec.gpu_count,
        price_per_hour=spec.price_per_hour,
        min_minutes=60,
        timezone="UTC",
        windows=[],
        agent_token_digest=digest(token),
        rentals_completed=0,
        rentals_failed=0,
        created_at=now,
        updated_at=now,
        name=spec.name,
    )
    stated = {f: getattr(spec, f) for f in SPEC_FIELDS}
    stated["windows"] = spec.windows or []
    _terms(machine, stated)
    session.add(machine)
    await session.flush()
    await record(session, now, "machine_listed", actor=principal.user_id, machine_id=machine.id)
    await _publish_soon(session, now)
    return {**machine_view(machine, now, None), "agent_token": token}


async def owned_machine(
    session: AsyncSession, principal: Principal, machine_id: int, *, lock: str | None = None
) -> HostMachine:
    machine = await repo.get(session, machine_id, lock=lock)
    if machine is None or machine.owner != principal.owner:
        raise NotFound(f"no machine {machine_id}")
    return machine


async def update(
    session: AsyncSession,
    principal: Principal,
    machine_id: int,
    changes: dict[str, Any],
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    """Change a machine's terms or status. New terms apply to new bookings; existing ones keep
    their price. Retiring is refused while bookings are upcoming."""
    machine = await owned_machine(session, principal, machine_id, lock="update")
    if machine.status == "retired":
        raise Conflict(f"machine {machine_id} is retired")
    status = changes.pop("status", None)
    unknown = set(changes) - SPEC_FIELDS
    if unknown:
        raise InvalidInput(f"unknown fields: {sorted(unknown)}", field=sorted(unknown)[0])
    _terms(machine, changes)
    if status is not None and status != machine.status:
        if status not in STATUSES:
            raise InvalidInput(f"status is one of {', '.join(STATUSES)}", field="status")
        if status == "retired":
            upcoming = await repo.bookings(session, [machine.id], now, now + timedelta(days=3650))
            if upcoming:
                raise Conflict(
                    f"machine {machine_id} has {len(upcoming)} upcoming booking(s), the first "
                    f"{upcoming[0].start_at:%Y-%m-%d %H:%M} UTC; pause it to take no new "
                    "bookings, and retire it when they are over"
                )
            machine.agent_token_digest = None
        machine.status = status
    machine.updated_at = now
    await record(
        session,
        now,
        "machine_changed",
        actor=principal.user_id,
        machine_id=machine.id,
        fields=sorted([*changes, *(["status"] if status else [])]),
    )
    await _publish_soon(session, now)
    return machine_view(machine, now, settings)


async def new_agent_token(
    session: AsyncSession, principal: Principal, machine_id: int, now: datetime
) -> dict[str, Any]:
    """A fresh one-time token; the machine's current agent secret stops working."""
    machine = await owned_machine(session, principal, machine_id, lock="update")
    if machine.status == "retired":
        raise Conflict(f"machine {machine_id} is retired")
    token = new_token()
    machine.agent_token_digest, machine.agent_secret_digest = digest(token), None
    machine.updated_at = now
    await record(session, now, "machine_token", actor=principal.user_id, machine_id=machine.id)
    return {"machine_id": machine.id, "agent_token": token}


async def list_mine(
    session: AsyncSession,
    principal: Principal,
    statuses: list[str] | None,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    machines = await repo.owned(session, principal.owner, statuses)
    return {"items": [machine_view(m, now, settings) for m in machines]}


async def get_mine(
    session: AsyncSession, principal: Principal, machine_id: int, settings: Settings, now: datetime
) -> dict[str, Any]:
    machine = await owned_machine(session, principal, machine_id)
    return machine_view(machine, now, settings)


# --- blocked time ----------------------------------------------------------------------------


def _interval(start: datetime, end: datetime, field: str = "start") -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("times need a time zone (e.g. 2026-11-27T10:00:00Z)", field=field)
    if end <= start:
        raise InvalidInput("the end must be after the start", field="end")


async def add_block(
    session: AsyncSession,
    principal: Principal,
    machine_id: int,
    start: datetime,
    end: datetime,
    reason: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Take a period off the market; refused where bookings already hold it."""
    _interval(start, end)
    machine = await owned_machine(session, principal, machine_id, lock="update")
    clash = await repo.bookings(session, [machine.id], start, end)
    if clash:
        raise Conflict(
            f"reservation {clash[0].id} holds {_span(clash[0].start_at, clash[0].end_at)}; "
            "booked time cannot be blocked"
        )
    block = MachineBlock(
        machine_id=machine.id,
        start_at=start.astimezone(UTC),
        end_at=end.astimezone(UTC),
        reason=(reason or None) and reason[:200],
        created_at=now,
    )
    session.add(block)
    await session.flush()
    return block_view(block)


async def remove_block(
    session: AsyncSession, principal: Principal, machine_id: int, block_id: int
) -> None:
    machine = await owned_machine(session, principal, machine_id, lock="update")
    block = await repo.block(session, block_id)
    if block is None or block.machine_id != machine.id:
        raise NotFound(f"no blocked period {block_id} on machine {machine_id}")
    await session.delete(block)


async def blocks_of(
    session: AsyncSession, principal: Principal, machine_id: int, now: datetime
) -> dict[str, Any]:
    """The owner's view of a machine's blocked periods that have not ended yet."""
    machine = await owned_machine(session, principal, machine_id)
    return {"items": [block_view(b) for b in await repo.current_blocks(session, machine.id, now)]}


def block_view(block: MachineBlock) -> dict[str, Any]:
    return {"id": block.id, "start": block.start_at, "end": block.end_at, "reason": block.reason}


def _span(start: datetime, end: datetime) -> str:
    return f"{start:%Y-%m-%d %H:%M}-{end:%Y-%m-%d %H:%M} UTC"


# --- bookability and calendars ----------------------------------------------------------------


def is_online(machine: Machine, now: datetime, settings: Settings) -> bool:
    return machine.online_at(now, settings.host_offline_after_seconds)


def not_bookable_reason(machine: Machine, now: datetime, settings: Settings) -> str | None:
    """Why nobody can book this machine right now, or None."""
    if machine.status != "listed":
        return f"machine {machine.id} is {machine.status} by its owner"
    if not is_online(machine, now, settings):
        return f"machine {machine.id} is offline (its host agent has not been heard from)"
    if settings.host_gpu_check and machine.gpu_check != gpucheck.OK:
        return f"machine {machine.id} has not proven its GPUs: {machine.gpu_check_detail}"
    return None


async def unavailable(
    session: AsyncSession, machine: Machine, start: datetime, end: datetime
) -> cal.Unavailable | None:
    """Why [start, end) cannot be booked on the machine's calendar (bookings, blocks, hours)."""
    blocks, booked = await repo.busy(session, machine.id, start, end)
    return cal.unavailable(windows_of(machine), machine.timezone, blocks, booked, start, end)


async def _public_machine(session: AsyncSession, machine_id: int) -> HostMachine:
    machine = await repo.get(session, machine_id)
    if machine is None or machine.status == "retired":
        raise NotFound(f"no machine {machine_id}")
    return machine


async def availability(
    session: AsyncSession,
    machine_id: int,
    start: datetime,
    end: datetime,
    granularity_minutes: int,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    """Free slots of a machine in [start, end) (never before now), at a granularity."""
    _interval(start, end, "from")
    if end - start > timedelta(days=62):
        raise InvalidInput("ask for at most 62 days at a time", field="to")
    machine = await _public_machine(session, machine_id)
    start = max(start, now)
    blocks, booked = await repo.busy(session, machine.id, start, end)
    free = (
        cal.free_intervals(windows_of(machine), machine.timezone, blocks, booked, start, end)
        if end > start
        else []
    )
    try:
        slots = cal.free_slots(free, granularity_minutes)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="granularity") from None
    return {
        "machine_id": machine.id,
        "from": start,
        "to": end,
        "granularity_minutes": granularity_minutes,
        "bookable": not_bookable_reason(machine, now, settings) is None,
        "not_bookable_reason": not_bookable_reason(machine, now, settings),
        "min_hours": machine.min_minutes / 60,
        "price_per_hour": micros_to_usd(machine.price_per_hour),
        "hours": cal.window_text(windows_of(machine), machine.timezone),
        "free": [{"start": s, "end": e} for s, e in slots],
    }


async def calendar(
    session: AsyncSession,
    principal: Principal | None,
    machine_id: int,
    first_day: date,
    days: int,
    display_tz: str,
) -> dict[str, Any]:
    """Day by day: free, booked, blocked and closed time. Booking ids are shown only to the
    machine's owner and to the renter who made that booking."""
    machine = await _public_machine(session, machine_id)
    try:
        tz = cal.check_tz(display_tz)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="tz") from None
    if not 1 <= days <= 62:
        raise InvalidInput("days is between 1 and 62", field="days")
    start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC) - timedelta(1)
    end = start + timedelta(days=days + 2)
    blocks = [(b.start_at, b.end_at) for b in await repo.blocks(session, machine.id, start, end)]
    found = await repo.bookings(session, [machine.id], start, end)
    viewer = principal.owner if principal else None

    def ref(owner: str, booking_id: int) -> int | None:
        return booking_id if viewer in (owner, machine.owner) else None

    booked = [(b.start_at, b.end_at, ref(b.owner, b.id)) for b in found]
    day_list = cal.calendar(
        windows_of(machine), machine.timezone, blocks, booked, first_day, days, tz
    )
    return {
        "machine_id": machine.id,
        "tz": tz,
        "days": [
            {
                "date": d.date,
                "segments": [
                    {"start": s.start, "end": s.end, "status": s.status, "reservation_id": s.ref}
                    for s in d.segments
                ],
            }
            for d in day_list
        ],
    }


# --- the host agent ---------------------------------------------------------------------------


async def agent_register(
    session: AsyncSession,
    token: str,
    facts: dict[str, Any] | None,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    machine = await repo.by_token(session, digest(token))
    if machine is None or machine.status == "retired":
        raise NotAuthenticated("this machine token is not valid (unknown, used or retired)")
    secret = new_token()
    machine.agent_token_digest = None
    machine.agent_secret_digest, machine.agent_registered_at = digest(secret), now
    machine.last_heartbeat_at, machine.agent_facts = now, facts
    _check_gpus(machine)
    await record(
        session, now, "machine_agent", actor="agent", machine_id=machine.id, check=machine.gpu_check
    )
    await _publish_soon(session, now)
    return {
        "machine_id": machine.id,
        "agent_secret": secret,
        "heartbeat_seconds": settings.host_heartbeat_seconds,
        "gpu_check": machine.gpu_check,
        "gpu_check_detail": machine.gpu_check_detail,
    }


async def agent_heartbeat(
    session: AsyncSession,
    secret: str,
    facts: dict[str, Any] | None,
    reports: Sequence[Mapping[str, Any]] | None,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    """Count the time since the previous heartbeat as online (when it is short enough), keep
    the facts, trade run reports for the runs the agent should have (`runs.exchange`), and
    tell a retired machine's agent to stop."""
    machine = await repo.by_secret(session, digest(secret))
    if machine is None:
        raise NotAuthenticated("this machine secret is not valid")
    was_online = is_online(machine, now, settings)
    previous = machine.last_heartbeat_at
    if was_online and previous is not None and now > previous:
        for day, seconds in _by_day(previous, now):
            await repo.add_uptime(session, machine.id, day, seconds)
    machine.last_heartbeat_at = now
    measured_before = _measured(machine)
    if facts:
        machine.agent_facts = facts
        _check_gpus(machine)
    if not was_online or _measured(machine) != measured_before:
        await _publish_soon(session, now)
    return {
        "machine_id": machine.id,
        "status": machine.status,
        "action": "stop" if machine.status == "retired" else "continue",
        "heartbeat_seconds": settings.host_heartbeat_seconds,
        "runs": await runs.exchange(session, machine, reports, settings, now),
    }


def _by_day(start: datetime, end: datetime) -> list[tuple[date, float]]:
    """[start, end) cut at UTC midnights: (day, seconds) pieces."""
    pieces = []
    while start < end:
        midnight = datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(days=1)
        stop = min(end, midnight)
        pieces.append((start.date(), (stop - start).total_seconds()))
        start = stop
    return pieces


# --- reliability and the market --------------------------------------------------------------


async def machine_reliability(
    session: AsyncSession, machine: HostMachine, now: datetime
) -> tuple[float | None, float | None]:
    """(uptime over the last 30 days, reliability) of a machine."""
    since = (now - WINDOW).date()
    online = await repo.online_seconds(session, machine.id, since)
    up = uptime(online, machine.agent_registered_at, now)
    return up, reliability(up, machine.rentals_completed, machine.rentals_failed)


async def record_rental(
    session: AsyncSession, machine_id: int, *, completed: bool, now: datetime
) -> None:
    """A rental on the machine ended: completed, or failed on the host's side."""
    machine = await repo.get(session, machine_id, lock="update")
    if machine is None:
        return
    if completed:
        machine.rentals_completed += 1
    else:
        machine.rentals_failed += 1
    await _publish_soon(session, now)


async def _publish_soon(session: AsyncSession, now: datetime) -> None:
    await outbox.enqueue_once(session, PUBLISH_JOB, now, {})


def _measured(machine: HostMachine) -> dict[str, float]:
    return measured_tflops(machine.agent_facts, machine.gpu_check, machine.gpu_count)


def _offer(machine: HostMachine, available: bool) -> ProviderOffer:
    return ProviderOffer(
        provider=PROVIDER,
        instance_type=host_ref(machine.id),
        gpu_name=machine.gpu_raw_name,
        gpu_count=machine.gpu_count,
        price_per_hour=machine.price_per_hour,
        region=machine.region,
        country=machine.country,
        gpu_memory_gb=machine.gpu_memory_gb,
        vcpus=machine.vcpus,
        memory_gb=machine.memory_gb,
        disk_gb=machine.disk_gb,
        available=available,
        reliability=machine.reliability,
        offer_ref=str(machine.id),
        available_count=1 if available else 0,
        inet_down_mbps=machine.inet_down_mbps,
        inet_up_mbps=machine.inet_up_mbps,
        measured_tflops=_measured(machine) or None,
    )


async def publish(session: AsyncSession, settings: Settings, now: datetime) -> dict[str, int]:
    """Bring the market's host offers up to date: one offer per machine that is not retired,
    available while it is bookable, with its current reliability."""
    report = ParseReport()
    for machine in await repo.publishable(session):
        _, machine.reliability = await machine_reliability(session, machine, now)
        available = not_bookable_reason(machine, now, settings) is None
        report.offers.append(_offer(machine, available))
        report.rows_read += 1
    done = await market.import_offers(
        session, source=SOURCE, provider=PROVIDER, report=report, origin="host machines", now=now
    )
    return {"machines": report.rows_read, "changed": done.added + done.changed + done.gone}


def machine_of_offer(source: str, provider: str, ref: str | None) -> int | None:
    """The machine behind a market offer, None when the offer is not a host machine."""
    if (source, provider) != (SOURCE, PROVIDER) or not (ref or "").isdigit():
        return None
    return int(ref or 0)


def offer_machine(source: str, provider: str, ref: str | None) -> int:
    """The machine behind a market offer, or NotFound when the offer is not a host machine."""
    machine_id = machine_of_offer(source, provider, ref)
    if machine_id is None:
        raise NotFound("this offer is not a host machine")
    return machine_id


# --- views -------------------------------------------------------------------------------------


def machine_view(machine: HostMachine, now: datetime, settings: Settings | None) -> dict[str, Any]:
    """A machine as its owner sees it (never the agent token or secret)."""
    online = is_online(machine, now, settings) if settings else False
    return {
        "id": machine.id,
        "name": machine.name,
        "status": machine.status,
        "gpu": machine.gpu,
        "gpu_variant": machine.gpu_variant,
        "gpu_memory_gb": machine.gpu_memory_gb,
        "gpu_count": machine.gpu_count,
        "gpu_raw_name": machine.gpu_raw_name,
        "vcpus": machine.vcpus,
        "memory_gb": machine.memory_gb,
        "disk_gb": machine.disk_gb,
        "inet_down_mbps": machine.inet_down_mbps,
        "inet_up_mbps": machine.inet_up_mbps,
        "region": machine.region,
        "country": machine.country,
        "price_per_hour": micros_to_usd(machine.price_per_hour),
        "min_hours": machine.min_minutes / 60,
        "timezone": machine.timezone,
        "windows": machine.windows,
        "hours": cal.window_text(windows_of(machine), machine.timezone),
        "agent": {
            "online": online,
            "registered_at": machine.agent_registered_at,
            "last_heartbeat_at": machine.last_heartbeat_at,
            "gpu_check": machine.gpu_check,
            "gpu_check_detail": machine.gpu_check_detail,
            "awaiting_registration": machine.agent_token_digest is not None,
            "throughput": throughput_view(
                machine.agent_facts, machine.gpu_check, machine.gpu_count
            ),
        },
        "bookable": settings is not None and not_bookable_reason(machine, now, settings) is None,
        "not_bookable_reason": not_bookable_reason(machine, now, settings) if settings else None,
        "reliability": machine.reliability,
        "rentals_completed": machine.rentals_completed,
        "rentals_failed": machine.rentals_failed,
        "created_at": machine.created_at,
        "updated_at": machine.updated_at,
    }


# --- the host dashboard and payouts --------------------------------------------------------------


async def dashboard(
    session: AsyncSession, principal: Principal, settings: Settings, now: datetime
) -> dict[str, Any]:
    """Machines with their use, upcoming bookings, earnings (gross, fee, net) and payouts."""
    machines = await repo.owned(session, principal.owner, None)
    window_start = now - WINDOW
    past = await repo.bookings(
        session, [m.id for m in machines], window_start, now, ("active", "completed")
    )
    money = await repo.money_by_machine(session, principal.owner, now)
    uses = []
    for machine in machines:
        up, _ = await machine_reliability(session, machine, now)
        view = machine_view(machine, now, settings)
        own = money.get(machine.id, repo.MachineMoney(0, 0, 0, 0))
        uses.append(
            {
                "machine_id": machine.id,
                "name": machine.name,
                "status": machine.status,
                "online": view["agent"]["online"],
                "agent": view["agent"],
                "price_per_hour": view["price_per_hour"],
                "gpu_summary": f"{machine.gpu_count} × {machine.gpu_raw_name}",
                "bookable": view["bookable"],
                "not_bookable_reason": view["not_bookable_reason"],
                "upcoming_bookings": own.upcoming,
                "earnings": {
                    "gross": micros_to_usd(own.gross),
                    "platform_fee": micros_to_usd(own.fee),
                    "net": micros_to_usd(own.gross - own.fee),
                    "pending": micros_to_usd(own.pending),
                },
                "utilisation_30d": _utilisation(machine, past, window_start, now),
                "uptime_30d": None if up is None else round(up, 4),
                "reliability": machine.reliability,
            }
        )
    gross, fee = await repo.earned(session, principal.owner)
    payouts = [
        p
        for p in await wallet_repo.payments_of(session, principal.owner, None, None, 200)
        if p.direction == "payout"
    ]
    paid_out = sum(p.amount for p in payouts if p.status == "settled")
    return {
        "machines": uses,
        "upcoming": [
            {
                "reservation_id": b.id,
                "machine_id": b.machine_id,
                "state": b.state,
                "start": b.start_at,
                "end": b.end_at,
                "price_per_hour": micros_to_usd(b.price_per_hour),
            }
            for b in await repo.upcoming_bookings(session, principal.owner, now, 50)
        ],
        "earnings": {
            "gross": micros_to_usd(gross),
            "platform_fee": micros_to_usd(fee),
            "net": micros_to_usd(gross - fee),
            "pending": micros_to_usd(sum(m.pending for m in money.values())),
            "available": micros_to_usd(await ledger.earnings(session, principal.owner)),
            "paid_out": micros_to_usd(paid_out),
        },
        "payouts": [wallet.payment_view(p) for p in payouts[:20]],
    }


def _utilisation(
    machine: HostMachine, past: list[repo.Booking], start: datetime, now: datetime
) -> float | None:
    """Booked share of the machine's open hours since it was listed (within the window)."""
    start = max(start, machine.created_at)
    if now <= start:
        return None
    open_seconds = sum(
        (e - s).total_seconds()
        for s, e in cal.open_intervals(windows_of(machine), machine.timezone, start, now)
    )
    if open_seconds <= 0:
        return None
    booked = sum(
        (min(b.end_at, now) - max(b.start_at, start)).total_seconds()
        for b in past
        if b.machine_id == machine.id
    )
    return round(min(1.0, booked / open_seconds), 4)

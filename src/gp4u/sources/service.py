"""Syncing providers into the market, staleness, and provider health.

A sync run fetches one provider's offers through its adapter (bounded by a timeout), writes
them to the offer cache, imports them into the market and records the run (offers seen, added,
changed, gone, skipped by reason, error kind, duration). Many providers sync concurrently: each
fetch runs on its own, so a slow or failing provider delays nobody; the database writes of one
process take turns (SQLite has one writer anyway).

Staleness: when a provider's last successful sync is older than `stale_after_intervals` sync
intervals its offers are flagged stale; past the hard limit they become unavailable and drop out
of results. A successful sync clears both.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.db.engine import unit_of_work
from gp4u.jobs import outbox
from gp4u.kit.clock import Clock
from gp4u.kit.errors import NotFound, ServiceUnavailable
from gp4u.kit.logging import get_logger
from gp4u.kit.money import micros_to_usd
from gp4u.offers import service as market
from gp4u.providers import metrics
from gp4u.providers.base import InvalidResponse, ParseReport, ProviderError
from gp4u.providers.breaker import BreakerState
from gp4u.providers.health import status_of
from gp4u.providers.interface import Capability, ProviderAdapter
from gp4u.providers.registry import ProviderSet

log = get_logger(__name__)
EVALUATE_WATCHES = "alerts.evaluate"  # by name: alerts sit above sources
Sessions = async_sessionmaker[AsyncSession]

_WRITE_TURNS: dict[int, asyncio.Lock] = {}


def _write_turn(sessions: Sessions) -> asyncio.Lock:
    """One writer at a time per database within this process."""
    return _WRITE_TURNS.setdefault(id(sessions), asyncio.Lock())


@dataclass
class SyncOutcome:
    name: str
    source: str
    provider: str
    status: str  # ok | failed | disabled (cannot list offers as configured) | skipped
    duration_ms: int
    seen: int = 0
    added: int = 0
    changed: int = 0
    gone: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    error_kind: str | None = None
    stale: int = 0  # offers flagged stale by this run's staleness check
    expired: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _fetch(adapter: ProviderAdapter, seconds: float) -> ParseReport:
    async with asyncio.timeout(seconds):
        report = await adapter.list_offers()
    if report.rows_read and not report.offers:
        # Every record unusable: the provider changed its format, or answered garbage. Importing
        # that would mark its whole market gone; keep the last good offers and say why.
        reasons = ", ".join(f"{k} {v}" for k, v in report.skipped.most_common(3))
        raise InvalidResponse(adapter.name, f"all {report.rows_read} records unusable ({reasons})")
    return report


def disabled_reason(adapter: ProviderAdapter) -> str | None:
    """Why this adapter cannot list offers as configured (e.g. no API key), or None."""
    return adapter.capabilities().reason(Capability.OFFERS)


async def sync_provider(
    sessions: Sessions, providers: ProviderSet, name: str, clock: Clock
) -> SyncOutcome:
    """Fetch one provider's offers and bring the market up to date; never raises for a
    provider failure (it is recorded). A provider that cannot list offers as configured (no
    key) is reported `disabled` and records nothing; one whose previous sync is still running
    (another process) is reported `skipped`."""
    try:
        adapter = providers.get(name)
    except LookupError as exc:
        raise NotFound(str(exc)) from exc
    reason = disabled_reason(adapter)
    if reason is not None:
        return SyncOutcome(name, adapter.source, adapter.provider, "disabled", 0, error=reason)
    async with providers.sync_lock(name) as mine:
        if not mine:
            return SyncOutcome(name, adapter.source, adapter.provider, "skipped", 0)
        return await _sync(sessions, providers, adapter, clock)


async def _sync(
    sessions: Sessions, providers: ProviderSet, adapter: ProviderAdapter, clock: Clock
) -> SyncOutcome:
    name = adapter.name
    started_at = clock.now()
    began = time.perf_counter()
    report: ParseReport | None = None
    error: str | None = None
    kind = "error"
    try:
        report = await _fetch(adapter, providers.settings.sync_timeout_seconds)
    except ProviderError as exc:
        error, kind = exc.message, exc.kind
    except TimeoutError:
        timeout = providers.settings.sync_timeout_seconds
        error, kind = f"no answer within {timeout:g}s", "timeout"
    except Exception as exc:  # a bug or our own infrastructure: record it, never lose the run
        log.exception("provider sync failed unexpectedly", provider=name)
        error, kind, report = f"internal error: {exc!r}"[:500], "internal", None
    duration_ms = round((time.perf_counter() - began) * 1000)
    if report is not None:
        try:
            await providers.cache.put(name, report)
        except Exception as exc:  # the cache is an optimisation; the market still gets the data
            log.warning("offer cache write failed", provider=name, error=repr(exc))
    run: dict[str, Any] = {"source": adapter.source, "provider": adapter.provider, "origin": name}
    async with _write_turn(sessions), unit_of_work(sessions) as session:
        now = clock.now()
        if report is not None:
            done = await market.import_offers(
                session,
                report=report,
                now=now,
                started_at=started_at,
                duration_ms=duration_ms,
                **run,
            )
            outcome = SyncOutcome(
                name,
                adapter.source,
                adapter.provider,
                "ok",
                duration_ms,
                done.offers_read,
                done.added,
                done.changed,
                done.gone,
                done.skipped,
            )
            if done.added and adapter.source != "simulated":
                await market.retire_simulated_market(session, now)
            if done.added or done.changed or done.gone:
                await outbox.enqueue_once(session, EVALUATE_WATCHES, now)
        else:
            assert error is not None
            await market.record_failure(
                session,
                error=error,
                error_kind=kind,
                now=now,
                started_at=started_at,
                duration_ms=duration_ms,
                **run,
            )
            outcome = SyncOutcome(
                name,
                adapter.source,
                adapter.provider,
                "failed",
                duration_ms,
                error=error,
                error_kind=kind,
            )
            outcome.stale, outcome.expired = await _apply_staleness(
                session, providers, adapter, now
            )
    metrics.SYNC_SECONDS.labels(name, outcome.status).observe(duration_ms / 1000)
    if outcome.status == "ok":
        metrics.OFFERS.labels(name).set(outcome.seen)
    log.info("provider synced", **{k: v for k, v in outcome.as_dict().items() if v})
    return outcome


async def sync_many(
    sessions: Sessions, providers: ProviderSet, clock: Clock, names: list[str] | None = None
) -> list[SyncOutcome]:
    """Sync several providers concurrently (all configured ones by default)."""
    chosen = names
    if chosen is None:  # every provider that can list offers as configured
        chosen = [n for n, a in providers.adapters.items() if disabled_reason(a) is None]
    return list(
        await asyncio.gather(*(sync_provider(sessions, providers, n, clock) for n in chosen))
    )


async def _apply_staleness(
    session: AsyncSession, providers: ProviderSet, adapter: ProviderAdapter, now: datetime
) -> tuple[int, int]:
    last_ok = await market.last_success(session, adapter.source, adapter.provider)
    age = (now - last_ok).total_seconds() if last_ok else float("inf")
    if age > providers.hard_limit(adapter):
        return 0, await market.expire_source(session, adapter.source, adapter.provider, now)
    if age > providers.stale_after(adapter):
        return await market.mark_source_stale(session, adapter.source, adapter.provider, now), 0
    return 0, 0


async def sweep_staleness(
    sessions: Sessions, providers: ProviderSet, clock: Clock
) -> dict[str, dict[str, int]]:
    """Flag or expire the offers of every provider that has not synced successfully lately
    (also when its sync job is not running at all)."""
    changed: dict[str, dict[str, int]] = {}
    async with _write_turn(sessions), unit_of_work(sessions) as session:
        for name, adapter in providers.adapters.items():
            if not adapter.synced:
                continue
            stale, expired = await _apply_staleness(session, providers, adapter, clock.now())
            if stale or expired:
                changed[name] = {"stale": stale, "expired": expired}
        days = providers.settings.sync_history_days
        await market.prune_sync_history(session, clock.now(), days)
    return changed


async def provider_health(
    session: AsyncSession, providers: ProviderSet, name: str, now: datetime
) -> dict[str, Any]:
    try:
        adapter = providers.get(name)
    except LookupError as exc:
        raise NotFound(str(exc)) from exc
    sources = {(s["source"], s["provider"]): s for s in await market.list_sources(session, now)}
    return await _health(providers, adapter, sources.get((adapter.source, adapter.provider)), now)


async def list_providers(
    session: AsyncSession, providers: ProviderSet, now: datetime
) -> list[dict[str, Any]]:
    """Every configured provider with its health, plus market sources without an adapter
    (imported catalog files, the simulated market) and adapters that could not be built."""
    sources = {(s["source"], s["provider"]): s for s in await market.list_sources(session, now)}
    items = []
    for adapter in providers.adapters.values():
        key = (adapter.source, adapter.provider)
        items.append(await _health(providers, adapter, sources.pop(key, None), now))
    for name, problem in providers.problems.items():
        items.append(_unavailable(name, problem))
    for (source, provider), market_source in sources.items():
        if source == "simulated" and not market_source["available_offers"]:
            continue  # the retired demo market: nothing to show
        items.append(
            {
                "name": f"{source}:{provider}",
                "provider": provider,
                "source": source,
                "kind": "simulated" if source == "simulated" else "imported",
                "status": "unknown",
                "capabilities": {},
                "market": market_source,
            }
        )
    return items


async def _health(
    providers: ProviderSet,
    adapter: ProviderAdapter,
    market_source: dict[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    name = adapter.name
    capabilities = adapter.capabilities()
    record = await providers.gateway.breaker(name).record()
    calls = providers.gateway.stats(name).summary(now.timestamp())
    last_ok = None if market_source is None else market_source.get("last_status")
    breaker_open = record.state is BreakerState.OPEN
    limiters = providers.gateway.limiters(name)
    return {
        "name": name,
        "provider": adapter.provider,
        "source": adapter.source,
        "kind": adapter.kind,
        "status": "disabled"
        if Capability.OFFERS not in capabilities
        else status_of(
            calls["success_rate"],
            breaker_open,
            None if last_ok is None else last_ok == "ok",
        ),
        "capabilities": {c.value: capabilities.reason(c) or "yes" for c in Capability},
        "calls": calls,
        "breaker": {
            "state": record.state.value,
            "consecutive_failures": record.failures,
            "opened_at": _iso(record.opened_at) if record.opened_at else None,
        },
        "rate_limit": limiters[0].usage() if limiters else None,
        "cache": {
            "age_seconds": _round(await providers.cache.age(name)),
            "hit_ratio": providers.cache.hit_ratio(name),
        },
        "sync_interval_seconds": providers.sync_interval(adapter),
        "market": market_source,
    }


def _unavailable(name: str, problem: str) -> dict[str, Any]:
    return {
        "name": name,
        "provider": name,
        "source": "live",
        "kind": "unknown",
        "status": "unavailable",
        "capabilities": {c.value: problem for c in Capability},
    }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


async def current_offers(providers: ProviderSet, name: str) -> dict[str, Any]:
    """A provider's offers as it reports them now (through the offer cache), prices in USD."""
    try:
        cached = await providers.current_offers(name)
    except LookupError as exc:
        raise NotFound(str(exc)) from exc
    except ProviderError as exc:
        raise ServiceUnavailable(f"{name}: {exc.message}") from exc
    return {
        "name": name,
        "freshness": cached.freshness,
        "age_seconds": round(cached.age, 3),
        "fetched_at": _iso(cached.fetched_at),
        "rows_read": cached.report.rows_read,
        "skipped": dict(cached.report.skipped),
        "offers": [
            {
                **{k: v for k, v in asdict(o).items() if k != "price_per_hour"},
                "price_per_hour": micros_to_usd(o.price_per_hour),
            }
            for o in cached.report.offers
        ],
    }


async def reset_breaker(providers: ProviderSet, name: str) -> dict[str, Any]:
    if name not in providers.adapters:
        raise NotFound(f"provider {name!r} is not configured")
    await providers.gateway.breaker(name).reset()
    return {"name": name, "breaker": "closed"}


async def invalidate_cache(providers: ProviderSet, name: str) -> dict[str, Any]:
    if name not in providers.adapters:
        raise NotFound(f"provider {name!r} is not configured")
    return {"name": name, "invalidated": await providers.cache.invalidate(name)}

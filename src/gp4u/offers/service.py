"""Market services: search, group-by-GPU summary, offer detail, imports, sources and the
simulated market. Each takes the database session (or, for the embedded CLI, a sqlite3
connection) as its first argument; only the caller's unit of work commits."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.clock import ensure_utc
from gp4u.kit.errors import InvalidInput, NotFound
from gp4u.kit.logging import get_logger
from gp4u.kit.money import micros_to_usd
from gp4u.offers import repository as repo
from gp4u.offers.cursor import decode
from gp4u.offers.embedded import Page, build_groups, build_page, finish_groups
from gp4u.offers.index import MarketIndex
from gp4u.offers.ingest import plan_import
from gp4u.offers.query import OfferQuery, build_query
from gp4u.offers.schemas import present_offer
from gp4u.offers.sql import SUMMARY_GROUPS, compile_search, compile_summary
from gp4u.providers.base import ParseReport
from gp4u.providers.simulated.market import simulated_offers


class MarketSearch:
    """This process's search index of the market, kept exactly current. Before each search it
    reads the market version (one primary-key lookup); a small change since the index's version
    is applied at once, a large one (or the first build) is applied to a copy in a worker thread
    and swapped in when complete. Until then `current` answers None and searches use SQL, which
    is slower but just as exact."""

    INLINE_ROWS = 5000  # deltas up to this size are applied on the event loop (~50 ms at most)

    def __init__(self) -> None:
        self.index: MarketIndex | None = None
        self._lock = asyncio.Lock()
        self._catch_up: asyncio.Task[None] | None = None

    async def current(self, session: AsyncSession) -> MarketIndex | None:
        version = await repo.market_version(session)
        index = self.index
        if index is not None and index.version == version:
            return index
        if self._catch_up is not None and not self._catch_up.done():
            return None
        async with self._lock:
            index = self.index
            if index is not None and index.version == version:
                return index
            base = index if index is not None and version > index.version else MarketIndex()
            rows = await repo.index_rows(session, since=base.version)
            if base is index and len(rows) <= self.INLINE_ROWS:
                base.apply(rows, version)
                return base
            self._catch_up = asyncio.create_task(self._apply_elsewhere(base, rows, version))
            return None

    async def _apply_elsewhere(
        self, base: MarketIndex, rows: Sequence[Sequence[Any]], version: int
    ) -> None:
        def work() -> MarketIndex:
            target = base.copy() if base is self.index else base
            target.apply(rows, version)
            return target

        try:
            updated = await asyncio.to_thread(work)
        except Exception:
            log.exception("search index update failed; searching with SQL meanwhile")
            return
        if self.index is None or updated.version >= self.index.version:
            self.index = updated

    def status(self) -> dict[str, Any]:
        """For /readyz: "ready" (searches use the index), or "building" / "none" (they use SQL)."""
        building = self._catch_up is not None and not self._catch_up.done()
        if self.index is None:
            return {"state": "building" if building else "none"}
        return {
            "state": "updating" if building else "ready",
            "offers": self.index.size,
            "version": self.index.version,
        }

    def reset(self) -> None:
        """Forget everything: the next search rebuilds the index."""
        self.index = MarketIndex()

    async def build(self, sessions: async_sessionmaker[AsyncSession]) -> bool:
        """Build (or catch up) the index and wait for it. On a database that cannot serve it yet
        (not migrated, unreachable) searches stay on SQL and `/readyz` says why."""
        try:
            async with sessions() as session:
                if await self.current(session) is None and self._catch_up is not None:
                    await self._catch_up
        except SQLAlchemyError as exc:
            log.warning("search index not built; searching with SQL", error=str(exc)[:200])
            return False
        return self.index is not None


async def warm_up(
    sessions: async_sessionmaker[AsyncSession], market: MarketSearch, page_size: int
) -> bool:
    """Build the search index, then run the marketplace's first request once (the first page of
    every offer, cheapest first, as the web UI asks for it) and the group-by summary, so the
    server's first visitor does not pay for first-time work: the index, the statements' first
    compilation, the pages of the database file read from disk. False if the index could not
    be built (the database is not ready); the server then searches with SQL."""
    if not await market.build(sessions):
        return False
    started = time.perf_counter()
    try:
        async with sessions() as session:
            query = build_query(None, limit=page_size, default_limit=page_size, max_limit=page_size)
            orjson.dumps((await search_offers(session, query, market)).as_json())
            await summarize(session, build_query(None), "gpu", market)
    except Exception as exc:  # a failed warm-up only costs the first visitor time: never more
        log.warning("market warm-up failed", error=str(exc)[:200])
        return False
    log.info("market warmed up", ms=round((time.perf_counter() - started) * 1000, 1))
    return True


async def offers_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[dict[str, Any]]:
    """Offers as the API shows them, in the order of `ids` (missing ids are left out)."""
    return [present_offer(row) for row in await repo.offers_by_ids(session, list(ids))]


async def price_points(
    session: AsyncSession, offer_ids: Sequence[int], until: datetime
) -> list[Sequence[Any]]:
    """The price history of these offers up to `until` (see the repository)."""
    return await repo.price_points(session, offer_ids, until)


async def snapshot_index(session: AsyncSession, market: MarketSearch | None) -> MarketIndex:
    """The market as an index: the process's own when it is current, else one built now from
    the database (the CLI, or a server still building its index)."""
    index = await market.current(session) if market is not None else None
    if index is not None:
        return index
    version = await repo.market_version(session)
    rows = await repo.index_rows(session, since=0)
    fresh = MarketIndex()
    await asyncio.to_thread(fresh.apply, rows, version)
    return fresh


async def search_offers(
    session: AsyncSession, query: OfferQuery, market: MarketSearch | None = None
) -> Page:
    """One page of offers matching the query, in the query's order: from the market index when
    one is given and built, else straight from SQL."""
    position = decode(query)
    index = await market.current(session) if market is not None else None
    if index is None:
        compiled = compile_search(query, repo.dialect_of(session), position)
        return build_page(query, await repo.fetch(session, compiled))
    return build_page(query, await repo.offers_by_ids(session, index.search(query, position)))


async def summarize(
    session: AsyncSession, query: OfferQuery, by: str = "gpu", market: MarketSearch | None = None
) -> list[dict[str, Any]]:
    """The group-by-GPU view of the offers a query matches (index when built, else SQL)."""
    index = await market.current(session) if market is not None else None
    if index is not None:
        return finish_groups(index.summarize(query, SUMMARY_GROUPS[by]))
    ranked, providers = compile_summary(query, repo.dialect_of(session), by)
    return build_groups(by, await repo.fetch(session, ranked), await repo.fetch(session, providers))


async def market_version(session: AsyncSession) -> int:
    """The market's version: it grows with every import that changed something."""
    return await repo.market_version(session)


async def market_changes(
    session: AsyncSession, since: int, limit: int
) -> tuple[int, list[dict[str, Any]] | None]:
    """What changed in the market after version `since`: the current version and every changed
    offer's id, prices, availability and stale flag, or None instead of the list when more than
    `limit` offers changed (the client should reload rather than patch)."""
    version = await repo.market_version(session)
    if version <= since:
        return version, []
    rows = await repo.changes_since(session, since, version, limit + 1)
    if len(rows) > limit:
        return version, None
    return version, [
        {
            "id": offer_id,
            "price_per_hour": micros_to_usd(price),
            "price_per_gpu_hour": micros_to_usd(per_gpu),
            "available": bool(available),
            "stale": bool(stale),
            "new": created == updated and not stale,  # marking stale does not touch updated_at
            "updated_at": ensure_utc(updated).isoformat(),
        }
        for offer_id, price, per_gpu, available, stale, created, updated in rows
    ]


async def get_offer(session: AsyncSession, offer_id: int) -> dict[str, Any]:
    """One offer, any availability, with its recent price history."""
    row = await repo.get_offer(session, offer_id)
    if row is None:
        raise NotFound(f"no offer with id {offer_id}")
    detail = present_offer(row)
    detail["history"] = [
        {
            "at": at.isoformat(),
            "price_per_hour": micros_to_usd(price),
            "price_per_gpu_hour": micros_to_usd(per_gpu),
            "available": bool(available),
        }
        for at, price, per_gpu, available, _id in await repo.offer_history(session, offer_id)
    ]
    return detail


# Re-gather planner statistics when a job rewrote at least this many offers: cheap next to the
# import, and it keeps SQL searches on their indexes right away.
_ANALYZE_MIN_ROWS = 2000
_PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
log = get_logger(__name__)


@dataclass
class ProviderImport:
    """What importing one provider's offers did."""

    source: str
    provider: str
    rows_read: int = 0
    offers_read: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    gone: int = 0
    duplicates: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_lines: dict[str, list[int]] = field(default_factory=dict)
    fixed: dict[str, int] = field(default_factory=dict)
    unknown_gpus: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None

    @property
    def upserted(self) -> int:
        return self.added + self.changed


async def import_offers(
    session: AsyncSession,
    *,
    source: str,
    provider: str,
    report: ParseReport,
    origin: str,
    now: datetime,
    started_at: datetime | None = None,
    duration_ms: int | None = None,
) -> ProviderImport:
    """Bring one provider's offers from one source up to date with `report`, and record the run.
    A sync passes when it started and how long fetching took (`now` is when it finished)."""
    started = time.perf_counter()
    provider = provider.lower()
    if not _PROVIDER_ID.match(provider):
        raise InvalidInput(
            f"bad provider name {provider!r}: use letters, digits, '.', '_' or '-'",
            field="provider",
        )
    existing = await repo.load_existing(session, source, provider)
    for offer in report.offers:
        offer.provider = provider
    plan = plan_import(source, report.offers, existing, now)
    if plan.new or plan.changed or plan.gone:
        # Taken just before writing: the market_state row stays locked until commit.
        version = await repo.next_version(session)
        for row in (*plan.new, *plan.changed):
            row["version"] = version
        await repo.insert_offers(session, plan.new, source, provider, now)
        await repo.update_offers(session, plan.changed)
        await repo.mark_unavailable(session, plan.gone, now, version)
        await repo.add_history(session, plan.history)
    result = ProviderImport(
        source=source,
        provider=provider,
        rows_read=report.rows_read,
        offers_read=len(report.offers),
        added=len(plan.new),
        changed=len(plan.changed),
        unchanged=plan.unchanged,
        gone=len(plan.gone),
        duplicates=plan.duplicates,
        skipped=dict(report.skipped),
        skipped_lines=dict(report.examples),
        fixed=dict(report.fixed),
        unknown_gpus=dict(plan.unknown_gpus),
    )
    result.seconds = time.perf_counter() - started
    await repo.record_sync(
        session,
        source=source,
        provider=provider,
        origin=origin[:1024],
        started_at=started_at or now,
        finished_at=now,
        duration_ms=duration_ms,
        status="ok",
        rows_read=result.rows_read,
        seen=result.offers_read,
        added=result.added,
        changed=result.changed,
        unchanged=result.unchanged,
        gone=result.gone,
        skipped={
            **result.skipped,
            "duplicate_offer": result.duplicates,
            "fixed": result.fixed,
            "unknown_gpu_names": dict(plan.unknown_gpus),
        },
        error=None,
    )
    return result


async def refresh_statistics_after(
    session: AsyncSession, imports: Sequence[ProviderImport]
) -> None:
    """After a job's imports: refresh planner statistics if they rewrote many offers."""
    if sum(i.added + i.changed + i.gone for i in imports) >= _ANALYZE_MIN_ROWS:
        await repo.refresh_statistics(session)


async def record_failure(
    session: AsyncSession,
    *,
    source: str,
    provider: str,
    origin: str,
    error: str,
    now: datetime,
    error_kind: str = "error",
    started_at: datetime | None = None,
    duration_ms: int | None = None,
) -> ProviderImport:
    """Record a source that could not be read; its offers stay as they were."""
    await repo.record_sync(
        session,
        source=source,
        provider=provider.lower(),
        origin=origin[:1024],
        started_at=started_at or now,
        finished_at=now,
        duration_ms=duration_ms,
        error_kind=error_kind,
        status="failed",
        rows_read=0,
        added=0,
        changed=0,
        unchanged=0,
        gone=0,
        skipped={},
        error=error[:2000],
    )
    return ProviderImport(source=source, provider=provider.lower(), error=error)


async def mark_source_stale(
    session: AsyncSession, source: str, provider: str, now: datetime
) -> int:
    """Flag a failing source's available offers as stale (still listed, never priced from)."""
    rows = await repo.available_in_scope(session, source, provider, stale=False)
    if rows:
        version = await repo.next_version(session)
        await repo.mark_stale(session, [r[0] for r in rows], version)
    return len(rows)


async def expire_source(session: AsyncSession, source: str, provider: str, now: datetime) -> int:
    """Past the hard staleness limit a source's offers become unavailable: they drop out of
    results (with a history point) until a sync confirms them again."""
    rows = await repo.available_in_scope(session, source, provider)
    if rows:
        version = await repo.next_version(session)
        ids = [r[0] for r in rows]
        await repo.mark_stale(session, ids, version)
        await repo.mark_unavailable(session, ids, now, version)
        await repo.add_history(
            session,
            [
                {
                    "offer_id": offer_id,
                    "at": now,
                    "price_per_hour": price,
                    "price_per_gpu_hour": per_gpu,
                    "available": False,
                }
                for offer_id, price, per_gpu in rows
            ],
        )
    return len(rows)


async def prune_sync_history(session: AsyncSession, now: datetime, keep_days: float) -> int:
    """Forget sync runs older than `keep_days` (a failing provider records one every interval),
    keeping each source's latest run and latest successful run."""
    return await repo.prune_syncs(session, now - timedelta(days=keep_days))


async def last_success(session: AsyncSession, source: str, provider: str) -> datetime | None:
    return (await repo.latest_successful_syncs(session)).get((source, provider))


async def list_sources(session: AsyncSession, now: datetime) -> list[dict[str, Any]]:
    """Every (source, provider) with its offer counts and freshness."""
    syncs = await repo.latest_syncs(session)
    successful = await repo.latest_successful_syncs(session)
    items = []
    seen = set()
    for source, provider, total, available, last_change in await repo.source_counts(session):
        seen.add((source, provider))
        items.append(
            _source_item(
                source,
                provider,
                total,
                available,
                last_change,
                syncs.get((source, provider)),
                successful.get((source, provider)),
                now,
            )
        )
    for (source, provider), sync in syncs.items():
        if (source, provider) not in seen:
            items.append(
                _source_item(
                    source, provider, 0, 0, None, sync, successful.get((source, provider)), now
                )
            )
    items.sort(key=lambda i: (i["source"], i["provider"]))
    return items


def _source_item(
    source: str,
    provider: str,
    total: int,
    available: int,
    last_change: Any,
    sync: Any,
    last_ok: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "source": source,
        "provider": provider,
        "offers": int(total),
        "available_offers": int(available or 0),
        "last_change": last_change.isoformat() if last_change else None,
        "last_sync": sync.finished_at.isoformat() if sync else None,
        "last_status": sync.status if sync else None,
        "last_error": sync.error if sync else None,
        "age_seconds": round((now - last_ok).total_seconds(), 3) if last_ok else None,
    }


async def retire_simulated_market(session: AsyncSession, now: datetime) -> bool:
    """Once another source has offers, every simulated offer becomes unavailable (kept, with its
    history, and still findable with `source=simulated available=false`)."""
    # This machine's own "local" offer is no market: it must not end the demo.
    if await repo.count_offers(session, exclude_sources=("simulated", "local")) == 0:
        return False
    for provider in await repo.providers_of(session, "simulated"):
        await import_offers(
            session,
            source="simulated",
            provider=provider,
            report=ParseReport(),
            origin="simulated market (retired)",
            now=now,
        )
    return True


async def refresh_simulated_market(session: AsyncSession, now: datetime) -> str:
    """Move the simulated market to `now` while it is the only source, else retire it.
    Returns "active" or "retired"."""
    if await retire_simulated_market(session, now):
        return "retired"
    by_provider: dict[str, ParseReport] = {}
    for offer in simulated_offers(now):
        by_provider.setdefault(offer.provider, ParseReport()).offers.append(offer)
    for provider, report in by_provider.items():
        report.rows_read = len(report.offers)
        await import_offers(
            session,
            source="simulated",
            provider=provider,
            report=report,
            origin="simulated market",
            now=now,
        )
    return "active"


async def has_available_offers(session: AsyncSession) -> bool:
    return await repo.count_offers(session) > 0


def skipped_total(imports: Sequence[ProviderImport]) -> Counter[str]:
    total: Counter[str] = Counter()
    for item in imports:
        total.update(item.skipped)
    return total

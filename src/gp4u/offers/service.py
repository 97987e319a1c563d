"""Market services: search, group-by-GPU summary, offer detail, imports, sources and the
simulated market. Each takes the database session (or, for the embedded CLI, a sqlite3
connection) as its first argument; only the caller's unit of work commits."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.kit.errors import NotFound
from gp4u.kit.logging import get_logger
from gp4u.kit.money import micros_to_usd
from gp4u.offers import repository as repo
from gp4u.offers.cursor import decode
from gp4u.offers.embedded import Page, build_groups, build_page
from gp4u.offers.index import MarketIndex
from gp4u.offers.ingest import plan_import
from gp4u.offers.query import OfferQuery
from gp4u.offers.schemas import present_offer
from gp4u.offers.sql import compile_search, compile_summary
from gp4u.providers.base import ParseReport
from gp4u.providers.simulated.market import simulated_offers


class MarketSearch:
    """This process's search index of the market, kept exactly current: before each search it
    reads the market version (one primary-key lookup) and loads only the offers written since.
    Until the first build finishes, searches use SQL."""

    def __init__(self) -> None:
        self.index: MarketIndex | None = None
        self._lock = asyncio.Lock()

    async def current(self, session: AsyncSession) -> MarketIndex:
        version = await repo.market_version(session)
        index = self.index
        if index is not None and index.version == version:
            return index
        async with self._lock:
            index = self.index
            if index is None or version < index.version:  # first build, or a reset database
                index = MarketIndex()
            if index.version != version:
                index.apply(await repo.index_rows(session, since=index.version), version)
            self.index = index
        return index

    def reset(self) -> None:
        """Forget everything: the next search reloads every offer."""
        self.index = MarketIndex()

    async def build(self, sessions: async_sessionmaker[AsyncSession]) -> bool:
        """Build the index now. On a database that cannot serve it yet (not migrated,
        unreachable) searches stay on SQL and `/readyz` says why."""
        try:
            async with sessions() as session:
                await self.current(session)
        except SQLAlchemyError as exc:
            log.warning("search index not built; searching with SQL", error=str(exc)[:200])
            return False
        return True


async def search_offers(
    session: AsyncSession, query: OfferQuery, market: MarketSearch | None = None
) -> Page:
    """One page of offers matching the query, in the query's order: from the market index when
    one is given and built, else straight from SQL."""
    position = decode(query)
    if market is None or market.index is None:
        compiled = compile_search(query, repo.dialect_of(session), position)
        return build_page(query, await repo.fetch(session, compiled))
    index = await market.current(session)
    return build_page(query, await repo.offers_by_ids(session, index.search(query, position)))


async def summarize(
    session: AsyncSession, query: OfferQuery, by: str = "gpu"
) -> list[dict[str, Any]]:
    """The group-by-GPU view of the offers a query matches."""
    ranked, providers = compile_summary(query, repo.dialect_of(session), by)
    return build_groups(by, await repo.fetch(session, ranked), await repo.fetch(session, providers))


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


# Re-gather planner statistics when an import rewrote at least this many offers (or a tenth of
# what the provider had): cheap next to the import, and it keeps searches on their indexes.
_ANALYZE_MIN_ROWS = 2000
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
) -> ProviderImport:
    """Bring one provider's offers from one source up to date with `report`, and record the run."""
    started = time.perf_counter()
    provider = provider.lower()
    existing = await repo.load_existing(session, source, provider)
    for offer in report.offers:
        offer.provider = provider
    plan = plan_import(source, report.offers, existing, now)
    if plan.new or plan.changed or plan.gone:
        # Taken just before writing: the market_state row stays locked until commit.
        version = await repo.next_version(session)
        for row in (*plan.new, *plan.changed):
            row["version"] = version
        await repo.insert_offers(session, plan.new)
        await repo.update_offers(session, plan.changed)
        await repo.mark_unavailable(session, plan.gone, now, version)
    await repo.add_history(session, plan.history)
    if plan.new:
        await repo.add_history_for_new(session, source, provider, now)
    touched = len(plan.new) + len(plan.changed) + len(plan.gone)
    if touched >= max(_ANALYZE_MIN_ROWS, len(existing) // 10):
        await repo.refresh_statistics(session)
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
        started_at=now,
        finished_at=now,
        status="ok",
        rows_read=result.rows_read,
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


async def record_failure(
    session: AsyncSession, *, source: str, provider: str, origin: str, error: str, now: datetime
) -> ProviderImport:
    """Record a source that could not be read; its offers stay as they were."""
    await repo.record_sync(
        session,
        source=source,
        provider=provider.lower(),
        origin=origin[:1024],
        started_at=now,
        finished_at=now,
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
    if await repo.count_offers(session, exclude_source="simulated") == 0:
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

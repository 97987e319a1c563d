"""The embedded read path, and the page and group assembly both paths share.

`search_offers_embedded` and `summarize_embedded` run the compiled search SQL through the
standard library's sqlite3, so the CLI answers without importing SQLAlchemy; the async services
in `service.py` run the same SQL and assemble results with the same functions."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gp4u.kit.clock import ensure_utc
from gp4u.kit.money import divide_micros, micros_to_usd
from gp4u.offers.cursor import Position, decode, encode
from gp4u.offers.fields import OUTPUT_COLUMNS
from gp4u.offers.query import OfferQuery
from gp4u.offers.schemas import present_offer
from gp4u.offers.sql import SUMMARY_GROUPS, Dialect, compile_search, compile_summary

_SORT_INDEX = {name: i for i, name in enumerate(OUTPUT_COLUMNS)}


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None

    def as_json(self) -> dict[str, Any]:
        return {"items": self.items, "next_cursor": self.next_cursor}


def build_page(query: OfferQuery, rows: Sequence[Sequence[Any]]) -> Page:
    items = [present_offer(r) for r in rows[: query.limit]]
    next_cursor = None
    if len(rows) > query.limit:
        last = rows[query.limit - 1]
        value = last[_SORT_INDEX[query.sort]]
        if isinstance(value, str):  # SQLite returns timestamps as naive UTC text
            value = ensure_utc(datetime.fromisoformat(value))
        next_cursor = encode(query, Position(value=value, id=int(last[0])))
    return Page(items, next_cursor)


def search_offers_embedded(conn: sqlite3.Connection, query: OfferQuery) -> Page:
    """The same search on the embedded database through sqlite3 (fast CLI start)."""
    compiled = compile_search(query, Dialect.SQLITE, decode(query))
    return build_page(query, conn.execute(compiled.sql, compiled.params).fetchall())


def build_groups(
    by: str, rows: Sequence[Sequence[Any]], provider_rows: Sequence[Sequence[Any]]
) -> list[dict[str, Any]]:
    """Assemble groups from the ranked rows (cheapest, middle one or two, most expensive)."""
    width = len(SUMMARY_GROUPS[by])
    providers = {tuple(r[:width]): int(r[width]) for r in provider_rows}
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[:width])
        rank, count, offer_id, provider, price = row[width:]
        group = groups.setdefault(key, {"count": int(count), "middle": []})
        if rank == 1:
            group["min"], group["cheapest"] = price, (offer_id, provider)
        if rank == count:
            group["max"] = price
        if rank in ((count + 1) // 2, (count + 2) // 2):
            group["middle"].append(price)
    items = []
    for key, group in groups.items():
        middle = group["middle"]
        item: dict[str, Any] = dict(zip(SUMMARY_GROUPS[by], key, strict=True))
        item.update(
            offers=group["count"],
            providers=providers.get(key, 0),
            min_price_per_gpu_hour=group["min"],
            median_price_per_gpu_hour=divide_micros(sum(middle), len(middle)),
            max_price_per_gpu_hour=group["max"],
            cheapest_offer_id=group["cheapest"][0],
            cheapest_provider=group["cheapest"][1],
        )
        items.append(item)
    return finish_groups(items)


_GROUP_MONEY = ("min_price_per_gpu_hour", "median_price_per_gpu_hour", "max_price_per_gpu_hour")


def finish_groups(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Groups with micro-USD amounts (from SQL or the index) as API JSON, in a stable order."""
    for item in items:
        for name in _GROUP_MONEY:
            item[name] = micros_to_usd(int(item[name]))
    items.sort(key=lambda i: (i["gpu"], i.get("gpu_memory_gb", 0), i.get("gpu_variant") or ""))
    return items


def summarize_embedded(
    conn: sqlite3.Connection, query: OfferQuery, by: str = "gpu"
) -> list[dict[str, Any]]:
    ranked, providers = compile_summary(query, Dialect.SQLITE, by)
    return build_groups(
        by,
        conn.execute(ranked.sql, ranked.params).fetchall(),
        conn.execute(providers.sql, providers.params).fetchall(),
    )

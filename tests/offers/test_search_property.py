"""Property: for random markets and random queries, the API (and the embedded CLI path) return
exactly what a brute-force filter and sort over the same offers returns, page after page, and the
group-by-GPU summary equals a brute-force grouping. Runs on every database lane."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gp4u.db.engine import unit_of_work
from gp4u.kit.clock import FrozenClock
from gp4u.kit.money import divide_micros
from gp4u.offers import service
from gp4u.offers.embedded import search_offers_embedded, summarize_embedded
from gp4u.offers.models import MarketState, Offer, OfferPrice, SourceSync
from gp4u.offers.query import build_query
from gp4u.providers.base import ParseReport, ProviderOffer

GPU_SPELLINGS = [
    "H100 SXM",
    "NVIDIA H100 80GB HBM3",
    "H100_NVL",
    "A100-80GB",
    "A100",
    "A100 PCIe 40GB",
    "RTX 4090",
    "L40S",
    "Imaginary X1",
]
QUERY_GPUS = [
    "H100",
    "h100 sxm",
    "H100 NVL",
    "A100-80GB",
    "a100",
    "A100 PCIe",
    "rtx4090",
    "l40s",
    "Imaginary X1",
    "B200",
]
PROVIDERS = ["alpha", "beta", "gamma"]
REGIONS = ["us-east-1", "US-West-2", "eu-central-1", "Texas, US, NA", None]
COUNTRIES = ["US", "DE", "FI", None]
PRICES = [500_000, 1_250_000, 2_000_000, 2_500_000, 8_000_000]  # repeats make ties
SORTABLE = [
    "price_per_gpu_hour",
    "price_per_hour",
    "gpu_count",
    "gpu_memory_gb",
    "vcpus",
    "memory_gb",
    "disk_gb",
    "reliability",
    "id",
    "updated_at",
]


@st.composite
def offers(draw: st.DrawFn) -> list[tuple[ProviderOffer, int]]:
    """Offers and the minutes after T0 at which each was imported (so updated_at varies)."""
    count = draw(st.integers(1, 24))
    result = []
    for i in range(count):
        result.append(
            (
                ProviderOffer(
                    provider=draw(st.sampled_from(PROVIDERS)),
                    instance_type=f"type-{i}",
                    gpu_name=draw(st.sampled_from(GPU_SPELLINGS)),
                    gpu_count=draw(st.sampled_from([1, 2, 4, 8])),
                    price_per_hour=draw(st.sampled_from(PRICES)),
                    spot=draw(st.booleans()),
                    region=draw(st.sampled_from(REGIONS)),
                    country=draw(st.sampled_from(COUNTRIES)),
                    vcpus=draw(st.sampled_from([None, 8.0, 16.0, 26.5])),
                    memory_gb=draw(st.sampled_from([None, 64.0, 200.0])),
                    disk_gb=draw(st.sampled_from([None, 500.0])),
                    available=draw(st.booleans()),
                    reliability=draw(st.sampled_from([None, 0.9, 0.99])),
                ),
                draw(st.sampled_from([0, 0, 5, 10])),
            )
        )
    return result


def _list(values: list[str]) -> str:
    return "[" + ",".join(f'"{v}"' for v in values) + "]"


@st.composite
def conditions(draw: st.DrawFn) -> str:
    pick = draw(st.integers(0, 17))
    gpu = draw(st.sampled_from(QUERY_GPUS))
    if pick == 0:
        return f'gpu="{gpu}"'
    if pick == 1:
        return (
            f"gpu in {_list(draw(st.lists(st.sampled_from(QUERY_GPUS), min_size=1, max_size=3)))}"
        )
    if pick == 2:
        return f'gpu!="{gpu}"'
    if pick == 3:
        op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
        return f"gpu_count{op}{draw(st.sampled_from([1, 2, 4, 8]))}"
    if pick == 4:
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "=", "!="]))
        dollars = draw(st.sampled_from([0.5, 0.625, 1.25, 2.0, 2.5, 3.0]))
        field = draw(st.sampled_from(["price_per_gpu_hour", "price_per_hour"]))
        return f"{field}{op}{dollars}"
    if pick == 5:
        op = draw(st.sampled_from(["=", "!=", "in", "notin"]))
        if op in ("in", "notin"):
            names = draw(st.lists(st.sampled_from([*PROVIDERS, "ALPHA"]), min_size=1, max_size=2))
            return f"provider {op} {_list(names)}"
        return f"provider{op}{draw(st.sampled_from([*PROVIDERS, 'Beta']))}"
    if pick == 6:
        return f'region~"{draw(st.sampled_from(["us", "EAST", "-", "texas", "zz"]))}"'
    if pick == 7:
        value = draw(st.sampled_from(["us-east-1", "us-west-2", "null"]))
        return f"region{draw(st.sampled_from(['=', '!=']))}{value}"
    if pick == 8:
        return f"region notin {_list(draw(st.lists(st.sampled_from(['us-east-1', 'eu-central-1']), min_size=1)))}"
    if pick == 9:
        return (
            f"country in {_list(draw(st.lists(st.sampled_from(['us', 'DE', 'FI']), min_size=1)))}"
        )
    if pick == 10:
        return f"spot={draw(st.sampled_from(['true', 'false', 'yes', '0']))}"
    if pick == 11:
        return draw(
            st.sampled_from(["available=false", "available=true", "available in [true,false]"])
        )
    if pick == 12:
        return draw(
            st.sampled_from(
                ["reliability>0.95", "reliability=null", "reliability!=null", "reliability<=0.9"]
            )
        )
    if pick == 13:
        return (
            f"vcpus{draw(st.sampled_from(['<=', '>', '!=']))}{draw(st.sampled_from([8, 16, 26.5]))}"
        )
    if pick == 14:
        return f"memory_gb{draw(st.sampled_from(['=', '!=']))}{draw(st.sampled_from([64, 200]))}"
    if pick == 15:
        return f"updated_at>={draw(st.sampled_from(['2026-11-01T12:05:00Z', '2026-11-01T12:00:00+00:00']))}"
    if pick == 16:
        return f"gpu_variant{draw(st.sampled_from(['=SXM', '!=pcie', '=null', '!=null', ' in [nvl,sxm]']))}"
    return f"gpu_memory_gb{draw(st.sampled_from(['=80', '>40', '<=40', '!=94']))}"


@dataclass
class Query:
    text: str
    sort: str
    desc: bool
    limit: int


queries = st.builds(
    Query,
    text=st.lists(conditions(), max_size=3).map(" ".join),
    sort=st.sampled_from(SORTABLE),
    desc=st.booleans(),
    limit=st.integers(1, 7),
)


# ---- the brute-force reference: written from the documented semantics, not from the compiler ----


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _matches(row: dict[str, Any], field: str, op: str, values: tuple[Any, ...]) -> bool:
    value = row[field]
    if field == "gpu" and op != "~":

        def one(name: Any) -> bool:
            return (
                row["gpu"] == name.gpu
                and (name.variant is None or row["gpu_variant"] == name.variant)
                and (name.memory_gb is None or row["gpu_memory_gb"] == name.memory_gb)
            )

        hit = any(one(v) for v in values)
        return hit if op in ("=", "in") else not hit
    if op == "~":
        return value is not None and str(values[0]).lower() in value.lower()
    if values == (None,):
        return (value is None) if op == "=" else (value is not None)
    if op in ("=", "in"):
        return value is not None and _lower(value) in {_lower(v) for v in values}
    if op in ("!=", "notin"):
        return value is None or _lower(value) not in {_lower(v) for v in values}
    if value is None:
        return False
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    return compare[op](value, values[0])


def brute_force(rows: list[dict[str, Any]], query: Query) -> list[int]:
    parsed = build_query(query.text)
    chosen = [
        r
        for r in rows
        if (parsed.mentions_available or r["available"])
        and all(_matches(r, c.field, c.op, c.values) for c in parsed.conditions)
    ]
    present = [r for r in chosen if r[query.sort] is not None]
    missing = [r for r in chosen if r[query.sort] is None]
    present.sort(key=lambda r: (r[query.sort], r["id"]), reverse=query.desc)
    missing.sort(key=lambda r: r["id"], reverse=query.desc)
    return [r["id"] for r in present + missing]


def brute_summary(rows: list[dict[str, Any]], text: str, by: str = "gpu") -> list[dict[str, Any]]:
    fields = {"gpu": ("gpu", "gpu_memory_gb"), "variant": ("gpu", "gpu_memory_gb", "gpu_variant")}[
        by
    ]
    matching = set(brute_force(rows, Query(text, "id", False, 1)))
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in rows:
        if r["id"] in matching:
            groups.setdefault(tuple(r[f] for f in fields), []).append(r)
    result = []
    for key, members in groups.items():
        prices = sorted(m["price_per_gpu_hour"] for m in members)
        cheapest = min(members, key=lambda m: (m["price_per_gpu_hour"], m["id"]))
        middle = prices[(len(prices) - 1) // 2] + prices[len(prices) // 2]
        result.append(
            {
                **dict(zip(fields, key, strict=True)),
                "offers": len(members),
                "providers": len({m["provider"] for m in members}),
                "min_price_per_gpu_hour": prices[0] / 1e6,
                "median_price_per_gpu_hour": divide_micros(middle, 2) / 1e6,
                "max_price_per_gpu_hour": prices[-1] / 1e6,
                "cheapest_offer_id": cheapest["id"],
                "cheapest_provider": cheapest["provider"],
            }
        )
    result.sort(key=lambda i: (i["gpu"], i["gpu_memory_gb"], i.get("gpu_variant") or ""))
    return result


# ---- the property ----


async def _load_market(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    market: list[tuple[ProviderOffer, int]],
    clock: FrozenClock,
) -> list[dict[str, Any]]:
    async with engine.begin() as conn:
        for model in (OfferPrice, Offer, SourceSync):
            await conn.execute(delete(model))
        await conn.execute(update(MarketState).values(version=0))
    for minutes in sorted({m for _, m in market}):
        batch = [o for o, m in market if m <= minutes]
        by_provider: dict[str, ParseReport] = {p: ParseReport() for p in PROVIDERS}
        for offer in batch:
            by_provider[offer.provider].offers.append(offer)
        at = FrozenClock(clock.now() + timedelta(minutes=minutes))
        async with unit_of_work(sessions) as session:
            for provider, report in by_provider.items():
                await service.import_offers(
                    session,
                    source="catalog",
                    provider=provider,
                    report=report,
                    origin="property",
                    now=at.now(),
                )
    async with sessions() as session:
        objects = (await session.execute(select(Offer))).scalars().all()
        names = [column.name for column in Offer.__table__.columns]
        return [{c: getattr(o, c) for c in names} for o in objects]


async def _all_pages(client: httpx.AsyncClient, query: Query) -> list[int]:
    ids: list[int] = []
    cursor = None
    sort = f"-{query.sort}" if query.desc else query.sort
    for _ in range(100):
        params = {"q": query.text, "sort": sort, "limit": query.limit}
        if cursor:
            params["cursor"] = cursor
        response = await client.get("/api/v1/offers", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= query.limit
        ids.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            return ids
    raise AssertionError("pagination did not end")


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(market=offers(), probes=st.lists(queries, min_size=1, max_size=5))
async def test_api_search_equals_brute_force(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    app: FastAPI,
    clock: FrozenClock,
    db_url: str,
    market: list[tuple[ProviderOffer, int]],
    probes: list[Query],
) -> None:
    app.state.market.reset()  # this test deletes offers, which the product never does
    rows = await _load_market(engine, sessions, market, clock)
    sqlite_path = (
        db_url.removeprefix("sqlite+aiosqlite:///") if db_url.startswith("sqlite") else None
    )
    assert app.state.market.index is not None  # the API searches the index, not SQL
    for probe in probes:
        expected = brute_force(rows, probe)
        assert await _all_pages(client, probe) == expected, probe
        sort = f"-{probe.sort}" if probe.desc else probe.sort
        async with sessions() as session:  # the SQL path, which the embedded CLI uses
            page = await service.search_offers(
                session, build_query(probe.text, sort=sort, limit=1000)
            )
        assert [i["id"] for i in page.items] == expected, probe
        for by in ("gpu", "variant"):
            expected_groups = brute_summary(rows, probe.text, by)
            response = await client.get(
                "/api/v1/offers/summary", params={"q": probe.text, "by": by}
            )
            assert response.json()["items"] == expected_groups, (probe, by)
            async with sessions() as session:  # the SQL path
                assert (
                    await service.summarize(session, build_query(probe.text), by) == expected_groups
                )
        if sqlite_path:
            sort = f"-{probe.sort}" if probe.desc else probe.sort
            conn = sqlite3.connect(sqlite_path)
            try:
                page = search_offers_embedded(conn, build_query(probe.text, sort=sort, limit=1000))
                assert [i["id"] for i in page.items] == expected
                assert summarize_embedded(conn, build_query(probe.text)) == brute_summary(
                    rows, probe.text
                )
            finally:
                conn.close()

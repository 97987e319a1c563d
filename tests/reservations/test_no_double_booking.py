"""No double booking, ever, on both databases with real concurrent connections: a stampede on
one block, random intervals in waves, and writes that go around the application."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gp4u.accounts.principal import HOST, Principal, scopes_of
from gp4u.db.engine import unit_of_work
from gp4u.hosts import service as hosts
from gp4u.hosts.repository import BLOCKING_STATES
from gp4u.jobs.context import JobContext
from gp4u.kit.clock import FrozenClock
from gp4u.kit.errors import AppError
from gp4u.reservations import service as reservations
from gp4u.reservations.states import BLOCKING
from tests.conftest import T0
from tests.reservations.support import check_in, wallet

H = timedelta(hours=1)
ATTEMPTS = 2000
DAY0 = T0.replace(hour=0) + timedelta(days=1)
OVERLAPS = text(
    "SELECT count(*) FROM reservations a JOIN reservations b ON a.machine_id = b.machine_id "
    "AND a.id < b.id AND a.start_at < b.end_at AND b.start_at < a.end_at "
    "WHERE a.state IN ('pending', 'active') AND b.state IN ('pending', 'active')"
)


def host_principal(n: int = 1) -> Principal:
    roles = frozenset({HOST})
    return Principal(user_id=f"u_host{n:012d}", roles=roles, scopes=scopes_of(roles), via="token")


async def machines_online(
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    clock: FrozenClock,
    count: int,
    **terms: object,
) -> list[int]:
    """`count` listed machines of another user, each with its agent checked in."""
    ids = []
    for n in range(count):
        spec = hosts.MachineSpec(
            name=f"rig-{n}", gpu_name="RTX 4090", gpu_count=1, price_per_hour=2_000_000, **terms
        )
        async with unit_of_work(sessions) as session:
            made = await hosts.register(session, host_principal(), spec, clock.now())
        await check_in(client, made["agent_token"])
        ids.append(int(made["id"]))
    return ids


async def fund(client: httpx.AsyncClient, dollars: str) -> None:
    response = await client.post(
        "/api/v1/wallet/deposits", json={"amount": dollars, "source": "tok_ok"}
    )
    assert response.status_code == 201, response.text


async def overlaps(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(OVERLAPS)).scalar_one())


def test_blocking_states_agree() -> None:
    assert set(BLOCKING_STATES) == {s.value for s in BLOCKING}


async def test_a_stampede_on_one_block_books_each_machine_once(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    clock: FrozenClock,
) -> None:
    machine_ids = await machines_online(sessions, client, clock, 10)
    await fund(client, "10000")
    start, end = DAY0 + 10 * H, DAY0 + 12 * H

    async def attempt(n: int) -> httpx.Response:
        body = {
            "machine_id": machine_ids[n % 10],
            "start": start.isoformat(),
            "end": end.isoformat(),
        }
        return await client.post("/api/v1/reservations", json=body)

    answers = await asyncio.gather(*(attempt(n) for n in range(500)))
    statuses = [a.status_code for a in answers]
    assert statuses.count(201) == 10
    assert statuses.count(409) == 490, sorted(set(statuses))
    assert {a.json()["error"] for a in answers if a.status_code == 409} == {"BookingConflict"}
    assert sorted(a.json()["machine_id"] for a in answers if a.status_code == 201) == machine_ids
    assert await overlaps(engine) == 0
    assert (await wallet(client, {}))["held"] == 10 * 4.0


async def test_random_intervals_in_waves_never_overlap_and_refusals_were_real(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    clock: FrozenClock,
) -> None:
    machine_ids = await machines_online(sessions, client, clock, 5, min_hours=1 / 60)
    await fund(client, "100000")
    ctx: JobContext = app.state.jobs
    local = Principal(
        user_id="local",
        roles=frozenset({"renter"}),
        scopes=scopes_of(frozenset({"renter"})),
        via="local",
    )
    rng = random.Random(11)

    def interval() -> tuple[int, datetime, datetime]:
        start = DAY0 + timedelta(minutes=15 * rng.randrange(0, 48 * 4))
        length = timedelta(minutes=15 * rng.randrange(1, 4 * 6))
        return rng.choice(machine_ids), start, min(start + length, DAY0 + 48 * H)

    async def attempt(machine_id: int, start: datetime, end: datetime) -> bool:
        spec = reservations.BookSpec(start=start, end=end, machine_id=machine_id)
        try:
            await reservations.book(ctx, local, spec, None)
        except AppError as exc:
            assert exc.status_code == 409, exc.detail
            return False
        return True

    asked = [interval() for _ in range(ATTEMPTS)]
    outcomes: list[bool] = []
    for wave in range(0, len(asked), 50):
        batch = asked[wave : wave + 50]
        outcomes += await asyncio.gather(*(attempt(*a) for a in batch))
    accepted = [a for a, ok in zip(asked, outcomes, strict=True) if ok]
    rejected = [a for a, ok in zip(asked, outcomes, strict=True) if not ok]
    assert accepted and rejected
    for machine_id, start, end in rejected:
        assert any(m == machine_id and s < end and start < e for m, s, e in accepted), (
            f"refused {start}-{end} on {machine_id} without a clash"
        )
    assert await overlaps(engine) == 0
    async with engine.connect() as conn:
        kept = (await conn.execute(text("SELECT count(*) FROM reservations"))).scalar_one()
    assert kept == len(accepted)


async def test_back_to_back_blocks_both_fit(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    [machine_id] = await machines_online(sessions, client, clock, 1)
    await fund(client, "100")
    for start in (DAY0 + 10 * H, DAY0 + 11 * H):
        body = {
            "machine_id": machine_id,
            "start": start.isoformat(),
            "end": (start + H).isoformat(),
        }
        response = await client.post("/api/v1/reservations", json=body)
        assert response.status_code == 201, response.text


@pytest.mark.tampers_ledger
async def test_the_database_refuses_overlaps_written_around_the_application(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    clock: FrozenClock,
) -> None:
    [machine_id] = await machines_online(sessions, client, clock, 1)

    async def insert(start: datetime, end: datetime, state: str = "pending") -> int:
        async with engine.begin() as conn:
            found = await conn.execute(
                text(
                    "INSERT INTO reservations (owner, machine_id, host, state, start_at, end_at, "
                    "price_per_hour, charge_ids, held, captured, fee, created_at, extensions) "
                    "VALUES ('u_x', :m, 'u_host', :state, :s, :e, 1, '[]', 0, 0, 0, :s, 0) "
                    "RETURNING id"
                ),
                {"m": machine_id, "state": state, "s": start, "e": end},
            )
            return int(found.scalar_one())

    first = await insert(DAY0 + 10 * H, DAY0 + 12 * H)
    with pytest.raises(IntegrityError):
        await insert(DAY0 + 11 * H, DAY0 + 13 * H)
    with pytest.raises(IntegrityError):
        await insert(DAY0 + 9 * H, DAY0 + 14 * H, "active")
    await insert(DAY0 + 11 * H, DAY0 + 13 * H, "cancelled")  # freed time may overlap
    second = await insert(DAY0 + 12 * H, DAY0 + 13 * H)  # back to back
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE reservations SET end_at = :e WHERE id = :id"),
                {"e": DAY0 + 12 * H + timedelta(minutes=1), "id": first},
            )
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE reservations SET state = 'pending' WHERE state = 'cancelled'")
            )
    assert second > first
    assert await overlaps(engine) == 0

"""Helpers of the costs tests: the app with the costs API mounted, a client over ASGI or a real
port, session rows written straight to the database, and exact micro-dollar arithmetic."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.costs.endpoints import router
from gp4u.db.engine import unit_of_work
from gp4u.provisioning import billing
from gp4u.provisioning.models import GpuSession

USD = 1_000_000


def with_costs(app: FastAPI) -> FastAPI:
    """The app with the costs API (once: the app may mount it itself one day)."""
    if not any(getattr(r, "path", "").startswith(router.prefix) for r in app.routes):
        app.include_router(router)
    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """The app on a real local port, in a thread of this process, until the block ends."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def cost_of(price: int, minutes: int) -> int:
    """Independent of the code under test: the price of `minutes`, rounded up."""
    return -(-price * minutes // 60)


def micros(usd: float) -> int:
    return round(usd * USD)


async def add_session(
    sessions: async_sessionmaker[AsyncSession],
    owner: str,
    running_at: datetime,
    price: int,
    *,
    paid_minutes: int = 24 * 60,
    billing_end: datetime | None = None,
    state: str | None = None,
    key_prefix: str | None = None,
    gpu: str = "H100",
) -> int:
    """A session that ran from `running_at` (to `billing_end`, or still running), as its row;
    one that is still starting has not run (`running_at` is then when it was asked for)."""
    state = state or ("running" if billing_end is None else "terminated")
    ran = state != "starting"
    cost = None
    if billing_end is not None:
        cost = billing.accrued(price, running_at, billing_end, cost_of(price, paid_minutes))
    row = GpuSession(
        owner=owner,
        key_prefix=key_prefix,
        state=state,
        deployment="local",
        client_token=uuid.uuid4().hex,
        offer_id=1,
        provider="vastai",
        offer_ref="ref",
        gpu=gpu,
        gpu_count=1,
        instance_type="1x " + gpu,
        region=None,
        spot=False,
        price_per_hour=price,
        max_price_per_hour=price,
        paid_minutes=paid_minutes,
        image="image",
        env_keys=[],
        attempts=[],
        candidates=1,
        agent_token_digest=uuid.uuid4().hex,
        charge_ids=[],
        cost=cost,
        created_at=running_at - timedelta(minutes=2),
        running_at=running_at if ran else None,
        expires_at=running_at + timedelta(minutes=paid_minutes),
        hard_deadline=running_at + timedelta(days=14),
        ending_at=billing_end,
        billing_end=billing_end,
        destroy_attempts=0,
    )
    async with unit_of_work(sessions) as session:
        session.add(row)
        await session.flush()
        return row.id

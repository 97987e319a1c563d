"""The fault-matrix harness: the broker under test (its HTTP client and job context), the fake
Vast.ai it launches on, and the test's clock, which both of them read.

`BrokerRig` plays every outside party on demand: the renter (fund, launch, stop), the node agent
(check in, heartbeat) and the scheduler (`run_for` moves simulated time, running the lifecycle
manager, reconciliation and due outbox jobs at their intervals). `assert_clean` checks the
invariants every scenario must end with: no orphans, no ghosts, nothing left provisioning or
ending, foreign instances untouched, and once every session is final the provider no longer
billing us and no money held; `assert_billed` and `assert_paid` check the money to the minute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from gp4u.fakes.kit import FakeInstance, FakeState, Faults
from gp4u.jobs.context import JobContext
from gp4u.jobs.execute import run_job
from gp4u.kit.clock import FrozenClock
from gp4u.provisioning.models import GpuSession
from gp4u.provisioning.reconcile import reconcile
from gp4u.provisioning.states import FINAL, LIVE, State
from gp4u.settings import Settings
from tests.provisioning.support import ctx_of, drain, live_tagged

DEPOSIT = 100.0
VAST_OFFERS = "provider=vastai spot=false"


def per_minute_cost(price_per_hour: float, start: datetime, end: datetime) -> float:
    """What `start`..`end` of running time costs at an hourly price in dollars: every started
    minute, rounded up to the micro-dollar (computed here independently of the broker)."""
    micros = round(price_per_hour * 1_000_000)
    minutes = math.ceil((end - start).total_seconds() / 60 - 1e-9)
    return -(-micros * max(minutes, 0) // 60) / 1_000_000


def assert_billed(view: dict[str, Any], until: datetime | None = None) -> None:
    """The session cost its started minutes of running time, up to `until` (default: when it
    ended), at its hourly price."""
    end = until or at(view["ending_at"])
    expected = per_minute_cost(view["price_per_hour"], at(view["running_at"]), end)
    assert view["cost_so_far"] == expected, view


def at(text: str | None) -> datetime:
    """A timestamp of the API."""
    assert text is not None
    return datetime.fromisoformat(text)


def session_of_label(instance: FakeInstance) -> str:
    """The session part of our tag label (`gp4u-<deployment>-<session>`)."""
    return str(instance.attrs.get("label") or "").rsplit("-", 1)[-1]


@dataclass
class BrokerRig:
    """The broker, its fake provider and the shared clock, driven like the world would."""

    client: httpx.AsyncClient
    app: FastAPI
    vast: FakeState
    clock: FrozenClock
    next_reconcile: datetime | None = None
    reconcile_reports: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ctx(self) -> JobContext:
        return ctx_of(self.app)

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    def advance(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))

    # --- the renter ----------------------------------------------------------------------------

    async def fund(self, amount: float = DEPOSIT) -> None:
        paid = await self.client.post(
            "/api/v1/wallet/deposits", json={"amount": f"{amount:.2f}", "source": "tok_ok"}
        )
        assert paid.status_code in (200, 201), paid.text

    async def sync(self) -> None:
        synced = await self.client.post("/api/v1/providers/vastai/sync")
        assert synced.json()["status"] == "ok", synced.text

    async def offers(self, query: str = VAST_OFFERS) -> list[dict[str, Any]]:
        """Matching offers, cheapest first."""
        page = await self.client.get(
            "/api/v1/offers", params={"q": query, "sort": "price_per_hour", "limit": 1000}
        )
        items: list[dict[str, Any]] = page.json()["items"]
        assert items, page.text
        return items

    async def ready(self) -> dict[str, Any]:
        """Fund the wallet and sync the market; the cheapest on-demand Vast offer."""
        await self.fund()
        await self.sync()
        return (await self.offers())[0]

    async def create(self, offer_id: int, hours: float = 2.0, **extra: Any) -> int:
        """Ask for a session (committed with its launch job, which has not run yet)."""
        created = await self.client.post(
            "/api/v1/sessions", json={"offer_id": offer_id, "hours": hours, **extra}
        )
        assert created.status_code == 202, created.text
        return int(created.json()["id"])

    async def launch(self, offer_id: int, hours: float = 2.0, **extra: Any) -> int:
        """Ask for a session and run its launch job."""
        session_id = await self.create(offer_id, hours, **extra)
        assert "sessions.launch" in await self.drain()
        return session_id

    async def view(self, session_id: int) -> dict[str, Any]:
        got = await self.client.get(f"/api/v1/sessions/{session_id}")
        assert got.status_code == 200, got.text
        body: dict[str, Any] = got.json()
        return body

    async def stop(self, session_id: int) -> dict[str, Any]:
        stopped = await self.client.post(f"/api/v1/sessions/{session_id}/stop")
        assert stopped.status_code == 200, stopped.text
        body: dict[str, Any] = stopped.json()
        return body

    async def wallet(self) -> dict[str, Any]:
        body: dict[str, Any] = (await self.client.get("/api/v1/wallet")).json()
        return body

    async def audit(self, action: str) -> list[dict[str, Any]]:
        page = await self.client.get("/api/v1/audit", params={"action": action})
        assert page.status_code == 200, page.text
        items: list[dict[str, Any]] = page.json()["items"]
        return items

    async def notifications(self, kind: str) -> list[dict[str, Any]]:
        page = await self.client.get("/api/v1/alerts/notifications", params={"limit": 500})
        assert page.status_code == 200, page.text
        return [n for n in page.json()["items"] if n["kind"] == kind]

    async def assert_paid(self, *views: dict[str, Any]) -> None:
        """The wallet holds nothing and paid exactly what these (all) sessions cost."""
        wallet = await self.wallet()
        assert wallet["held"] == 0
        assert wallet["available"] == round(DEPOSIT - sum(v["cost_so_far"] for v in views), 6)

    # --- the node agent ------------------------------------------------------------------------

    def instance(self, session_id: int) -> FakeInstance:
        """The live instance tagged for the session at the fake (exactly one)."""
        found: list[FakeInstance] = live_tagged(self.vast)
        [mine] = [i for i in found if session_of_label(i) == str(session_id)]
        return mine

    async def check_in(self, session_id: int, machine: FakeInstance | None = None) -> str:
        """Register the agent of `machine` (default: the one the session records) with the token
        the broker gave that machine; the agent secret for heartbeats."""
        if machine is None:
            instance_id = (await self.row(session_id)).instance_id
            assert instance_id is not None
            machine = self.vast.instances[instance_id]
        token = machine.attrs["env"]["GP4U_AGENT_TOKEN"]
        registered = await self.client.post("/api/v1/agent/register", json={"token": token})
        assert registered.status_code == 200, registered.text
        return str(registered.json()["agent_secret"])

    async def beat(self, secret: str) -> str:
        """One heartbeat; the action the broker answers (continue or shutdown)."""
        beat = await self.client.post(
            "/api/v1/agent/heartbeat", json={}, headers={"Authorization": f"Bearer {secret}"}
        )
        assert beat.status_code == 200, beat.text
        return str(beat.json()["action"])

    async def running(self, offer_id: int, hours: float = 2.0) -> tuple[int, str]:
        """A launched session whose agent checked in: (session id, agent secret)."""
        session_id = await self.launch(offer_id, hours)
        secret = await self.check_in(session_id)
        assert (await self.view(session_id))["state"] == State.RUNNING
        return session_id, secret

    # --- the provider --------------------------------------------------------------------------

    def faults(self, **switches: Any) -> None:
        """Merge fault switches into the fake's, as `POST /_fake/faults` does."""
        self.vast.faults = Faults.model_validate({**self.vast.faults.model_dump(), **switches})

    def heal(self) -> None:
        self.vast.faults = Faults()

    def foreign(self, label: str | None) -> FakeInstance:
        """An instance someone else runs in the same account, labelled or not."""
        attrs = {"label": label} if label is not None else {}
        return self.vast.create_instance(attrs, external=True, price_per_hour=250_000)

    # --- the scheduler -------------------------------------------------------------------------

    async def drain(self) -> list[str]:
        return await drain(self.ctx)

    async def reconcile(self, *, startup: bool = False) -> dict[str, Any]:
        if startup:
            report = await reconcile(self.ctx, startup=True)
        else:
            report = await run_job(self.ctx, "sessions.reconcile")
        self.reconcile_reports.append(report)
        self.next_reconcile = self.clock.now() + timedelta(seconds=self.settings.reconcile_seconds)
        return report

    async def tick(self) -> dict[str, Any]:
        report: dict[str, Any] = await run_job(self.ctx, "sessions.lifecycle")
        await self.drain()
        return report

    async def run_for(self, seconds: float, *, agents: Sequence[str] = ()) -> None:
        """Let `seconds` of simulated time pass in lifecycle intervals: the agents heartbeat,
        reconciliation runs when its interval is due, then the lifecycle manager and the due
        outbox jobs."""
        step = timedelta(seconds=self.settings.lifecycle_seconds)
        end = self.clock.now() + timedelta(seconds=seconds)
        while self.clock.now() + step <= end:
            self.clock.advance(step)
            for secret in agents:
                await self.beat(secret)
            if self.next_reconcile is None or self.clock.now() >= self.next_reconcile:
                await self.reconcile()
            await self.tick()

    async def settle(self, cycles: int = 2) -> None:
        """Run `cycles` reconciliation cycles (reconcile, then lifecycle ticks until the next)."""
        self.next_reconcile = None
        await self.run_for(cycles * self.settings.reconcile_seconds)

    # --- what the database says ----------------------------------------------------------------

    async def row(self, session_id: int) -> GpuSession:
        async with self.ctx.sessions() as session:
            gs = await session.get(GpuSession, session_id)
        assert gs is not None
        return gs

    async def rows(self) -> list[GpuSession]:
        async with self.ctx.sessions() as session:
            return list((await session.scalars(select(GpuSession).order_by(GpuSession.id))).all())

    # --- the invariants ------------------------------------------------------------------------

    async def orphans(self) -> list[str]:
        """Our tagged instances alive at the fake without a live session."""
        live = {str(gs.id) for gs in await self.rows() if State(gs.state) in LIVE}
        return [i.id for i in live_tagged(self.vast) if session_of_label(i) not in live]

    async def ghosts(self) -> list[int]:
        """Sessions live here whose instance the fake does not run."""
        alive = {i.id for i in self.vast.live_instances()}
        return [
            gs.id
            for gs in await self.rows()
            if gs.state in (State.STARTING, State.RUNNING) and gs.instance_id not in alive
        ]

    def untouched(self, instance: FakeInstance) -> bool:
        """Alive, and never named in a call to the provider (show, destroy, ssh)."""
        path = f"/instances/{instance.id}/"
        named = [r for r in self.vast.requests if path in r["path"]]
        return instance.state() != "terminated" and not named

    async def assert_clean(self, foreign: Sequence[FakeInstance] = ()) -> None:
        """No orphans, no ghosts, nothing waiting to be destroyed, foreign instances untouched;
        once every session is final, nothing of ours billed at the provider and nothing held."""
        assert await self.orphans() == []
        assert await self.ghosts() == []
        rows = await self.rows()
        unsettled = (State.PROVISIONING, State.ENDING)
        assert [(gs.id, gs.state) for gs in rows if gs.state in unsettled] == []
        assert [i.id for i in foreign if not self.untouched(i)] == []
        if all(State(gs.state) in FINAL for gs in rows):
            billing = [b for b in self.vast.billing() if not b["external"]]
            assert [b["id"] for b in billing if b["terminated"] is None] == []
            assert (await self.wallet())["held"] == 0
            ran = [gs for gs in rows if gs.state == State.TERMINATED]
            assert all(gs.destroy_confirmed_at is not None for gs in ran)

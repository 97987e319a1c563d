"""Clusters on GP4U hosts' machines, with the test's clock, on both databases: the planner uses
host machines like any launchable offer (never the renter's own), each host-owned member books
its machine's time as a reservation of the cluster's (so nobody else can book it meanwhile)
and runs as a session through the `gp4u` provider (the machine's host agent starts it; here
the test speaks the host agents' side of the protocol). When the cluster ends, what the
host-owned members cost is split among their owners by contribution score, to the micro-dollar,
each less the platform fee. A machine whose time is taken is replaced by a re-plan."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from gp4u.accounts.keyring import keyring
from gp4u.accounts.principal import Principal, local_principal
from gp4u.app import create_app
from gp4u.clusters.models import Cluster
from gp4u.clusters.throughput import (
    HEALTHY_GEMM_SHARE,
    efficiency_of,
    gpu_pflops,
    instance_pflops,
    scaling_factor,
)
from gp4u.db.engine import unit_of_work
from gp4u.hosts import repository as hosts_repo
from gp4u.hosts import service as hosts
from gp4u.jobs.context import JobContext
from gp4u.jobs.execute import run_job
from gp4u.kit.clock import FrozenClock
from gp4u.ledger import service as ledger
from gp4u.provisioning import lifecycle as session_lifecycle
from gp4u.reservations import lifecycle as reservation_manager
from gp4u.settings import Settings
from gp4u.worker.inprocess import run_due_jobs
from tests.conftest import T0
from tests.factories import asgi_client
from tests.reservations.support import beat
from tests.reservations.test_no_double_booking import fund, host_principal, overlaps

GPUS = {
    "RTX 4090": {"name": "NVIDIA GeForce RTX 4090", "memory_gb": 23.99},
    "RTX 3090": {"name": "NVIDIA GeForce RTX 3090", "memory_gb": 24.0},
}
FEE_BPS = 1_000  # 10 %


@pytest.fixture
def host_app(settings: Settings, engine: AsyncEngine, clock: FrozenClock) -> FastAPI:
    configured = {
        "providers": "",
        "host_sessions_provider": "gp4u",
        "platform_fee_bps": FEE_BPS,
    }
    return create_app(settings.model_copy(update=configured), clock=clock, background_jobs=False)


@pytest.fixture
async def api(host_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(host_app) as client:
        yield client


class Hosts:
    """GP4U hosts' machines and their host agents, and the session agents of the runs they
    start, driven by the test's clock. A host agent reports the runs it was handed running,
    a stopped one exited (code 0), and forgets one the answer no longer lists."""

    def __init__(self, app: FastAPI, api: httpx.AsyncClient, clock: FrozenClock) -> None:
        self.ctx: JobContext = app.state.jobs
        self.api, self.clock = api, clock
        self.secrets: dict[int, str] = {}  # machine id → its host agent's secret
        self.owners: dict[int, Principal] = {}
        self.runs: dict[int, dict[str, dict[str, Any]]] = {}  # machine → run id → report
        self.agents: dict[str, str] = {}  # run id → its session agent's secret

    async def machine(self, n: int, gpu: str, price: int, owner: Principal | None = None) -> int:
        """Host `n` (or `owner`) lists a machine with one `gpu` at `price` micro-USD/h; its
        agent checks in."""
        owner = owner or host_principal(n)
        spec = hosts.MachineSpec(
            name=f"rig-{n}", gpu_name=gpu, gpu_count=1, price_per_hour=price, min_hours=0.25
        )
        async with unit_of_work(self.ctx.sessions) as session:
            made = await hosts.register(session, owner, spec, self.clock.now())
        facts = {"gpus": [GPUS[gpu]], "cpu_count": 16, "hostname": f"rig-{n}"}
        checked = await self.api.post(
            "/api/v1/hosts/agent/register", json={"token": made["agent_token"], "facts": facts}
        )
        assert checked.status_code == 200, checked.text
        machine_id = int(made["id"])
        self.secrets[machine_id], self.owners[machine_id] = checked.json()["agent_secret"], owner
        self.runs[machine_id] = {}
        return machine_id

    async def publish(self) -> None:
        async with unit_of_work(self.ctx.sessions) as session:
            await hosts.publish(session, self.ctx.settings, self.clock.now())

    async def host_beats(self) -> None:
        for machine_id, secret in self.secrets.items():
            runs = self.runs[machine_id]
            answer = await beat(self.api, secret, list(runs.values()))
            wanted = {order["id"]: order for order in answer["runs"]}
            for run_id in set(runs) - set(wanted):
                del runs[run_id]
            for run_id, order in wanted.items():
                if order["action"] == "stop":
                    runs[run_id] = {"id": run_id, "state": "exited", "exit_code": 0}
                elif run_id not in runs and order["env"]:
                    runs[run_id] = {"id": run_id, "state": "running", "exit_code": None}
                    await self._session_agent_checks_in(run_id, order["env"])

    async def _session_agent_checks_in(self, run_id: str, env: dict[str, str]) -> None:
        response = await self.api.post(
            "/api/v1/agent/register", json={"token": env["GP4U_AGENT_TOKEN"]}
        )
        assert response.status_code == 200, response.text
        self.agents[run_id] = response.json()["agent_secret"]

    async def step(self, seconds: float = 0) -> None:
        """Time passes; every agent beats; jobs, sessions and clusters take their turn."""
        self.clock.advance(timedelta(seconds=seconds))
        await self.host_beats()
        for secret in self.agents.values():
            await self.api.post(
                "/api/v1/agent/heartbeat",
                json={"facts": None},
                headers={"Authorization": f"Bearer {secret}"},
            )
        await run_due_jobs(self.ctx, 5)
        await self.host_beats()
        await run_due_jobs(self.ctx, 5)
        await session_lifecycle.tick(self.ctx)
        await run_job(self.ctx, "clusters.manage")

    async def workloads_done(self) -> None:
        for secret in self.agents.values():
            done = await self.api.post(
                "/api/v1/agent/done",
                json={"exit_code": 0},
                headers={"Authorization": f"Bearer {secret}"},
            )
            assert done.status_code == 200, done.text

    async def earnings(self, machine_id: int) -> int:
        async with self.ctx.sessions() as session:
            return await ledger.earnings(session, self.owners[machine_id].owner)


@pytest.fixture
async def fleet(host_app: FastAPI, api: httpx.AsyncClient, clock: FrozenClock) -> Hosts:
    await fund(api, "100")
    return Hosts(host_app, api, clock)


async def job_for(
    fleet: Hosts, machine_ids: list[int], hours: float, share: float
) -> dict[str, Any]:
    """A job `share` of what these machines deliver together in `hours`: no fewer machines
    can do it in time."""
    async with fleet.ctx.sessions() as session:
        machines = [await hosts_repo.get(session, i) for i in machine_ids]
    speeds = instance_pflops(
        [m.gpu for m in machines if m],
        [m.gpu_variant for m in machines if m],
        [float(m.gpu_memory_gb or 0) for m in machines if m],
        [m.gpu_count for m in machines if m],
        "bf16",
    )
    total = float(sum(speeds)) * scaling_factor(len(machine_ids)) * hours
    assert math.isfinite(total) and total > 0
    return {
        "compute": {"pflop_hours": round(total * share, 6)},
        "deadline_hours": hours,
        "max_machines": 4,
    }


async def _machine_of(api: httpx.AsyncClient, offer_id: int) -> int:
    got = await api.get(f"/api/v1/offers/{offer_id}")
    assert got.status_code == 200, got.text
    return int(got.json()["offer_ref"])


async def _cluster(api: httpx.AsyncClient, cluster_id: int) -> dict[str, Any]:
    got = await api.get(f"/api/v1/clusters/{cluster_id}")
    assert got.status_code == 200, got.text
    return dict(got.json())


async def test_host_owned_members_book_their_time_and_split_the_pool_by_contribution(
    fleet: Hosts, api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    fast = await fleet.machine(1, "RTX 4090", 400_000)
    slow = await fleet.machine(2, "RTX 3090", 300_000)
    await fleet.publish()
    created = await api.post("/api/v1/clusters", json=await job_for(fleet, [fast, slow], 2, 0.9))
    assert created.status_code == 201, created.text
    cluster = created.json()
    members = cluster["members"]
    assert len(members) == 2 and all(m["host_owned"] for m in members), members
    assert {m["provider"] for m in members} == {"gp4u"}

    started = await api.post(f"/api/v1/clusters/{cluster['id']}/start")
    assert started.status_code == 202, started.text
    # Each member's machine time is booked for the cluster: nobody else can book it now.
    booked = [m["reservation_id"] for m in started.json()["members"]]
    assert all(booked), started.json()["members"]
    await reservation_manager.manage(fleet.ctx, keyring(fleet.ctx.settings).box_key)
    for rid in booked:  # the reservations manager leaves the cluster's bookings alone
        reservation = (await api.get(f"/api/v1/reservations/{rid}")).json()
        assert reservation["state"] == "active" and reservation["cluster_id"] == cluster["id"]
        assert reservation["held"] == 0 and reservation["session_id"]
    # They are the cluster's: not cancelled or extended on their own.
    refused = await api.post(f"/api/v1/reservations/{booked[0]}/cancel")
    assert refused.status_code == 409 and "cluster" in refused.json()["detail"], refused.text
    later = (T0 + timedelta(hours=9)).isoformat()
    refused = await api.post(f"/api/v1/reservations/{booked[0]}/extend", json={"end": later})
    assert refused.status_code == 409 and "cluster" in refused.json()["detail"], refused.text
    await fleet.step()
    running = await _cluster(api, cluster["id"])
    assert running["state"] == "running", running["events"]
    assert running["progress"]["machines_running"] == 2

    for _ in range(6):  # an hour, with every agent beating
        await fleet.step(600)
    await fleet.workloads_done()
    for _ in range(3):  # sessions end, runs stop at the next host beat, destroys are confirmed
        await fleet.step(300)
    final = await _cluster(api, cluster["id"])
    assert final["state"] == "completed", final["events"]

    # The pool is what the host-owned members cost; it is split by contribution exactly.
    ended = final["members"]
    pool = sum(round(m["cost_so_far"] * 1e6) for m in ended)
    assert pool > 0 and final["money"]["owed_to_hosts"] == 0
    paid = {m["reservation_id"]: round(m["paid_to_host"] * 1e6) for m in ended}
    assert sum(paid.values()) == pool
    scores = [m["contribution"] for m in ended]
    assert math.isclose(sum(scores), 1.0, abs_tol=1e-5)
    for m in ended:
        assert abs(round(m["paid_to_host"] * 1e6) - pool * m["contribution"]) <= 1 + pool * 1e-6
    # The faster machine delivered more, so its host gets more than its own price × time.
    by_machine = {await _machine_of(api, m["offer_id"]): m for m in ended}
    assert by_machine[fast]["contribution"] > by_machine[slow]["contribution"]
    assert by_machine[fast]["paid_to_host"] > by_machine[fast]["cost_so_far"]
    for machine_id, member in by_machine.items():
        share = round(member["paid_to_host"] * 1e6)
        assert await fleet.earnings(machine_id) == share - share * FEE_BPS // 10_000

    # The renter paid exactly the members' cost; nothing is held; the time is free again.
    money = (await api.get("/api/v1/wallet")).json()
    assert money["held"] == 0
    assert math.isclose(money["available"], 100 - pool / 1e6, abs_tol=1e-6)
    assert math.isclose(final["money"]["captured"], pool / 1e6, abs_tol=1e-6)
    for rid in booked:
        reservation = (await api.get(f"/api/v1/reservations/{rid}")).json()
        assert reservation["state"] == "completed", reservation
    assert await overlaps(engine) == 0


async def test_a_host_machine_whose_time_is_taken_is_replaced_and_the_renters_own_is_never_used(
    fleet: Hosts, api: httpx.AsyncClient
) -> None:
    first = await fleet.machine(1, "RTX 4090", 300_000)
    spare = await fleet.machine(2, "RTX 4090", 500_000)
    await fleet.machine(3, "RTX 4090", 100_000, owner=local_principal())  # the renter's own
    await fleet.publish()
    created = await api.post("/api/v1/clusters", json=await job_for(fleet, [first], 2, 0.9))
    assert created.status_code == 201, created.text
    cluster = created.json()
    [member] = cluster["members"]
    assert await _machine_of(api, member["offer_id"]) == first

    # A booking made meanwhile (here the renter's own) takes the cheap machine's time.
    other = await api.post(
        "/api/v1/reservations",
        json={
            "machine_id": first,
            "start": (T0 + timedelta(minutes=1)).isoformat(),
            "end": (T0 + timedelta(hours=5)).isoformat(),
        },
    )
    assert other.status_code == 201, other.text
    started = await api.post(f"/api/v1/clusters/{cluster['id']}/start")
    assert started.status_code == 202, started.text
    lost = started.json()["members"][0]
    assert lost["state"] == "failed" and "not free" in lost["failure"], lost
    assert lost["session_id"] is None and lost["reservation_id"] is None
    await fleet.step()
    replanned = await _cluster(api, cluster["id"])
    assert replanned["replans"] == 1, replanned["events"]
    [added] = [m for m in replanned["members"] if m["round"] == 1]
    assert await _machine_of(api, added["offer_id"]) == spare and added["reservation_id"]

    stopped = await api.post(f"/api/v1/clusters/{cluster['id']}/stop")
    assert stopped.status_code == 200, stopped.text
    for _ in range(3):
        await fleet.step(300)
    final = await _cluster(api, cluster["id"])
    assert final["state"] == "stopped", final["events"]
    money = (await api.get("/api/v1/wallet")).json()
    assert money["held"] == other.json()["held"]  # only the other booking's hold is left


async def test_a_host_price_rise_fails_its_member_and_time_never_used_counts_no_rental(
    fleet: Hosts, api: httpx.AsyncClient
) -> None:
    first = await fleet.machine(1, "RTX 4090", 300_000)
    await fleet.publish()
    job = await job_for(fleet, [first], 2, 0.9)
    created = await api.post("/api/v1/clusters", json=job)
    assert created.status_code == 201, created.text
    cluster = created.json()
    async with unit_of_work(fleet.ctx.sessions) as session:  # the host raises its price
        machine = await hosts_repo.get(session, first, lock="update")
        assert machine is not None
        machine.price_per_hour = 400_000
    started = await api.post(f"/api/v1/clusters/{cluster['id']}/start")
    assert started.status_code == 202, started.text
    [lost] = started.json()["members"]
    assert lost["state"] == "failed" and "price rose" in lost["failure"], lost
    assert lost["reservation_id"] is None
    assert (await api.post(f"/api/v1/clusters/{cluster['id']}/stop")).status_code == 200

    # A cluster at the new price, stopped before the host's agent started anything: its
    # booked time is cancelled and the machine's record counts no rental.
    await fleet.publish()
    again = await api.post("/api/v1/clusters", json=job)
    assert again.status_code == 201, again.text
    started = await api.post(f"/api/v1/clusters/{again.json()['id']}/start")
    [member] = started.json()["members"]
    assert member["reservation_id"] and member["state"] == "started", member
    assert (await api.post(f"/api/v1/clusters/{again.json()['id']}/stop")).status_code == 200
    for _ in range(3):
        await fleet.step(300)
    for made in (cluster, again.json()):
        final = await _cluster(api, made["id"])
        assert final["state"] == "stopped", final["events"]
    reservation = (await api.get(f"/api/v1/reservations/{member['reservation_id']}")).json()
    assert reservation["state"] == "cancelled", reservation
    async with fleet.ctx.sessions() as session:
        machine = await hosts_repo.get(session, first)
        assert machine is not None
        assert (machine.rentals_completed, machine.rentals_failed) == (0, 0)
    money = (await api.get("/api/v1/wallet")).json()
    assert money["held"] == 0 and money["available"] == 100


async def _report_throughput(fleet: Hosts, machine_id: int, gpu: str, bf16: float) -> None:
    """The machine's host agent sends facts with its benchmark's figures, as after a start."""
    measured = {"method": "test", "devices": 1, "tflops": {"bf16": bf16}}
    facts = {"gpus": [GPUS[gpu]], "throughput": measured}
    response = await fleet.api.post(
        "/api/v1/hosts/agent/heartbeat",
        json={"facts": facts, "runs": []},
        headers={"Authorization": f"Bearer {fleet.secrets[machine_id]}"},
    )
    assert response.status_code == 200, response.text
    await run_due_jobs(fleet.ctx, 5)  # the changed figures republish the machine's offer


async def _plan(api: httpx.AsyncClient, pflop_hours: float) -> list[dict[str, Any]]:
    body = {"compute": {"pflop_hours": pflop_hours}, "deadline_hours": 2, "max_machines": 4}
    planned = await api.post("/api/v1/clusters/plan", json=body)
    assert planned.status_code == 200, planned.text
    return list(planned.json()["exact"]["members"])


async def test_a_machine_measured_slower_than_its_spec_is_planned_at_its_measured_speed(
    fleet: Hosts, api: httpx.AsyncClient
) -> None:
    healthy = await fleet.machine(1, "RTX 4090", 400_000)
    throttled = await fleet.machine(2, "RTX 4090", 250_000)  # cheaper, but power-capped
    spec = gpu_pflops("RTX4090", None, 24.0, "bf16")
    healthy_tflops = spec * 1000 / efficiency_of("RTX4090") * HEALTHY_GEMM_SHARE["bf16"]
    await _report_throughput(fleet, healthy, "RTX 4090", healthy_tflops * 1.05)
    await _report_throughput(fleet, throttled, "RTX 4090", healthy_tflops / 3)

    # The owner sees the figures; the offer publishes them.
    async with fleet.ctx.sessions() as session:
        machine = await hosts_repo.get(session, throttled)
        assert machine is not None
        seen = hosts.machine_view(machine, fleet.clock.now(), fleet.ctx.settings)
    assert seen["agent"]["throughput"]["tflops"] == {"bf16": pytest.approx(healthy_tflops / 3)}
    offers = {await _machine_of(api, m["offer_id"]): m for m in await _plan(api, 2.2 * spec)}
    offer = (await api.get(f"/api/v1/offers/{offers[throttled]['offer_id']}")).json()
    assert offer["measured_bf16_tflops"] == pytest.approx(healthy_tflops / 3, rel=1e-3)
    assert offer["measured_fp32_tflops"] is None

    # A job more than the healthy machine does in time takes both, the slow one at its speed.
    assert offers[throttled]["measured"] and not offers[healthy]["measured"]
    assert offers[throttled]["pflops_each"] == pytest.approx(spec / 3, rel=1e-4)
    assert offers[healthy]["pflops_each"] == pytest.approx(spec, rel=1e-4)  # capped at spec
    # A small job: by spec the cheaper machine would win; at its measured speed it costs more.
    [only] = await _plan(api, 0.4 * spec)
    assert await _machine_of(api, only["offer_id"]) == healthy

    # A cluster plans the same way; the slow member's stored speed sets its share of the pay.
    created = await api.post(
        "/api/v1/clusters",
        json={"compute": {"pflop_hours": 2.2 * spec}, "deadline_hours": 2, "max_machines": 4},
    )
    assert created.status_code == 201, created.text
    cluster = created.json()
    members = {await _machine_of(api, m["offer_id"]): m for m in cluster["members"]}
    assert members[throttled]["pflops"] == pytest.approx(spec / 3, rel=1e-4)
    assert members[healthy]["pflops"] == pytest.approx(spec, rel=1e-4)
    stored = {await _machine_of(api, m["offer_id"]): m for m in cluster["plan"]["members"]}
    assert stored[throttled]["measured"] and not stored[healthy]["measured"]
    # A plan stored before members said how their speed was known still reads.
    async with unit_of_work(fleet.ctx.sessions) as session:
        row = await session.get(Cluster, cluster["id"])
        assert row is not None
        exact = dict(row.plan["exact"])
        exact["members"] = [
            {k: v for k, v in m.items() if k != "measured"} for m in exact["members"]
        ]
        row.plan = {**row.plan, "exact": exact}
    old = await api.get(f"/api/v1/clusters/{cluster['id']}")
    assert old.status_code == 200, old.text
    assert [m["measured"] for m in old.json()["plan"]["members"]] == [False, False]
    assert (await api.post(f"/api/v1/clusters/{cluster['id']}/stop")).status_code == 200

    # An inflated benchmark cannot buy speed (or a larger share of a cluster's pay).
    await _report_throughput(fleet, throttled, "RTX 4090", healthy_tflops * 10)
    offers = {await _machine_of(api, m["offer_id"]): m for m in await _plan(api, 2.2 * spec)}
    assert offers[throttled]["pflops_each"] == pytest.approx(spec, rel=1e-4)
    assert not offers[throttled]["measured"]

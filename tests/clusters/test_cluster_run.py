"""Running a cluster on the fake Vast.ai with the test's clock: created from a plan with one
hold, started as one session per member (tagged with the cluster), a member whose launch the
provider refuses replaced by a re-plan that excludes its offer, monitored (members, delivered
compute, cost so far), and settled when every member's machine is confirmed gone: each member
paid from the cluster's hold, the rest released, contribution shares summing to 1. The ledger
audit runs after every test (tests/conftest.py)."""

from __future__ import annotations

import math

from gp4u.jobs.execute import run_job
from gp4u.provisioning.states import State
from tests.clusters import run_support as cl
from tests.provisioning.conftest import (  # noqa: F401
    broker,
    broker_app,
    broker_settings,
    vast,
    vast_app,
    vast_server,
)
from tests.provisioning.fixtures import fake_time_fixture, rig_fixture  # noqa: F401
from tests.provisioning.rig import DEPOSIT, BrokerRig


async def _run_members(rig: BrokerRig, cluster_id: int) -> dict[int, str]:
    """Launch every member's session and check in the agents of those that launched."""
    await rig.drain()
    secrets = {}
    for member in (await cl.view(rig, cluster_id))["members"]:
        gs = await rig.row(member["session_id"]) if member["session_id"] else None
        if gs is not None and gs.state == State.STARTING:
            secrets[gs.id] = await rig.check_in(gs.id)
    return secrets


async def _wind_down(rig: BrokerRig) -> None:
    """Let ended members be destroyed (two reconciliation cycles), then a cluster pass."""
    await rig.drain()
    await rig.settle()
    await run_job(rig.ctx, "clusters.manage")


async def test_a_cluster_runs_replaces_a_refused_member_and_settles(rig: BrokerRig) -> None:
    await rig.ready()
    created = await cl.create(rig, await cl.job(rig))
    members = created["members"]
    assert created["state"] == "planned" and len(members) >= 2
    held = (await rig.wallet())["held"]
    assert held == created["money"]["estimate"] > 0
    assert math.isclose(
        created["money"]["estimate"], created["plan"]["cost"], abs_tol=0.01 * len(members)
    )

    # The provider refuses the first member's offer once.
    refused = members[0]
    ref = await cl.offer_ref(rig, refused["offer_id"])
    rig.faults(paths=[f"/api/v0/asks/{ref}/"], fail_next=1, fail_status=400)
    started = await cl.start(rig, created["id"])
    assert started["state"] == "starting"
    assert all(m["session_id"] for m in started["members"])
    secrets = await _run_members(rig, created["id"])
    rig.heal()

    # Each session is tagged for the cluster and launched on its own planned offer, no failover.
    first = await rig.row(started["members"][0]["session_id"])
    assert first.cluster_id == created["id"] and len(first.attempts) == 1
    assert first.state in (State.ENDING, State.FAILED)

    # The manager sees the refused member and re-plans the rest without its offer.
    await rig.tick()
    await run_job(rig.ctx, "clusters.manage")
    after = await cl.view(rig, created["id"])
    assert after["replans"] == 1, after["events"]
    assert refused["offer_id"] in after["excluded_offers"]
    lost = next(m for m in after["members"] if m["id"] == refused["id"])
    assert lost["state"] == "failed" and lost["failure"]
    added = [m for m in after["members"] if m["round"] == 1]
    assert added and all(m["offer_id"] != refused["offer_id"] for m in added)
    secrets |= await _run_members(rig, created["id"])
    await run_job(rig.ctx, "clusters.manage")
    running = await cl.view(rig, created["id"])
    assert running["state"] == "running"
    assert running["progress"]["machines_running"] == len(secrets)

    # Halfway: delivered compute and cost so far grow with running time.
    await rig.run_for(20 * 60, agents=list(secrets.values()))
    await run_job(rig.ctx, "clusters.manage")
    midway = await cl.view(rig, created["id"])
    assert (
        0 < midway["progress"]["delivered_pflop_hours"] < midway["progress"]["required_pflop_hours"]
    )
    assert midway["money"]["cost_so_far"] > 0

    # Every workload reports done; the cluster settles once every machine is confirmed gone.
    for secret in secrets.values():
        done = await rig.client.post(
            "/api/v1/agent/done",
            json={"exit_code": 0},
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert done.status_code == 200, done.text
    await _wind_down(rig)
    final = await cl.view(rig, created["id"])
    assert final["state"] == "completed", final["events"]
    assert math.isclose(sum(m["contribution"] for m in final["members"]), 1.0, abs_tol=1e-5)
    assert [m["contribution"] for m in final["members"] if m["state"] == "failed"] == [0]
    wallet = await rig.wallet()
    assert wallet["held"] == 0
    paid = sum(m["cost_so_far"] for m in final["members"])
    assert math.isclose(final["money"]["captured"], paid, abs_tol=1e-6)
    assert math.isclose(wallet["available"], DEPOSIT - paid, abs_tol=1e-6)
    await rig.assert_clean()


async def test_stopping_a_running_cluster_pays_the_minutes_run_and_releases_the_rest(
    rig: BrokerRig,
) -> None:
    await rig.ready()
    created = await cl.create(rig, await cl.job(rig))
    await cl.start(rig, created["id"])
    secrets = await _run_members(rig, created["id"])
    await rig.run_for(10 * 60, agents=list(secrets.values()))
    stopped = await rig.client.post(f"/api/v1/clusters/{created['id']}/stop")
    assert stopped.status_code == 200 and stopped.json()["state"] == "ending", stopped.text
    await _wind_down(rig)
    final = await cl.view(rig, created["id"])
    assert final["state"] == "stopped" and final["end_reason"] == "user", final["events"]
    for member in final["members"]:
        gs = await rig.row(member["session_id"])
        assert gs.state == State.TERMINATED and gs.end_reason == "user"
        assert gs.destroy_confirmed_at is not None
        assert member["ran_hours"] >= 10 / 60 and member["cost_so_far"] > 0
    assert math.isclose(sum(m["contribution"] for m in final["members"]), 1.0, abs_tol=1e-5)
    wallet = await rig.wallet()
    paid = sum(m["cost_so_far"] for m in final["members"])
    assert wallet["held"] == 0 and math.isclose(wallet["available"], DEPOSIT - paid, abs_tol=1e-6)
    assert paid < created["money"]["estimate"]
    await rig.assert_clean()


async def test_a_member_that_cannot_be_replaced_fails_the_cluster_and_frees_everything(
    rig: BrokerRig,
) -> None:
    await rig.ready()
    created = await cl.create(rig, await cl.job(rig, max_machines=2, machines=1.2))
    assert len(created["members"]) == 2
    ref = await cl.offer_ref(rig, created["members"][0]["offer_id"])
    rig.faults(paths=[f"/api/v0/asks/{ref}/"], fail_next=1, fail_status=400)
    await cl.start(rig, created["id"])
    await _run_members(rig, created["id"])
    rig.heal()
    await run_job(rig.ctx, "clusters.manage")
    await _wind_down(rig)
    final = await cl.view(rig, created["id"])
    assert final["state"] == "failed" and final["end_reason"] == "not_replaceable"
    assert "could not be replaced" in final["end_detail"]
    assert (await rig.wallet())["held"] == 0
    await rig.assert_clean()


async def test_stopping_a_planned_cluster_releases_its_hold(rig: BrokerRig) -> None:
    await rig.ready()
    created = await cl.create(rig, await cl.job(rig))
    assert (await rig.wallet())["held"] > 0
    stopped = await rig.client.post(f"/api/v1/clusters/{created['id']}/stop")
    assert stopped.status_code == 200, stopped.text
    await rig.drain()
    final = await cl.view(rig, created["id"])
    assert final["state"] == "stopped"
    assert {m["state"] for m in final["members"]} == {"cancelled"}
    wallet = await rig.wallet()
    assert wallet["held"] == 0 and wallet["available"] == DEPOSIT
    again = await rig.client.post(f"/api/v1/clusters/{created['id']}/start")
    assert again.status_code == 409 and "cannot start" in again.json()["detail"]


async def test_a_job_without_a_plan_is_refused_with_the_reason_and_holds_nothing(
    rig: BrokerRig,
) -> None:
    await rig.ready()
    body = await cl.job(rig, min_vram_gb=4000)
    refused = await rig.client.post("/api/v1/clusters", json=body)
    assert refused.status_code == 409, refused.text
    error = refused.json()
    assert "no plan on the offers that can launch here" in error["detail"]
    assert error["plan"]["infeasibility"]["constraint"] == "vram"
    assert (await rig.wallet())["held"] == 0
    assert (await rig.client.get("/api/v1/clusters")).json()["items"] == []


async def test_creating_needs_the_money_and_is_idempotent(rig: BrokerRig) -> None:
    await rig.sync()
    body = await cl.job(rig)
    broke = await rig.client.post("/api/v1/clusters", json=body)
    assert broke.status_code == 402, broke.text
    await rig.fund()
    first = await cl.create(rig, body, key="job-1", ssh_public_key="generate")
    again = await cl.create(rig, body, key="job-1", ssh_public_key="generate")
    assert again["id"] == first["id"]
    # The key pair was made once, and its private half shown once.
    assert first["ssh_private_key"] and again.get("ssh_private_key") is None
    assert again["ssh_fingerprint"] == first["ssh_fingerprint"]
    assert (await rig.wallet())["held"] == first["money"]["estimate"]
    changed = await rig.client.post(
        "/api/v1/clusters", json={**body, "max_machines": 15}, headers={"Idempotency-Key": "job-1"}
    )
    assert changed.status_code == 409, changed.text
    listed = (await rig.client.get("/api/v1/clusters")).json()["items"]
    assert [c["id"] for c in listed] == [first["id"]]


async def test_a_cluster_members_session_cannot_be_extended_on_its_own(rig: BrokerRig) -> None:
    await rig.ready()
    created = await cl.create(rig, await cl.job(rig))
    started = await cl.start(rig, created["id"])
    session_id = started["members"][0]["session_id"]
    extended = await rig.client.post(f"/api/v1/sessions/{session_id}/extend", json={"hours": 1})
    assert extended.status_code == 409 and "member of cluster" in extended.json()["detail"]
    await rig.client.post(f"/api/v1/clusters/{created['id']}/stop")
    await _wind_down(rig)
    assert (await cl.view(rig, created["id"]))["state"] == "stopped"


async def test_a_failed_workload_fails_the_cluster(rig: BrokerRig) -> None:
    await rig.ready()
    created = await cl.create(rig, await cl.job(rig), ssh_public_key="generate")
    assert created["ssh_private_key"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert created["ssh_fingerprint"]
    await cl.start(rig, created["id"])
    secrets = await _run_members(rig, created["id"])
    for n, secret in enumerate(secrets.values()):
        done = await rig.client.post(
            "/api/v1/agent/done",
            json={"exit_code": 3 if n == 0 else 0},
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert done.status_code == 200, done.text
    await _wind_down(rig)
    final = await cl.view(rig, created["id"])
    assert final["state"] == "failed" and "the workload failed" in final["end_detail"]
    assert (await rig.wallet())["held"] == 0
    await rig.assert_clean()


async def test_a_cluster_not_started_within_a_week_releases_its_hold(rig: BrokerRig) -> None:
    await rig.ready()
    created = await cl.create(rig, await cl.job(rig))
    rig.advance(days=7, minutes=1)
    late = await rig.client.post(f"/api/v1/clusters/{created['id']}/start")
    assert late.status_code == 409 and "create it again" in late.json()["detail"]
    await run_job(rig.ctx, "ledger.expire_holds")  # its hold outlives the week
    await run_job(rig.ctx, "clusters.manage")
    final = await cl.view(rig, created["id"])
    assert final["state"] == "stopped" and final["end_reason"] == "not_started"
    wallet = await rig.wallet()
    assert wallet["held"] == 0 and wallet["available"] == DEPOSIT

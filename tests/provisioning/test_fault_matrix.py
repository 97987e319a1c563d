"""The fault matrix, part one: provider faults against the fake Vast.ai. A crash between the
provider's create and our commit, lying creates and destroys, destroys that fail for a while, a
provider unreachable for minutes, listing errors, foreign instances in the account, and capacity
failover.

Every scenario ends, within two reconciliation cycles, with no orphans, no ghosts, nothing left
ending, foreign instances untouched and every final session's money settled (the engine
fixture audits the ledger after each test). Time is the test's clock, which the fake reads too.
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from gp4u.jobs.execute import run_job
from gp4u.jobs.registry import JOBS
from gp4u.kit.failpoints import EXIT_CODE
from tests.provisioning.crash_worker import config_of
from tests.provisioning.fixtures import (  # noqa: F401 - fixtures, found by their names
    broker_settings_with_overrides,
    fake_time_fixture,
    overrides_fixture,
    rig_fixture,
)
from tests.provisioning.rig import DEPOSIT, BrokerRig, assert_billed, at
from tests.provisioning.support import live_tagged

REPO = Path(__file__).resolve().parents[2]
WORKER_DEADLINE_SECONDS = 60.0
LISTING_LAG_SECONDS = 60.0


# --- helpers ---------------------------------------------------------------------------------


async def crashing_worker(rig: BrokerRig, tmp_path: Path, failpoint: str) -> int:
    """Run the due outbox jobs in a worker process that dies at `failpoint`; its exit code."""
    config = tmp_path / "worker.json"
    config.write_bytes(config_of(rig.settings, rig.clock.now()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GP4U_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.provisioning.crash_worker",
        str(config),
        cwd=REPO,
        env={**env, "GP4U_FAILPOINT": failpoint},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(process.communicate(), WORKER_DEADLINE_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    if process.returncode not in (0, EXIT_CODE):
        pytest.fail(f"the worker failed ({process.returncode}): {err.decode()[-2000:]}")
    return process.returncode


async def failover_group(rig: BrokerRig) -> list[dict[str, Any]]:
    """The on-demand Vast offers of the GPU model and count with the most offers, cheapest
    first: the offers a launch may fail over across."""
    offers = await rig.offers()
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for offer in offers:
        groups.setdefault((offer["gpu"], offer["gpu_count"]), []).append(offer)
    group = max(groups.values(), key=len)
    assert len(group) >= 4, group
    return group


def claim_expiry() -> timedelta:
    """How long until a job claimed by a worker that died is claimed again (the outbox waits
    for the longest job timeout plus a minute)."""
    return timedelta(seconds=max(j.timeout_seconds for j in JOBS.values()) + 61)


def up_to(offer: dict[str, Any]) -> str:
    """A maximum price (the API takes at most 4 decimals) that lets failover reach `offer`."""
    return f"{math.ceil(offer['price_per_hour'] * 10_000) / 10_000:.4f}"


def withdraw(rig: BrokerRig, *offers: dict[str, Any]) -> None:
    """The fake stops renting these offers (someone else took them): renting one is Vast's
    404 no_such_ask."""
    asks = {int(o["offer_ref"]) for o in offers}
    rig.vast.offers = [o for o in rig.vast.offers if o["id"] not in asks]


def lie_on_first_create(rig: BrokerRig, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake's next create makes the instance but answers 500; later creates are honest."""
    rig.faults(lying_create=True)
    create = rig.vast.create_instance

    def honest_after_one(attrs: dict[str, Any], **kwargs: Any) -> Any:
        made = create(attrs, **kwargs)
        if len(rig.vast.instances) > 1:
            rig.faults(lying_create=False)
        return made

    monkeypatch.setattr(rig.vast, "create_instance", honest_after_one)


def lagging_listing(rig: BrokerRig, monkeypatch: pytest.MonkeyPatch) -> None:
    """Vast's instance list leaves out instances younger than `LISTING_LAG_SECONDS` (a listing
    may lag a create)."""
    adapter: Any = rig.ctx.providers.get("vastai")
    list_all = adapter._list

    async def lagging(filters: Any = None) -> Any:
        now = rig.vast.now()
        young = {i.id for i in rig.vast.instances.values() if now - i.created < LISTING_LAG_SECONDS}
        return [i for i in await list_all(filters) if i.instance_id not in young]

    monkeypatch.setattr(adapter, "_list", lagging)


async def run_and_stop(
    rig: BrokerRig, session_id: int, minutes: float, secret: str | None = None
) -> dict[str, Any]:
    """Play the session's agent (checking it in unless `secret` is its secret) for `minutes`,
    stop the session, and settle; the final view."""
    secret = secret or await rig.check_in(session_id)
    await rig.run_for(minutes * 60, agents=[secret])
    await rig.stop(session_id)
    await rig.settle()
    return await rig.view(session_id)


# --- 1. a crash between the provider's create and our commit ---------------------------------


async def test_crash_after_create_is_adopted_by_startup_reconciliation(
    rig: BrokerRig, tmp_path: Path
) -> None:
    offer = await rig.ready()
    session_id = await rig.create(offer["id"])
    assert await crashing_worker(rig, tmp_path, "after_provider_create") == EXIT_CODE
    [made] = live_tagged(rig.vast)  # the provider made the machine; we never recorded it
    assert (await rig.row(session_id)).instance_id is None

    report = await rig.reconcile(startup=True)
    assert report["adopted"] == 1 and report["orphans"] == 0
    view = await rig.view(session_id)
    assert (view["state"], view["instance_id"]) == ("starting", made.id)
    assert [a["outcome"] for a in view["attempts"]] == ["ok"]

    view = await run_and_stop(rig, session_id, minutes=20)
    assert view["state"] == "terminated" and view["destroyed_at"]
    await rig.assert_clean()
    assert_billed(view)
    await rig.assert_paid(view)


async def test_crashed_launch_delivered_again_waits_for_reconciliation(
    rig: BrokerRig, tmp_path: Path
) -> None:
    """The dead worker's launch job is claimed again before any reconciliation: it must not
    launch on another offer (a second machine, or the first one recorded at another's price)."""
    await rig.ready()
    first, second, *_ = await failover_group(rig)
    session_id = await rig.create(first["id"], max_price_per_hour=up_to(second))
    assert await crashing_worker(rig, tmp_path, "after_provider_create") == EXIT_CODE
    [made] = live_tagged(rig.vast)

    rig.clock.advance(claim_expiry())
    assert "sessions.launch" in await rig.drain()
    assert live_tagged(rig.vast) == [made]
    view = await rig.view(session_id)
    assert view["state"] == "provisioning" and len(view["attempts"]) == 1

    report = await rig.reconcile()  # the attempt's lease is over: adopt what it made
    assert report["adopted"] == 1
    view = await rig.view(session_id)
    assert (view["state"], view["instance_id"]) == ("starting", made.id)
    assert (view["offer_id"], view["price_per_hour"]) == (first["id"], first["price_per_hour"])
    view = await run_and_stop(rig, session_id, minutes=7)
    await rig.assert_clean()
    assert_billed(view)
    await rig.assert_paid(view)


async def test_crashed_launch_whose_agent_checked_in_first_is_adopted(
    rig: BrokerRig, tmp_path: Path
) -> None:
    """The machine boots and its agent checks in (the API servers are up) before any
    reconciliation: the running session still gets its machine recorded."""
    offer = await rig.ready()
    session_id = await rig.create(offer["id"])
    assert await crashing_worker(rig, tmp_path, "after_provider_create") == EXIT_CODE
    [made] = live_tagged(rig.vast)
    secret = await rig.check_in(session_id, made)
    assert (await rig.view(session_id))["state"] == "running"

    await rig.run_for(rig.settings.reconcile_seconds, agents=[secret])
    view = await rig.view(session_id)
    assert (view["state"], view["instance_id"]) == ("running", made.id)
    assert view["connection"] is not None
    view = await run_and_stop(rig, session_id, minutes=0, secret=secret)
    await rig.assert_clean()
    assert_billed(view)
    await rig.assert_paid(view)


async def test_crash_on_a_failover_attempt_is_adopted_at_that_offers_price(
    rig: BrokerRig, tmp_path: Path
) -> None:
    await rig.ready()
    first, second, *_ = await failover_group(rig)
    session_id = await rig.create(first["id"], max_price_per_hour=up_to(second))
    withdraw(rig, first)  # the worker's fresh quote no longer finds it: on to the next offer
    assert await crashing_worker(rig, tmp_path, "after_provider_create") == EXIT_CODE
    [made] = live_tagged(rig.vast)
    assert made.attrs["ask_id"] == int(second["offer_ref"])

    assert (await rig.reconcile(startup=True))["adopted"] == 1
    view = await rig.view(session_id)
    assert (view["state"], view["instance_id"]) == ("starting", made.id)
    assert (view["offer_id"], view["price_per_hour"]) == (second["id"], second["price_per_hour"])
    view = await run_and_stop(rig, session_id, minutes=12)
    await rig.assert_clean()
    assert_billed(view)
    await rig.assert_paid(view)


async def test_launch_job_delivered_twice_at_once_makes_one_machine(rig: BrokerRig) -> None:
    """Two deliveries of one launch job overlap at a slow provider: one launches, the other
    leaves the session to it (not a second rental, nor a failed session)."""
    offer = await rig.ready()
    session_id = await rig.create(offer["id"])
    rig.faults(latency_ms=100)
    states = await asyncio.gather(
        *(run_job(rig.ctx, "sessions.launch", {"session_id": session_id}) for _ in range(2))
    )
    rig.heal()
    # One launched; the other found it in flight ("provisioning") or, when the machine was slow
    # to schedule it, already launched ("starting"). Either way: one machine, no failed session.
    assert "starting" in states and set(states) <= {"provisioning", "starting"}, states
    [made] = live_tagged(rig.vast)
    view = await rig.view(session_id)
    assert (view["state"], view["instance_id"]) == ("starting", made.id)
    view = await run_and_stop(rig, session_id, minutes=2)
    await rig.assert_clean()
    assert_billed(view)
    await rig.assert_paid(view)


# --- 2. a lying create -----------------------------------------------------------------------


async def test_lying_create_is_found_by_its_tag_and_adopted(rig: BrokerRig) -> None:
    offer = await rig.ready()
    rig.faults(lying_create=True)
    session_id = await rig.launch(offer["id"])
    rig.heal()
    [made] = live_tagged(rig.vast)
    view = await rig.view(session_id)
    assert (view["state"], view["instance_id"]) == ("starting", made.id)
    assert [a["outcome"] for a in view["attempts"]] == ["ok"]

    view = await run_and_stop(rig, session_id, minutes=3)
    await rig.assert_clean()
    assert_billed(view)
    await rig.assert_paid(view)


async def test_lying_create_not_listed_yet_fails_over_and_reconciliation_reaps_it(
    rig: BrokerRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    await rig.ready()
    first, second, *_ = await failover_group(rig)
    lie_on_first_create(rig, monkeypatch)
    lagging_listing(rig, monkeypatch)
    session_id = await rig.launch(first["id"], max_price_per_hour=up_to(second))
    view = await rig.view(session_id)
    assert [a["outcome"] for a in view["attempts"]] == ["unknown", "ok"]
    assert view["offer_id"] == second["id"]
    lost, kept = sorted(live_tagged(rig.vast), key=lambda i: int(i.id))
    assert view["instance_id"] == kept.id

    secret = await rig.check_in(session_id)
    await rig.run_for(2 * rig.settings.reconcile_seconds, agents=[secret])  # two cycles
    assert lost.state() == "terminated" and kept.state() == "running"
    [reaped] = await rig.audit("orphan_destroyed")
    assert (reaped["instance_id"], reaped["session_id"]) == (lost.id, session_id)

    await rig.stop(session_id)
    await rig.settle()
    await rig.assert_clean()
    view = await rig.view(session_id)
    assert_billed(view)
    await rig.assert_paid(view)


# --- 3. a destroy that fails ten times, then succeeds ----------------------------------------


def backoff(attempts: int) -> timedelta:
    """15 s, 30 s, 1 min… at most 10 min between destroy attempts."""
    return timedelta(seconds=min(600, 15 * 2 ** (attempts - 1)))


def attention_gauge() -> float | None:
    return REGISTRY.get_sample_value("gp4u_sessions_needing_attention")


def destroy_retries() -> float:
    counted = REGISTRY.get_sample_value(
        "gp4u_session_destroy_retries_total", {"provider": "vastai"}
    )
    return counted or 0.0


@pytest.mark.parametrize("overrides", [{"destroy_attention_after": 3}], indirect=True)
async def test_destroy_failing_ten_times_retries_with_backoff_then_confirms(
    rig: BrokerRig,
) -> None:
    offer = await rig.ready()
    session_id, secret = await rig.running(offer["id"])
    await rig.run_for(10 * 60, agents=[secret])
    made = rig.instance(session_id)
    rig.faults(fail_next=10, paths=[f"/api/v0/instances/{made.id}/"], operations=["destroy"])
    retries = destroy_retries()
    await rig.stop(session_id)
    await rig.drain()  # the destroy job: the first attempt

    flagged_while_ending = False
    for _ in range(20):
        row = await rig.row(session_id)
        if row.state != "ending":
            break
        assert made.state() == "running"
        if row.destroy_attempts >= 3:
            assert row.needs_attention and attention_gauge() == 1
            flagged_while_ending = True
        else:
            assert not row.needs_attention
        assert row.next_destroy_at == rig.clock.now() + backoff(row.destroy_attempts)
        rig.clock.advance(backoff(row.destroy_attempts) - timedelta(seconds=1))
        await rig.tick()  # not due yet: no attempt
        assert (await rig.row(session_id)).destroy_attempts == row.destroy_attempts
        rig.clock.advance(timedelta(seconds=1))
        await rig.tick()

    view = await rig.view(session_id)
    assert view["state"] == "terminated" and view["destroyed_at"]
    assert flagged_while_ending and not view["needs_attention"] and attention_gauge() == 0
    assert made.state() == "terminated" and rig.vast.faults.fail_next == 0
    assert destroy_retries() - retries == (await rig.row(session_id)).destroy_attempts >= 3
    [delayed] = await rig.notifications("session_destroy_delayed")
    assert delayed["payload"] == {"session_id": session_id, "attempts": 3}
    assert len(await rig.audit("destroy_attempt")) >= 3
    await rig.settle()
    await rig.assert_clean()
    assert_billed(view)
    await rig.assert_paid(view)


# --- 4. a lying destroy ----------------------------------------------------------------------


async def test_lying_destroy_is_never_taken_for_done(rig: BrokerRig) -> None:
    offer = await rig.ready()
    session_id, secret = await rig.running(offer["id"])
    await rig.run_for(5 * 60, agents=[secret])
    made = rig.instance(session_id)
    rig.faults(lying_destroy=True)
    await rig.stop(session_id)

    await rig.run_for(20 * 60)  # answers "destroyed", keeps running, and billing us
    row = await rig.row(session_id)
    assert (row.state, row.destroy_confirmed_at) == ("ending", None)
    assert made.state() == "running" and row.destroy_attempts >= 5 and row.needs_attention
    assert "is running" in (row.last_error or "")

    rig.heal()
    healed = rig.clock.now()
    await rig.settle()
    view = await rig.view(session_id)
    assert made.state() == "terminated" and view["state"] == "terminated"
    assert at(view["destroyed_at"]) >= healed and not view["needs_attention"]
    await rig.assert_clean()
    assert_billed(view)
    await rig.assert_paid(view)


# --- 5. the provider unreachable for ten minutes ---------------------------------------------


async def test_unreachable_provider_leaves_sessions_unknown_until_it_is_back(
    rig: BrokerRig,
) -> None:
    offer = await rig.ready()
    working, secret = await rig.running(offer["id"])
    stopping, _ = await rig.running((await rig.offers())[1]["id"])
    await rig.run_for(60, agents=[secret])
    machines = live_tagged(rig.vast)
    rig.faults(fail_all=True)
    await rig.stop(stopping)
    seen = len(rig.reconcile_reports)

    await rig.run_for(10 * 60, agents=[secret])  # the agent still reaches us; we cannot reach it
    outage = rig.reconcile_reports[seen:]
    assert len(outage) >= 2
    assert all(r["unknown"] == ["vastai"] and r["ghosts"] == r["orphans"] == 0 for r in outage)
    assert (await rig.view(working))["state"] == "running"
    assert (await rig.view(stopping))["state"] == "ending"
    assert all(m.state() == "running" for m in machines)
    assert await rig.audit("destroy_confirmed") == []

    rig.heal()
    await rig.run_for(2 * rig.settings.reconcile_seconds, agents=[secret])
    assert (await rig.view(working))["state"] == "running"
    assert (await rig.view(stopping))["state"] == "terminated"
    await rig.stop(working)
    await rig.settle()
    await rig.assert_clean()
    views = [await rig.view(working), await rig.view(stopping)]
    for view in views:
        assert_billed(view)
    await rig.assert_paid(*views)


# --- 6. listing errors -----------------------------------------------------------------------


async def test_listing_errors_leave_everything_as_it_was(rig: BrokerRig) -> None:
    offer = await rig.ready()
    session_id, secret = await rig.running(offer["id"])
    await rig.run_for(3 * 60, agents=[secret])
    rig.vast.terminate(rig.instance(session_id).id)  # a ghost, once we can list
    vanished = rig.clock.now()
    stray = rig.vast.create_instance({"label": "gp4u-local-424242"})  # an orphan, likewise
    rig.faults(fail_all=True, paths=["/api/v1/instances/"], operations=["list"])
    before = [(gs.id, gs.state, gs.last_seen_at, gs.instance_id) for gs in await rig.rows()]
    events = len((await rig.client.get("/api/v1/audit")).json()["items"])

    for _ in range(2):
        report = await rig.reconcile()
        assert report == {
            "unknown": ["vastai"],
            "orphans": 0,
            "ghosts": 0,
            "adopted": 0,
            "interrupted": 0,
        }
    assert [(gs.id, gs.state, gs.last_seen_at, gs.instance_id) for gs in await rig.rows()] == before
    assert len((await rig.client.get("/api/v1/audit")).json()["items"]) == events
    assert stray.state() == "running"

    rig.clock.advance(timedelta(minutes=2))
    rig.heal()
    report = await rig.reconcile()
    assert (report["unknown"], report["orphans"], report["ghosts"]) == ([], 1, 1)
    await rig.settle()
    view = await rig.view(session_id)
    assert (view["state"], view["end_reason"]) == ("terminated", "ghost")
    await rig.assert_clean()
    assert_billed(view, until=vanished)  # the last heartbeat, not when we found out
    await rig.assert_paid(view)


# --- 7. foreign instances in the account -----------------------------------------------------


async def test_foreign_instances_are_never_touched(rig: BrokerRig) -> None:
    offer = await rig.ready()
    session_id = await rig.launch(offer["id"])
    foreign = [
        rig.foreign(f"gp4u-otherdeploy-{session_id}"),  # another GP4U's, same session number
        rig.foreign("my-own-box"),
        rig.foreign("gp4u-local"),  # looks like ours, is not a tag
        rig.foreign(None),
    ]
    await rig.reconcile(startup=True)
    secret = await rig.check_in(session_id)
    await rig.run_for(6 * 60, agents=[secret])
    rig.faults(lying_destroy=True)  # our destroyer lists, terminates and checks again and again
    await rig.stop(session_id)
    await rig.run_for(rig.settings.reconcile_seconds)
    assert (await rig.view(session_id))["state"] == "ending"

    rig.heal()
    await rig.settle()
    await rig.assert_clean(foreign)
    view = await rig.view(session_id)
    assert_billed(view)
    await rig.assert_paid(view)


# --- 10. capacity failover -------------------------------------------------------------------


async def test_no_capacity_fails_over_to_the_next_matching_offer(rig: BrokerRig) -> None:
    await rig.ready()
    group = await failover_group(rig)
    first, second = group[0], group[1]
    withdraw(rig, first)  # listed when we synced, rented by someone else since
    session_id = await rig.launch(first["id"], max_price_per_hour=up_to(group[-1]))
    view = await rig.view(session_id)
    assert view["state"] == "starting"
    assert (view["offer_id"], view["price_per_hour"]) == (second["id"], second["price_per_hour"])
    summary = view["launch_summary"]
    tried_first = f"tried 2 of {len(group)} offers: #1 vastai {first['gpu_count']}× "
    assert summary.startswith(tried_first), summary
    assert ": no capacity (" in summary and "no_such_ask" in summary and "#2 vastai" in summary
    assert summary.endswith(": ok")

    view = await run_and_stop(rig, session_id, minutes=4)
    await rig.assert_clean()
    assert_billed(view)
    await rig.assert_paid(view)


async def test_no_capacity_anywhere_fails_and_releases_the_hold(rig: BrokerRig) -> None:
    await rig.ready()
    group = await failover_group(rig)
    withdraw(rig, *group)
    session_id = await rig.launch(group[0]["id"], max_price_per_hour=up_to(group[-1]))
    view = await rig.view(session_id)
    attempts = rig.settings.launch_max_attempts
    assert (view["state"], view["end_reason"]) == ("failed", "launch_failed")
    assert view["launch_summary"].startswith(f"tried {attempts} of {len(group)} offers")
    assert [a["outcome"] for a in view["attempts"]] == ["no_capacity"] * attempts
    assert view["cost_so_far"] == 0 and live_tagged(rig.vast) == []
    assert (await rig.wallet())["held"] == 0
    await rig.settle()
    await rig.assert_clean()
    assert (await rig.wallet())["available"] == DEPOSIT

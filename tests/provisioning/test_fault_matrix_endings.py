"""The fault matrix, part two: sessions that must end without anyone asking. The hard maximum
passes, the agent falls silent, a machine vanishes at the provider (a ghost), and machines
carrying our tag that no live session owns (orphans).

As in part one, every scenario ends, within two reconciliation cycles, with no orphans, no
ghosts, nothing left ending and the money settled: billing stops when the session's right to
run ended (paid period, last heartbeat, last sighting), never when the manager noticed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.provisioning.fixtures import (  # noqa: F401 - fixtures, found by their names
    broker_settings_with_overrides,
    fake_time_fixture,
    overrides_fixture,
    rig_fixture,
)
from tests.provisioning.rig import BrokerRig, assert_billed, at
from tests.provisioning.support import live_tagged

HARD_MAX_HOURS = 0.25


# --- 8. the hard maximum ---------------------------------------------------------------------


@pytest.mark.parametrize("overrides", [{"session_max_hours": HARD_MAX_HOURS}], indirect=True)
async def test_hard_maximum_ends_and_destroys_a_running_session(rig: BrokerRig) -> None:
    offer = await rig.ready()
    session_id = await rig.launch(offer["id"], hours=HARD_MAX_HOURS)
    rig.clock.advance(timedelta(minutes=1, seconds=7))  # the machine boots; billing starts later
    secret = await rig.check_in(session_id)
    made = rig.instance(session_id)
    view = await rig.view(session_id)
    deadline = at(view["hard_deadline"])
    assert at(view["expires_at"]) == deadline  # paid up to the cap, which comes first

    await rig.run_for(20 * 60, agents=[secret])  # the agent would happily go on
    view = await rig.view(session_id)
    assert (view["state"], view["end_reason"]) == ("terminated", "hard_max")
    assert deadline < at(view["ending_at"]) <= at(view["destroyed_at"])
    assert made.state() == "terminated" and await rig.beat(secret) == "shutdown"
    assert_billed(view, until=deadline)  # not to when the manager noticed
    await rig.settle()
    await rig.assert_clean()
    await rig.assert_paid(view)


# --- 9. the agent stops heartbeating ---------------------------------------------------------


async def test_silent_agent_ends_the_session_billed_to_its_last_heartbeat(rig: BrokerRig) -> None:
    offer = await rig.ready()
    session_id, secret = await rig.running(offer["id"])
    await rig.run_for(10 * 60, agents=[secret])
    last_beat = rig.clock.now()

    timeout = rig.settings.agent_heartbeat_timeout_seconds
    await rig.run_for(timeout - rig.settings.lifecycle_seconds)  # silent, not yet for too long
    assert (await rig.view(session_id))["state"] == "running"
    await rig.run_for(2 * rig.settings.lifecycle_seconds)
    view = await rig.view(session_id)
    assert (view["state"], view["end_reason"]) == ("terminated", "heartbeat_lost")
    assert at(view["destroyed_at"]) - last_beat <= timedelta(seconds=timeout + 30)
    assert_billed(view, until=last_beat)
    await rig.settle()
    await rig.assert_clean()
    await rig.assert_paid(view)


# --- 11. orphans -----------------------------------------------------------------------------


async def test_orphans_are_destroyed_and_audited(rig: BrokerRig) -> None:
    offer = await rig.ready()
    session_id, secret = await rig.running(offer["id"])
    await rig.run_for(2 * 60, agents=[secret])
    await rig.stop(session_id)
    await rig.drain()
    assert (await rig.view(session_id))["state"] == "terminated"
    late = rig.vast.create_instance({"label": f"gp4u-local-{session_id}"})  # for an ended session
    stray = rig.vast.create_instance({"label": "gp4u-local-987654"})  # for no session at all

    report = await rig.reconcile()
    assert report["orphans"] == 2
    assert late.state() == stray.state() == "terminated"
    reaped = {e["instance_id"]: e for e in await rig.audit("orphan_destroyed")}
    assert reaped.keys() == {late.id, stray.id}
    assert reaped[late.id]["session_id"] == session_id and reaped[stray.id]["session_id"] == 987654
    assert all(e["outcome"] == "ok" for e in reaped.values())

    await rig.settle()
    assert len(await rig.audit("orphan_destroyed")) == 2  # gone, so never reaped twice
    await rig.assert_clean()
    view = await rig.view(session_id)
    assert_billed(view)
    await rig.assert_paid(view)


# --- 12. ghosts ------------------------------------------------------------------------------


async def test_vanished_machine_ends_its_session_billed_to_when_it_was_last_seen(
    rig: BrokerRig,
) -> None:
    offer = await rig.ready()
    session_id, secret = await rig.running(offer["id"])
    await rig.run_for(7 * 60, agents=[secret])
    last_seen = rig.clock.now()
    rig.vast.terminate(rig.instance(session_id).id)  # its host died: no machine, no agent
    rig.clock.advance(timedelta(seconds=50))

    report = await rig.reconcile()
    assert report["ghosts"] == 1
    view = await rig.view(session_id)
    assert (view["state"], view["end_reason"]) == ("ending", "ghost")
    await rig.tick()
    view = await rig.view(session_id)
    assert view["state"] == "terminated" and view["destroyed_at"]
    assert_billed(view, until=last_seen)
    await rig.settle()
    await rig.assert_clean()
    assert live_tagged(rig.vast) == []
    await rig.assert_paid(view)


# --- an exhausted budget ---------------------------------------------------------------------


async def test_an_exhausted_budget_warns_once_then_the_session_ends_with_its_paid_time(
    rig: BrokerRig,
) -> None:
    offer = await rig.ready()
    session_id, secret = await rig.running(offer["id"], hours=1)
    view = await rig.view(session_id)
    # Everything left this month is already committed: no further hour can be paid for.
    budget = await rig.client.put("/api/v1/wallet/budget", json={"monthly_limit": "0.01"})
    assert budget.status_code == 200, budget.text
    await rig.run_for(44 * 60, agents=[secret])
    assert await rig.notifications("session_ending_soon") == []  # not yet 15 min from the end
    await rig.run_for(2 * 60, agents=[secret])
    [warning] = await rig.notifications("session_ending_soon")
    assert f"Session {session_id} ends at" in warning["message"]
    await rig.run_for(16 * 60, agents=[secret])
    ended = await rig.view(session_id)
    assert ended["end_reason"] == "expired"
    assert_billed(ended, until=at(view["expires_at"]))  # exactly its paid hour
    assert len(await rig.notifications("session_ending_soon")) == 1
    await rig.settle()
    await rig.assert_clean()

"""The local provider: instances are real processes on this machine."""

from __future__ import annotations

import asyncio

import pytest

from gp4u.providers.base import ProviderRejected
from gp4u.providers.interface import Capability, InstanceState, LaunchRequest, Tags
from gp4u.providers.local.adapter import OFFER_REF, LocalAdapter


def _request(session: str = "s1", token: str = "tok-1") -> LaunchRequest:
    return LaunchRequest(offer_ref=OFFER_REF, client_token=token, tags=Tags("t1", session, "u7"))


async def _until(adapter: LocalAdapter, instance_id: str, state: InstanceState) -> None:
    for _ in range(200):
        [instance] = await adapter.status([instance_id])
        if instance.state is state:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"{instance_id} never reached {state}")


async def test_offers_describe_this_machine_free_of_charge(local: LocalAdapter) -> None:
    report = await local.list_offers()
    [offer] = report.offers
    assert (offer.provider, offer.price_per_hour, offer.offer_ref) == ("local", 0, OFFER_REF)
    assert Capability.LAUNCH in local.capabilities()
    assert local.capabilities().reason(Capability.SPOT) == "no spot market on a local machine"


async def test_launch_status_tagged_terminate(local: LocalAdapter) -> None:
    instance = await local.launch(_request())
    assert instance.state in (InstanceState.BOOTING, InstanceState.RUNNING)
    assert instance.tags == Tags("t1", "s1", "u7")
    await _until(local, instance.instance_id, InstanceState.RUNNING)
    again = await local.launch(_request())  # the same client token: the same instance
    assert again.instance_id == instance.instance_id
    tagged = await local.list_tagged("t1")
    assert [i.instance_id for i in tagged] == [instance.instance_id]
    assert await local.list_tagged("other") == []

    await local.terminate(instance.instance_id)
    [gone] = await local.status([instance.instance_id])
    assert gone.state is InstanceState.TERMINATED
    await local.terminate(instance.instance_id)  # already gone is success
    [unknown] = await local.status(["no-such-id"])
    assert unknown.state is InstanceState.TERMINATED
    assert await local.list_tagged("t1") == []


async def test_an_unknown_offer_is_refused(local: LocalAdapter) -> None:
    bad = LaunchRequest(offer_ref="elsewhere", client_token="x", tags=Tags("t1", "s2"))
    with pytest.raises(ProviderRejected):
        await local.launch(bad)

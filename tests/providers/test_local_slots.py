"""The local provider's slots file: several priced machines offered from one box."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from gp4u.providers.base import InvalidResponse, ProviderRejected
from gp4u.providers.interface import InstanceState, LaunchRequest, Tags
from gp4u.providers.local.adapter import OFFER_REF, SLOTS_FILE, LocalAdapter

SLOTS: list[Any] = [
    {"ref": "a100-x2", "gpu": "A100", "gpu_count": 2, "gpu_memory_gb": 80, "price_per_hour": 2.49},
    {"ref": "h100", "gpu": "H100", "price_per_hour": 3.1, "region": "box-2", "available_count": 3},
    {"ref": "bad ref!", "gpu": "L4", "price_per_hour": 0.5},
]


def _write(local: LocalAdapter, content: Any) -> None:
    text = content if isinstance(content, str) else json.dumps(content)
    (local.data_dir / SLOTS_FILE).write_text(text)


def _request(offer_ref: str) -> LaunchRequest:
    return LaunchRequest(
        offer_ref=offer_ref,
        client_token="tok-1",
        tags=Tags("t1", "s1", "u7"),
        startup_command="sleep 30",
    )


async def test_without_a_file_the_detected_machine_is_offered_free(local: LocalAdapter) -> None:
    report = await local.list_offers()
    [offer] = report.offers
    assert (offer.price_per_hour, offer.offer_ref, offer.region) == (0, OFFER_REF, "local")
    assert not report.skipped


async def test_the_file_replaces_the_machine_with_priced_slots(local: LocalAdapter) -> None:
    _write(local, SLOTS)
    report = await local.list_offers()
    assert [o.offer_ref for o in report.offers] == ["a100-x2", "h100"]
    a100, h100 = report.offers
    assert (a100.instance_type, a100.gpu_name, a100.gpu_count) == ("local-a100-x2", "A100", 2)
    assert (a100.price_per_hour, a100.gpu_memory_gb, a100.region) == (2_490_000, 80.0, "local")
    assert (a100.available_count, h100.available_count) == (None, 3)
    assert (h100.price_per_hour, h100.gpu_count, h100.region) == (3_100_000, 1, "box-2")
    assert report.rows_read == 3
    assert report.skipped == {"bad_ref": 1}
    assert report.examples == {"bad_ref": [2]}


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"gpu": "L4", "price_per_hour": 1}, "missing_ref"),
        ({"ref": "x", "gpu": "L4"}, "missing_price_per_hour"),
        ({"ref": "x", "gpu": "L4", "price_per_hour": -1}, "bad_price_per_hour"),
        ({"ref": "x", "gpu": "L4", "price_per_hour": "1.0"}, "bad_price_per_hour"),
        ({"ref": "x", "gpu": "L4", "price_per_hour": 1, "gpu_count": 0}, "bad_gpu_count"),
        ({"ref": "x" * 65, "gpu": "L4", "price_per_hour": 1}, "bad_ref"),
        ({"ref": "h100", "gpu": "L4", "price_per_hour": 1}, "duplicate_ref"),
        ("h100", "not_an_object"),
    ],
)
async def test_each_malformed_entry_is_skipped_with_its_reason(
    local: LocalAdapter, entry: Any, reason: str
) -> None:
    _write(local, [SLOTS[1], entry])
    report = await local.list_offers()
    assert [o.offer_ref for o in report.offers] == ["h100"]
    assert report.skipped == {reason: 1}


@pytest.mark.parametrize("content", ["[{", '{"ref": "h100"}'])
async def test_a_file_that_is_not_a_json_list_is_an_invalid_response(
    local: LocalAdapter, content: str
) -> None:
    _write(local, content)
    with pytest.raises(InvalidResponse, match=SLOTS_FILE):
        await local.list_offers()
    with pytest.raises(InvalidResponse):
        await local.launch(_request("h100"))


async def test_a_listed_slot_launches_a_workload(local: LocalAdapter) -> None:
    _write(local, SLOTS)
    instance = await local.launch(_request("h100"))
    assert instance.state in (InstanceState.BOOTING, InstanceState.RUNNING)
    assert instance.tags == Tags("t1", "s1", "u7")
    for _ in range(200):
        [seen] = await local.status([instance.instance_id])
        if seen.state is InstanceState.RUNNING:
            break
        await asyncio.sleep(0.025)
    else:
        raise AssertionError("the workload never reached running")

    await local.terminate(instance.instance_id)
    [gone] = await local.status([instance.instance_id])
    assert gone.state is InstanceState.TERMINATED


@pytest.mark.parametrize("ref", ["elsewhere", "bad ref!", OFFER_REF])
async def test_a_ref_not_in_the_file_is_refused(local: LocalAdapter, ref: str) -> None:
    _write(local, SLOTS)
    with pytest.raises(ProviderRejected) as refused:
        await local.launch(_request(ref))
    assert refused.value.status == 404
    assert refused.value.message == f"unknown offer {ref!r}"
    assert await local.list_tagged("t1") == []

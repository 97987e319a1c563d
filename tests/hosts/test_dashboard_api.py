"""The host dashboard's per-machine figures (agent, price, upcoming bookings, money held and
earned) and a machine's list of blocked periods, over the API on both databases."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.conftest import T0
from tests.factories import sign_up
from tests.reservations.support import book, list_machine, online_machine, renter

H = timedelta(hours=1)
DAY0 = T0.replace(hour=0) + timedelta(days=1)


async def test_dashboard_shows_each_machines_agent_bookings_and_pending_money(
    accounts_client: httpx.AsyncClient,
) -> None:
    host = await sign_up(accounts_client, "host@example.com", ("host",))
    machine_id, _ = await online_machine(accounts_client, host, price_per_hour="2.50")
    idle = await list_machine(accounts_client, host, name="spare", gpu_count=2)
    alice = await renter(accounts_client, "alice@example.com")
    for hours in ((10, 12), (14, 15)):
        made = await book(
            accounts_client, alice, machine_id, DAY0 + hours[0] * H, DAY0 + hours[1] * H
        )
        assert made.status_code == 201, made.text

    board = (await accounts_client.get("/api/v1/host/dashboard", headers=host)).json()
    by_id = {m["machine_id"]: m for m in board["machines"]}
    booked, spare = by_id[machine_id], by_id[idle["id"]]
    assert booked["upcoming_bookings"] == 2
    assert booked["price_per_hour"] == 2.5
    assert booked["agent"]["online"] is True and booked["agent"]["last_heartbeat_at"]
    assert booked["earnings"] == {"gross": 0.0, "platform_fee": 0.0, "net": 0.0, "pending": 7.5}
    assert booked["bookable"] is True and booked["not_bookable_reason"] is None
    assert spare["upcoming_bookings"] == 0 and spare["earnings"]["pending"] == 0.0
    assert spare["gpu_summary"] == "2 × RTX 4090"
    assert spare["agent"]["awaiting_registration"] is True and spare["bookable"] is False
    assert board["earnings"]["pending"] == 7.5


async def test_blocks_list_the_periods_not_ended_only_to_the_owner(
    accounts_client: httpx.AsyncClient,
) -> None:
    host = await sign_up(accounts_client, "host@example.com", ("host",))
    other = await sign_up(accounts_client, "other@example.com", ("host",))
    machine_id, _ = await online_machine(accounts_client, host)
    url = f"/api/v1/machines/{machine_id}/blocks"
    later = {"start": (DAY0 + 2 * H).isoformat(), "end": (DAY0 + 4 * H).isoformat()}
    soon = {"start": (T0 - H).isoformat(), "end": (T0 + H).isoformat(), "reason": "upgrade"}
    past = {"start": (T0 - 5 * H).isoformat(), "end": (T0 - 3 * H).isoformat()}
    for span in (later, soon, past):
        made = await accounts_client.post(url, json=span, headers=host)
        assert made.status_code == 201, made.text

    listed = (await accounts_client.get(url, headers=host)).json()["items"]
    assert [b["reason"] for b in listed] == ["upgrade", None]
    nosy = await accounts_client.get(url, headers=other)
    assert nosy.status_code == 404 and nosy.json()["error"] == "NotFound"

"""Booking over the API on both databases: quotes held, every refusal clear and harmless,
back-to-back blocks, cancellation and extension before the start, and who sees what."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.conftest import T0
from tests.factories import sign_up
from tests.reservations.support import book, online_machine, renter, wallet

H = timedelta(hours=1)
DAY0 = T0.replace(hour=0) + timedelta(days=1)  # 2026-11-02 00:00 UTC, a Monday


async def test_book_holds_the_quote_and_back_to_back_blocks_fit(
    accounts_client: httpx.AsyncClient,
) -> None:
    host = await sign_up(accounts_client, "host@example.com", ("host",))
    machine_id, _ = await online_machine(accounts_client, host, price_per_hour="2.50")
    alice = await renter(accounts_client, "alice@example.com")
    first = await book(accounts_client, alice, machine_id, DAY0 + 10 * H, DAY0 + 11 * H)
    second = await book(accounts_client, alice, machine_id, DAY0 + 11 * H, DAY0 + 12 * H)
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.json()["state"] == "pending"
    assert first.json()["quote"] == 2.5
    money = await wallet(accounts_client, alice)
    assert money["held"] == 5.0 and money["available"] == 995.0
    overlap = await book(accounts_client, alice, machine_id, DAY0 + 10.5 * H, DAY0 + 11.5 * H)
    assert overlap.status_code == 409
    assert overlap.json()["error"] == "BookingConflict"
    assert "overlaps a booking" in overlap.json()["detail"]
    assert (await wallet(accounts_client, alice))["held"] == 5.0


async def test_refusals_are_clear_and_change_nothing(accounts_client: httpx.AsyncClient) -> None:
    host = await sign_up(accounts_client, "host@example.com", ("host",))
    machine_id, _ = await online_machine(
        accounts_client,
        host,
        min_hours=2,
        windows=[{"day": "mon", "start": "09:00", "end": "17:00"}],
    )
    poor = await renter(accounts_client, "poor@example.com", "1")
    cases = [
        (T0 - 2 * H, T0 + H, 400, "start", "in the past"),
        (DAY0 + 10 * H, DAY0 + 11 * H, 400, "end", "at least 2 h"),
        (DAY0 + 18 * H, DAY0 + 20 * H, 409, None, "outside the machine's hours"),
        (DAY0 + 10 * H, DAY0 + 12 * H, 402, None, "insufficient funds"),
    ]
    for start, end, status, field, words in cases:
        response = await book(accounts_client, poor, machine_id, start, end)
        assert response.status_code == status, response.text
        assert words in response.json()["detail"]
        if field:
            assert response.json()["field"] == field
    odd = await book(
        accounts_client, poor, machine_id, DAY0 + 10 * H + timedelta(seconds=30), DAY0 + 12 * H
    )
    assert odd.status_code == 400 and "whole minutes" in odd.json()["detail"]
    assert (await wallet(accounts_client, poor))["held"] == 0.0
    mine = await accounts_client.get("/api/v1/reservations", headers=poor)
    assert mine.json()["items"] == []


async def test_cancel_before_start_refunds_everything_and_frees_the_time(
    accounts_client: httpx.AsyncClient,
) -> None:
    host = await sign_up(accounts_client, "host@example.com", ("host",))
    machine_id, _ = await online_machine(accounts_client, host)
    alice = await renter(accounts_client, "alice@example.com")
    bob = await renter(accounts_client, "bob@example.com")
    made = (await book(accounts_client, alice, machine_id, DAY0 + 10 * H, DAY0 + 14 * H)).json()
    assert (
        await book(accounts_client, bob, machine_id, DAY0 + 12 * H, DAY0 + 13 * H)
    ).status_code == 409
    nosy = await accounts_client.post(f"/api/v1/reservations/{made['id']}/cancel", headers=bob)
    assert nosy.status_code == 404
    done = await accounts_client.post(f"/api/v1/reservations/{made['id']}/cancel", headers=alice)
    assert done.status_code == 200 and done.json()["state"] == "cancelled"
    assert (await wallet(accounts_client, alice))["available"] == 1000.0
    again = await accounts_client.post(f"/api/v1/reservations/{made['id']}/cancel", headers=alice)
    assert again.status_code == 409
    assert (
        await book(accounts_client, bob, machine_id, DAY0 + 12 * H, DAY0 + 13 * H)
    ).status_code == 201


async def test_extend_needs_the_following_time_free(accounts_client: httpx.AsyncClient) -> None:
    host = await sign_up(accounts_client, "host@example.com", ("host",))
    machine_id, _ = await online_machine(accounts_client, host, price_per_hour="3.00")
    alice = await renter(accounts_client, "alice@example.com")
    bob = await renter(accounts_client, "bob@example.com")
    made = (await book(accounts_client, alice, machine_id, DAY0 + 10 * H, DAY0 + 11 * H)).json()
    assert (
        await book(accounts_client, bob, machine_id, DAY0 + 13 * H, DAY0 + 14 * H)
    ).status_code == 201
    url = f"/api/v1/reservations/{made['id']}/extend"
    blocked = await accounts_client.post(
        url, json={"end": (DAY0 + 14 * H).isoformat()}, headers=alice
    )
    assert blocked.status_code == 409 and blocked.json()["error"] == "BookingConflict"
    grown = await accounts_client.post(
        url, json={"end": (DAY0 + 13 * H).isoformat()}, headers=alice
    )
    assert grown.status_code == 200, grown.text
    assert grown.json()["hours"] == 3 and grown.json()["held"] == 9.0
    assert (await wallet(accounts_client, alice))["held"] == 9.0


async def test_offline_machines_and_catalog_offers_cannot_be_booked(
    accounts_client: httpx.AsyncClient,
) -> None:
    host = await sign_up(accounts_client, "host@example.com", ("host",))
    listed = await accounts_client.post(
        "/api/v1/machines",
        json={"name": "rig", "gpu_name": "RTX 4090", "gpu_count": 1, "price_per_hour": "2"},
        headers=host,
    )
    alice = await renter(accounts_client, "alice@example.com")
    response = await book(accounts_client, alice, listed.json()["id"], DAY0 + 10 * H, DAY0 + 11 * H)
    assert response.status_code == 409 and "offline" in response.json()["detail"]
    own = await book(accounts_client, host, listed.json()["id"], DAY0 + 10 * H, DAY0 + 11 * H)
    assert own.status_code == 409 and "your own machine" in own.json()["detail"]


async def test_blocks_belong_to_their_machines_owner(accounts_client: httpx.AsyncClient) -> None:
    host = await sign_up(accounts_client, "host@example.com", ("host",))
    other = await sign_up(accounts_client, "other@example.com", ("host",))
    machine_id, _ = await online_machine(accounts_client, host)
    span = {"start": (DAY0 + 10 * H).isoformat(), "end": (DAY0 + 12 * H).isoformat()}
    block = await accounts_client.post(
        f"/api/v1/machines/{machine_id}/blocks", json=span, headers=host
    )
    assert block.status_code == 201, block.text
    url = f"/api/v1/machines/{machine_id}/blocks/{block.json()['id']}"
    assert (await accounts_client.delete(url, headers=other)).status_code == 404
    alice = await renter(accounts_client, "alice@example.com")
    refused = await book(accounts_client, alice, machine_id, DAY0 + 11 * H, DAY0 + 13 * H)
    assert refused.status_code == 409 and "blocked period" in refused.json()["detail"]
    assert (await accounts_client.delete(url, headers=host)).status_code == 204
    booked = await book(accounts_client, alice, machine_id, DAY0 + 11 * H, DAY0 + 13 * H)
    assert booked.status_code == 201, booked.text
    clash = await accounts_client.post(
        f"/api/v1/machines/{machine_id}/blocks", json=span, headers=host
    )
    assert clash.status_code == 409 and "booked time cannot be blocked" in clash.json()["detail"]

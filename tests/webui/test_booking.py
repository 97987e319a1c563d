"""Booking and launching in Debian's Chromium against a real `gp4u serve` (embedded SQLite,
accounts mode, the `local` provider with priced slots, a host machine whose agent checked in):
a renter finds a host's offer in the marketplace, compares it with another, books a slot in the
calendar dialog, sees it in My reservations, cancels it and gets the money back in the wallet;
launches a session from a `local` offer and shuts it down; another user's reservation URL shows
not-found; a taken time and a short wallet are refused in the dialog in words. axe-core in both
themes, screenshots at both widths."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from tests.webui.conftest import (
    DESKTOP,
    PHONE,
    Account,
    Server,
    assert_accessible,
    logged_in_page,
    missing_for_browser_tests,
    screenshot,
    serve,
    sign_up,
    until,
)

MISSING = missing_for_browser_tests()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")

HOST_PRICE = "2.00"  # per hour: a two-hour booking holds $4.00
LOCAL_SLOT = {"ref": "ui-a100", "gpu": "A100", "gpu_memory_gb": 80, "price_per_hour": 1.5}
RTX4090 = {"name": "NVIDIA GeForce RTX 4090", "memory_gb": 23.99, "driver_version": "550.54"}


@pytest.fixture(scope="module")
def booking_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Like conftest's ui_server, plus: priced `local` slots to launch, host machines that stay
    online after one check-in, and a fast session lifecycle (so a stop ends in `terminated`)."""
    with serve(
        tmp_path_factory.mktemp("booking-server"),
        [LOCAL_SLOT],
        host_offline_after_seconds="86400",
        lifecycle_seconds="0.5",
        reconcile_seconds="1",
        agent_heartbeat_seconds="0.3",
    ) as server:
        yield server


def host_offer(server: Server, email: str) -> dict[str, Any]:
    """A host's machine (RTX 4090, $2/h, always open) whose agent checked in: its market offer."""
    host = sign_up(server, email, "host")
    body = {"name": "rig", "gpu_name": "RTX 4090", "gpu_count": 1, "price_per_hour": HOST_PRICE}
    machine = host.api.post("/api/v1/machines", json=body)
    assert machine.status_code == 201, machine.text
    checked_in = server.api.post(
        "/api/v1/hosts/agent/register",
        json={"token": machine.json()["agent_token"], "facts": {"gpus": [RTX4090], "cpu_count": 8}},
    )
    assert checked_in.status_code == 200, checked_in.text
    machine_id = str(machine.json()["id"])

    def published() -> dict[str, Any] | None:
        items = server.api.get("/api/v1/offers", params={"q": "source=host", "limit": 1000}).json()
        return next((o for o in items["items"] if o["offer_ref"] == machine_id), None)

    return dict(until(published, "the host's machine is on the market"))


def renter(server: Server, email: str, dollars: str) -> Account:
    account = sign_up(server, email)
    paid = account.api.post("/api/v1/wallet/deposits", json={"amount": dollars, "source": "tok_ok"})
    assert paid.status_code == 201, paid.text
    return account


def available(account: Account) -> float:
    return float(account.api.get("/api/v1/wallet").json()["available"])


def next_week(day: int, hour: int) -> datetime:
    """`hour`:00 UTC on weekday `day` (0 = Monday) of next week (the browser runs in UTC)."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    return monday + timedelta(days=day, hours=hour)


def shows(page: Any, text: str) -> int:
    return int(page.get_by_text(text, exact=True).count())


def open_book_dialog(page: Any, offer: dict[str, Any], go: bool = True) -> Any:
    """Book `offer` from its panel in the marketplace (opened here unless `go` is False)."""
    if go:
        page.goto(f"/?q=source%3Dhost&offer={offer['id']}")
    page.get_by_role("button", name="Book", exact=True).click()
    dialog = page.get_by_role("dialog", name=re.compile(rf"^Book {offer['gpu']}.* × 1$"))
    until(lambda: dialog.get_by_role("grid").count(), "the calendar")
    dialog.get_by_role("button", name=re.compile(r"^Next (week|day) →$")).click()
    until(lambda: "updating" not in dialog.locator(".slot-period").inner_text(), "next week")
    return dialog


def set_end(dialog: Any, end: datetime, held: str) -> None:
    """Type a new end and wait for the estimate to read `held` (typed again if a busy browser
    dropped the input event: the field then still shows the old estimate)."""
    field = dialog.get_by_label("End", exact=True)
    field.fill(end.strftime("%Y-%m-%dT%H:%M"))

    def shown() -> bool:
        if dialog.get_by_test_id("estimate-held").inner_text() == held:
            return True
        field.fill(end.strftime("%Y-%m-%dT%H:%M"))
        return False

    until(shown, f"the estimate at {held}")


def pick_two_hours(dialog: Any, day: int, hour: int) -> None:
    """Pick [hour, hour+2) on `day` of the shown week: a click, then the keyboard."""
    dialog.locator(f'[data-cell="{day}-{hour}"]').click()
    dialog.locator(f'[data-cell="{day}-{hour}"]').press("ArrowDown")
    dialog.locator(f'[data-cell="{day}-{hour + 1}"]').press("Enter")


def test_book_a_slot_see_it_cancel_it_and_get_the_refund(
    browser: Any, booking_server: Server
) -> None:
    server = booking_server
    offer = host_offer(server, "host-book@example.com")
    other = host_offer(server, "host-book-2@example.com")
    ada = renter(server, "ada-book@example.com", "100")
    page = logged_in_page(browser, server, ada)

    # Search, compare the two hosts' offers, and open the first back in the marketplace.
    page.goto("/?q=source%3Dhost")
    for pick in (offer, other):
        checkbox = page.get_by_role("checkbox", name=f"Compare offer {pick['id']}")
        until(lambda box=checkbox: box.count(), "the hosts' offers")
        checkbox.check()
    page.get_by_role("region", name=re.compile("^Compare")).get_by_role(
        "link", name="Compare 2 offers"
    ).click()
    until(lambda: page.locator("thead th").count() == 2, "two offers side by side")
    page.get_by_role("link", name=f"Open offer {offer['id']} in the marketplace").click()
    until(lambda: f"offer={offer['id']}" in page.url, "the offer opened")

    dialog = open_book_dialog(page, offer, go=False)
    busy = dialog.locator('[data-status="past"], [data-status="busy"]')
    assert dialog.locator('[data-status="free"]').count() == 7 * 24  # next week: all free
    assert busy.count() == 0
    pick_two_hours(dialog, 1, 10)  # Tuesday 10:00-12:00
    start = next_week(1, 10)
    assert dialog.get_by_label("Start", exact=True).input_value() == start.strftime(
        "%Y-%m-%dT%H:%M"
    )
    assert dialog.get_by_label("End", exact=True).input_value() == (
        start + timedelta(hours=2)
    ).strftime("%Y-%m-%dT%H:%M")
    assert dialog.get_by_test_id("estimate-held").inner_text() == "$4.00"
    assert "$100.00 now, $96.00 after" in dialog.locator(".estimate").inner_text()
    # The estimate follows the times as they change.
    set_end(dialog, start + timedelta(hours=3), "$6.00")
    set_end(dialog, start + timedelta(hours=2), "$4.00")
    dialog.get_by_label("Startup command (optional)").fill("python train.py")
    assert_accessible(page, "booking dialog (light)")
    screenshot(page, "book-dialog-desktop")
    dialog.get_by_role("button", name="Book and hold $4.00").click()

    toast = page.get_by_role("status").filter(has_text="Booked: reservation")
    until(lambda: toast.count(), "the booking toast")
    [mine] = ada.api.get("/api/v1/reservations").json()["items"]
    assert (mine["state"], mine["quote"], mine["held"]) == ("pending", 4.0, 4.0)
    assert datetime.fromisoformat(mine["start"]) == start
    assert available(ada) == 96.0
    page.get_by_role("link", name=f"reservation {mine['id']}").click()
    page.wait_for_url(f"**/reservations/{mine['id']}")

    page.goto("/reservations")
    row = page.get_by_role("row").filter(has_text=f"Reservation {mine['id']}")
    until(lambda: row.count(), "the reservation in My reservations")
    assert "pending" in row.inner_text() and "$4.00" in row.inner_text()
    assert (
        page.get_by_role("navigation", name="My GPUs")
        .get_by_role("link", name="Reservations")
        .get_attribute("aria-current")
        == "page"
    )
    screenshot(page, "reservations-desktop")
    row.get_by_role("link", name=f"Reservation {mine['id']}").click()
    until(lambda: page.get_by_role("heading", name=f"Reservation {mine['id']}").count(), "its page")
    assert "starts in" in page.locator(".cards").inner_text()
    assert (
        offer["gpu"]
        in page.get_by_role("region", name=f"Machine {offer['offer_ref']}").inner_text()
    )
    screenshot(page, "reservation-desktop")

    page.get_by_role("button", name="Cancel reservation").click()
    confirm = page.get_by_role("dialog", name=f"Cancel reservation {mine['id']}?")
    assert confirm.get_by_test_id("cancel-refund").inner_text() == "$4.00"  # shown before
    confirm.get_by_role("button", name="Cancel reservation").click()
    until(lambda: page.get_by_test_id("refunded").count(), "the refund on the page")
    assert page.get_by_test_id("refunded").inner_text() == "$4.00"
    assert "cancelled" in page.locator(".detail-head").inner_text()
    until(lambda: available(ada) == 100.0, "the refund in the wallet")

    # The wallet page's ledger shows the released hold back in the available balance.
    page.goto("/wallet")
    ledger = page.get_by_role("region", name="Transactions").get_by_role("row")
    until(lambda: ledger.filter(has_text="+$4.00").count(), "the refund in the wallet's ledger")
    assert "-$4.00" in ledger.filter(has_text="+$4.00").first.inner_text()  # no longer held
    page.context.close()


def test_launch_a_local_offer_and_shut_it_down(browser: Any, booking_server: Server) -> None:
    server = booking_server
    bob = renter(server, "bob-launch@example.com", "50")

    def ready() -> bool:  # 503 until the server's startup reconciliation is done
        probe = bob.api.post("/api/v1/sessions", json={"offer_id": 999_999, "hours": 1})
        return probe.status_code != 503

    until(ready, "sessions can launch", seconds=60)
    [offer] = until(
        lambda: server.api.get("/api/v1/offers", params={"q": "provider=local"}).json()["items"],
        "the local offer",
    )
    page = logged_in_page(browser, server, bob)
    page.goto(f"/?offer={offer['id']}")
    page.get_by_role("button", name="Launch now").click()
    dialog = page.get_by_role("dialog", name=re.compile(rf"^Launch {offer['gpu']}.* × 1$"))
    dialog.get_by_label("Hours").fill("2")
    until(lambda: dialog.get_by_test_id("estimate-held").inner_text() == "$3.00", "$3 for 2 h")
    assert_accessible(page, "launch dialog")
    screenshot(page, "launch-dialog-desktop")
    dialog.get_by_role("button", name="Launch and hold $3.00").click()

    page.wait_for_url("**/sessions/*")
    session_id = int(page.url.rsplit("/", 1)[1])
    key = page.get_by_role("heading", name="Your private key (shown once)")
    until(lambda: key.count(), "the generated private key, shown once")
    until(lambda: "running" in page.locator(".detail-head").inner_text(), "running", seconds=90)
    until(lambda: page.get_by_label("SSH command").count(), "the SSH command")
    assert page.get_by_role("button", name="Copy the SSH command").is_visible()
    screenshot(page, "session-desktop")

    page.get_by_role("button", name="Shut down").click()
    confirm = page.get_by_role("dialog", name=f"Shut down session {session_id}?")
    confirm.get_by_role("button", name="Shut down").click()
    until(
        lambda: "terminated" in page.locator(".detail-head").inner_text(),
        "terminated on the page (refreshing itself)",
        seconds=90,
    )
    assert bob.api.get(f"/api/v1/sessions/{session_id}").json()["end_reason"] == "user"

    page.goto("/sessions")
    row = page.get_by_role("row").filter(has_text=f"Session {session_id}")
    until(lambda: row.count(), "the session in My sessions")
    assert "terminated" in row.inner_text()
    screenshot(page, "sessions-desktop")
    page.context.close()


def test_another_users_reservation_is_not_found(browser: Any, booking_server: Server) -> None:
    server = booking_server
    offer = host_offer(server, "host-private@example.com")
    owner = renter(server, "cy-private@example.com", "20")
    start = next_week(2, 8)
    booked = owner.api.post(
        "/api/v1/reservations",
        json={
            "machine_id": int(offer["offer_ref"]),
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
    )
    assert booked.status_code == 201, booked.text
    stranger = sign_up(server, "dee-private@example.com")
    page = logged_in_page(browser, server, stranger)
    page.goto(f"/reservations/{booked.json()['id']}")
    until(lambda: page.get_by_role("heading", name="Reservation not found").count(), "not found")
    assert page.get_by_role("alert").filter(has_text=re.compile(r"\S")).count() == 0  # no error
    page.goto("/sessions/999999")
    until(lambda: page.get_by_role("heading", name="Session not found").count(), "not found")
    page.context.close()


def test_a_taken_time_and_a_short_wallet_are_refused_in_the_dialog(
    browser: Any, booking_server: Server
) -> None:
    server = booking_server
    offer = host_offer(server, "host-refuse@example.com")
    eve = renter(server, "eve-refuse@example.com", "100")
    page = logged_in_page(browser, server, eve)
    dialog = open_book_dialog(page, offer)
    pick_two_hours(dialog, 3, 14)  # Thursday 14:00-16:00, free when the calendar loaded

    rival = renter(server, "fay-refuse@example.com", "100")
    start = next_week(3, 15)
    taken = rival.api.post(
        "/api/v1/reservations",
        json={
            "machine_id": int(offer["offer_ref"]),
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
    )
    assert taken.status_code == 201, taken.text
    dialog.get_by_role("button", name="Book and hold $4.00").click()
    alert = dialog.get_by_role("alert")
    until(lambda: alert.count() and "That time is taken" in alert.inner_text(), "the conflict")
    assert "is not free then" in alert.inner_text()
    # The calendar reloads: the rival's hour is now busy (and says so).
    taken_cell = dialog.locator('[data-cell="3-15"]')
    until(lambda: taken_cell.get_attribute("data-status") == "busy", "the taken hour is busy")
    assert ": not available" in taken_cell.get_attribute("aria-label")
    assert "Part of that time is not free" in dialog.inner_text()
    assert eve.api.get("/api/v1/reservations").json()["items"] == []
    page.context.close()

    poor = renter(server, "gus-refuse@example.com", "1")
    page = logged_in_page(browser, server, poor)
    dialog = open_book_dialog(page, offer)
    pick_two_hours(dialog, 4, 9)
    assert "Your wallet has $1.00 available, $4.00 is needed." in dialog.inner_text()
    dialog.get_by_role("button", name="Book and hold $4.00").click()
    alert = dialog.get_by_role("alert")
    until(lambda: alert.count() and "Not enough money" in alert.inner_text(), "insufficient funds")
    assert "insufficient funds" in alert.inner_text()
    assert alert.get_by_role("link", name="Add money to your wallet").is_visible()
    page.context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_pages_are_accessible_in_both_themes_and_widths(
    browser: Any, booking_server: Server, theme: str
) -> None:
    server = booking_server
    offer = host_offer(server, f"host-axe-{theme}@example.com")
    hal = renter(server, f"hal-axe-{theme}@example.com", "100")
    start = next_week(5, 9)
    booked = hal.api.post(
        "/api/v1/reservations",
        json={
            "machine_id": int(offer["offer_ref"]),
            "start": start.isoformat(),
            "end": (start + timedelta(hours=3)).isoformat(),
        },
    ).json()
    local = server.api.get("/api/v1/offers", params={"q": "provider=local"}).json()["items"][0]
    launched = until(
        lambda: (
            (
                r := hal.api.post("/api/v1/sessions", json={"offer_id": local["id"], "hours": 1})
            ).status_code
            == 202
            and r.json()
        ),
        "a session launches",
        seconds=60,
    )
    for viewport, width in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = logged_in_page(browser, server, hal, viewport=viewport, theme=theme)
        pages = {
            "sessions": ("/sessions", f"Session {launched['id']}"),
            "session": (f"/sessions/{launched['id']}", "Connect"),
            "reservations": ("/reservations", f"Reservation {booked['id']}"),
            "reservation": (f"/reservations/{booked['id']}", "When"),
        }
        for name, (path, text) in pages.items():
            page.goto(path)
            until(partial(shows, page, text), f"{name} loaded")
            assert_accessible(page, f"{name} ({theme}, {width})")
            if width == "phone":
                assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
            if theme == "light" or width == "phone":
                screenshot(page, f"{name}-{width}" + ("" if theme == "light" else "-dark"))
        dialog = open_book_dialog(page, offer)
        pick_two_hours(dialog, 0, 9)
        assert_accessible(page, f"booking dialog ({theme}, {width})")
        screenshot(page, f"book-dialog-{width}" + ("" if theme == "light" else "-dark"))
        if width == "phone":  # one day at a time on a phone, and nothing wider than it
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            assert dialog.locator("[data-cell]").count() == 24
        page.context.close()
    hal.api.post(f"/api/v1/sessions/{launched['id']}/stop")

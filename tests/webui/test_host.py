"""Hosting in the browser against a real `gp4u serve`: a host lists a machine through the form
(its checks first), sees the one-time agent command, sets weekday hours; the agent checks in and
a renter books the machine through the API; the host sees the booking on the month calendar
(moved through with the keyboard) and on the dashboard, blocks and unblocks a period; another
user's machine URL shows not-found. Every hosting page passes axe-core in both themes and is
screenshotted at desktop and phone widths."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.webui.conftest import (
    DESKTOP,
    PHONE,
    Server,
    assert_accessible,
    logged_in_page,
    missing_for_browser_tests,
    screenshot,
    sign_up,
    until,
)

MISSING = missing_for_browser_tests()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")

FACTS = {
    "gpus": [{"name": "NVIDIA GeForce RTX 4090", "memory_gb": 23.99, "driver_version": "550.54"}],
    "cpu_count": 16,
    "hostname": "rig",
}


def next_weekday(after: datetime) -> datetime:
    """Midnight UTC of the first Monday-to-Friday at least two days after `after`."""
    day = (after + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def check_both_themes(
    browser: Any, server: Server, account: Any, path: str, ready: str, name: str
) -> None:
    """axe-core in light and dark, and screenshots at desktop and phone widths, of one page."""
    for theme, viewport, width in (("light", DESKTOP, "desktop"), ("dark", PHONE, "phone")):
        page = logged_in_page(browser, server, account, viewport=viewport, theme=theme)
        try:
            page.goto(path)
            page.get_by_text(ready).first.wait_for()
            assert_accessible(page, f"{name} ({theme}, {width})")
            screenshot(page, f"{name}-{width}")
        finally:
            page.context.close()
    for theme, viewport in (("dark", DESKTOP), ("light", PHONE)):
        page = logged_in_page(browser, server, account, viewport=viewport, theme=theme)
        try:
            page.goto(path)
            page.get_by_text(ready).first.wait_for()
            assert_accessible(page, f"{name} ({theme})")
        finally:
            page.context.close()


def test_a_host_lists_a_machine_and_sees_it_booked(browser: Any, ui_server: Server) -> None:
    host = sign_up(ui_server, "host-ui@example.com", "host")
    page = logged_in_page(browser, ui_server, host)
    try:
        page.goto("/host")
        page.get_by_role("heading", name="List your first machine").wait_for()
        page.get_by_role("link", name="List a machine").first.click()
        page.get_by_role("heading", name="List a machine").wait_for()

        # The form's own checks, beside each field, before anything is sent.
        page.get_by_label("Name").fill("")
        page.get_by_label("Price per hour (USD)").fill("-1")
        page.get_by_label("Country").fill("D1")
        page.get_by_role("button", name="List machine").click()
        page.get_by_text("fields need attention").wait_for()
        assert page.get_by_text("Price must be more than 0.").is_visible()
        assert page.get_by_text("A two-letter ISO 3166 code").is_visible()

        page.get_by_label("Name").fill("Basement rig")
        page.get_by_label("GPU model").fill("RTX 4090")
        page.get_by_label("Price per hour (USD)").fill("1.25")
        page.get_by_label("Country").fill("de")
        page.get_by_label("Time zone").fill("UTC")
        page.get_by_role("button", name="Weekdays 9 to 5").click()
        assert page.get_by_label("From (HH:MM), hours 5").input_value() == "09:00"
        page.get_by_role("button", name="List machine").click()

        page.get_by_role("heading", name="Basement rig is listed").wait_for()
        command = page.locator(".copy-block pre").first.inner_text()
        match = re.fullmatch(
            r"GP4U_HOST_TOKEN='(\S+)' gp4u agent host --broker (\S+)", command.strip()
        )
        assert match, command
        token, broker = match.groups()
        assert broker == ui_server.url
        assert page.get_by_text("Mon-Fri 09:00-17:00 (UTC)").is_visible()
        page.get_by_role("link", name="Open the machine").click()
        page.wait_for_url(re.compile(r"/host/machines/\d+$"))
        machine_id = int(page.url.rsplit("/", 1)[1])
        page.get_by_text("Waiting for the agent's first check-in").first.wait_for()
    finally:
        page.context.close()

    # The agent checks in; a renter books a weekday morning through the API.
    registered = ui_server.api.post(
        "/api/v1/hosts/agent/register", json={"token": token, "facts": FACTS}
    )
    assert registered.status_code == 200, registered.text
    renter = sign_up(ui_server, "renter-ui@example.com")
    funded = renter.api.post("/api/v1/wallet/deposits", json={"amount": "100", "source": "tok_ok"})
    assert funded.status_code == 201, funded.text
    day = next_weekday(datetime.now(UTC))
    start, end = day + timedelta(hours=10), day + timedelta(hours=12)
    booked = renter.api.post(
        "/api/v1/reservations",
        json={"machine_id": machine_id, "start": start.isoformat(), "end": end.isoformat()},
    )
    assert booked.status_code == 201, booked.text
    reservation = booked.json()["id"]

    page = logged_in_page(browser, ui_server, host)
    try:
        page.goto(f"/host/machines/{machine_id}")
        page.get_by_role("heading", name="Basement rig").wait_for()
        page.get_by_text("Agent online").wait_for()
        if day.strftime("%Y-%m") != datetime.now(UTC).strftime("%Y-%m"):
            page.get_by_role("button", name="Next month").click()
        page.get_by_role("heading", name=day.strftime("%B %Y")).wait_for()
        booked_day = page.get_by_role("button", name=re.compile(r": 1 booking"))
        booked_day.wait_for()
        label = booked_day.locator(".sr-only").text_content() or ""
        assert label.startswith(day.strftime("%A ") + str(day.day)), label

        # Keyboard: the focused day moves with the arrows and Enter opens it.
        booked_day.focus()
        page.keyboard.press("ArrowRight")
        next_day = day + timedelta(days=1)
        focused = page.evaluate(
            "() => document.activeElement.querySelector('.sr-only').textContent"
        )
        assert focused.startswith(next_day.strftime("%A ") + str(next_day.day)), focused
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("Enter")
        detail = page.get_by_role("region", name=f"Day {day:%Y-%m-%d}")
        detail.get_by_text(f"reservation #{reservation}").wait_for()
        assert f"10:00–12:00 Booked · reservation #{reservation}" in " ".join(
            detail.inner_text().split()
        )

        # Block the next afternoon, see it listed and on the calendar, then unblock it.
        page.get_by_label("From", exact=True).last.fill(f"{next_day:%Y-%m-%d}T13:00")
        page.get_by_label("Until").fill(f"{next_day:%Y-%m-%d}T15:00")
        page.get_by_label("Reason (optional)").fill("driver upgrade")
        page.get_by_role("button", name="Block period").click()
        page.get_by_text("Period blocked").wait_for()
        page.locator(".block-list").get_by_text("driver upgrade").wait_for()
        page.get_by_role("button", name=re.compile(r"blocked period")).first.wait_for()
        page.locator(".block-list").get_by_role("button", name=re.compile("^Unblock")).click()
        page.get_by_text("Nothing blocked").wait_for()

        # Price and hours change through the same form; the page shows the new terms.
        page.get_by_label("Price per hour (USD)").fill("1.5")
        page.get_by_role("button", name="Save changes").click()
        page.get_by_text("Changes saved").wait_for()
        until(lambda: "$1.50/h" in page.locator(".machine-sub").inner_text(), "the new price")

        page.goto("/host")
        machines = page.get_by_role("region", name="Your machines")
        row = machines.get_by_role("row", name=re.compile("Basement rig"))
        row.wait_for()
        assert "Agent online" in row.inner_text()
        upcoming = page.get_by_role("region", name="Upcoming bookings")
        upcoming.get_by_text(f"#{reservation}").wait_for()
        assert "$2.50" in page.get_by_role("region", name="Earnings").inner_text()  # pending
    finally:
        page.context.close()

    check_both_themes(browser, ui_server, host, "/host", "Upcoming bookings", "host")
    check_both_themes(
        browser, ui_server, host, f"/host/machines/{machine_id}", "Blocked periods", "host-machine"
    )
    check_both_themes(
        browser, ui_server, host, "/host/machines/new", "Availability hours", "host-new-machine"
    )

    # Another user's machine is simply not found.
    other = sign_up(ui_server, "other-host-ui@example.com", "host")
    page = logged_in_page(browser, ui_server, other, viewport=PHONE)
    try:
        page.goto(f"/host/machines/{machine_id}")
        page.get_by_role("heading", name="Machine not found").wait_for()
        assert not page.get_by_text("Basement rig").count()
    finally:
        page.context.close()


def test_a_renter_without_the_host_role_is_told_how_to_host(
    browser: Any, ui_server: Server
) -> None:
    renter = sign_up(ui_server, "renter-only-ui@example.com")
    page = logged_in_page(browser, ui_server, renter, viewport=PHONE, theme="dark")
    try:
        page.goto("/host")
        page.get_by_role("heading", name="Hosting needs the host role").wait_for()
        assert_accessible(page, "hosting without the host role")
    finally:
        page.context.close()

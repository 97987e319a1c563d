"""Price alerts in Debian's Chromium against a real `gp4u serve` (embedded SQLite, accounts
mode): create an alert from the marketplace's current search ("Alert me", prefilled with the
query and a suggested threshold), make the market cross it (the `local` provider's offers file,
then an admin sync), see the live toast and the feed entry, follow the toast to the offers, mark
it read and delete the alert; a visitor is sent to log in first. axe-core in both themes and
screenshots at both widths."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
    sign_up,
    until,
)

MISSING = missing_for_browser_tests()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
QUERY = "provider=local gpu=H100"


def price_local_h100(server: Server, admin: Account, dollars: float) -> None:
    """The `local` provider offers one H100 at `dollars` an hour, synced now."""
    slots = [{"ref": "alert-h100", "gpu": "H100", "gpu_memory_gb": 80, "price_per_hour": dollars}]
    (server.data_dir / "local-offers.json").write_text(json.dumps(slots))
    response = admin.api.post("/api/v1/providers/local/sync")
    assert response.status_code == 200, response.text
    offers = server.api.get("/api/v1/offers", params={"q": QUERY}).json()["items"]
    assert [o["price_per_gpu_hour"] for o in offers] == [dollars]


@pytest.fixture(scope="module")
def admin(ui_server: Server) -> Account:
    return sign_up(ui_server, "alerts-admin@example.com", "admin")


def test_alert_from_the_marketplace_fires_live_and_is_deleted(
    browser: Any, ui_server: Server, admin: Account
) -> None:
    price_local_h100(ui_server, admin, 3.0)
    account = sign_up(ui_server, "alerts-watcher@example.com")
    page = logged_in_page(browser, ui_server, account)
    try:
        page.goto("/?q=" + QUERY.replace(" ", "+").replace("=", "%3D"))
        page.get_by_role("button", name="Alert me").click()
        dialog = page.get_by_role("dialog", name="New price alert")
        assert dialog.get_by_label("Offers to watch").input_value() == QUERY
        threshold = dialog.get_by_label("Alert at or below ($ per GPU-hour)")
        until(lambda: threshold.input_value() == "2.70", "the suggested threshold (10 % under $3)")
        dialog.get_by_text("Cheapest match now: $3.00/GPU-hour").wait_for()
        threshold.fill("2.50")
        dialog.get_by_label("Name (optional)").fill("Cheap local H100")
        dialog.get_by_role("button", name="Create alert").click()
        page.locator(".toast").filter(has_text="Alert created").wait_for()
        [watch] = account.api.get("/api/v1/alerts").json()["items"]
        assert (watch["query"], watch["max_price_per_gpu_hour"]) == (QUERY, 2.5)

        page.get_by_role("link", name="Alerts", exact=True).click()
        card = page.get_by_role("listitem", name="Cheap local H100")
        card.get_by_text("Watching").wait_for()
        card.get_by_text("$2.50/GPU-hour").wait_for()
        page.get_by_text("No notifications yet.").wait_for()

        # The market crosses the threshold: the live stream brings a toast and the feed entry.
        price_local_h100(ui_server, admin, 2.0)
        toast = page.get_by_test_id("alert-toast")
        toast.wait_for(timeout=30_000)
        assert "Price alert" in toast.inner_text() and "Cheap local H100: $2/GPU-hour" in (
            toast.inner_text()
        )
        feed = page.get_by_role("list", name="Notifications, newest first")
        feed.get_by_text("Cheap local H100: $2/GPU-hour").wait_for()
        page.get_by_test_id("unread-count").filter(has_text="1 unread").wait_for()
        card.get_by_text("Price is below").wait_for()
        screenshot(page, "alerts-fired-desktop")

        toast.get_by_role("link", name="See offers").click()
        page.wait_for_url(re.compile(r"/\?"))
        [offer] = ui_server.api.get("/api/v1/offers", params={"q": QUERY}).json()["items"]
        params = parse_qs(urlsplit(page.url).query)
        assert (params["q"], params["offer"]) == ([QUERY], [str(offer["id"])])
        page.get_by_role("heading", name=re.compile("H100")).first.wait_for()
        assert page.get_by_test_id("alert-toast").count() == 0

        page.goto("/alerts")
        feed.get_by_role("button", name=re.compile("^Mark read: Cheap local H100")).click()
        until(lambda: page.get_by_test_id("unread-count").count() == 0, "the unread count to clear")
        assert account.api.get("/api/v1/alerts/notifications/unread").json() == {"unread": 0}

        card.get_by_role("button", name="Delete alert Cheap local H100").click()
        confirm = page.get_by_role("dialog", name="Delete this alert?")
        confirm.get_by_role("button", name="Delete alert").click()
        page.locator(".toast").filter(has_text="Alert deleted").wait_for()
        page.get_by_text("No alerts yet.").wait_for()
        assert account.api.get("/api/v1/alerts").json()["items"] == []
    finally:
        page.context.close()
        price_local_h100(ui_server, admin, 3.0)


def test_a_visitor_is_sent_to_log_in_and_back(browser: Any, ui_server: Server) -> None:
    context = browser.new_context(viewport=DESKTOP, base_url=ui_server.url)
    page = context.new_page()
    try:
        page.goto("/?q=gpu%3DH100")
        page.get_by_role("button", name="Alert me").click()
        page.wait_for_url(re.compile(r"/login\?next="))
        assert parse_qs(urlsplit(page.url).query)["next"] == ["/?q=gpu%3DH100"]
    finally:
        context.close()


def test_a_bad_query_is_refused_with_the_servers_reason(browser: Any, ui_server: Server) -> None:
    account = sign_up(ui_server, "alerts-bad@example.com")
    page = logged_in_page(browser, ui_server, account)
    try:
        page.goto("/alerts")
        page.get_by_role("button", name="New alert").click()
        dialog = page.get_by_role("dialog", name="New price alert")
        dialog.get_by_label("Offers to watch").fill("gpuu=H100")
        dialog.get_by_label("Alert at or below ($ per GPU-hour)").fill("2")
        dialog.get_by_role("button", name="Create alert").click()
        dialog.get_by_role("alert").filter(has_text="query").wait_for()
        assert dialog.get_by_label("Offers to watch").get_attribute("aria-invalid") == "true"
        assert account.api.get("/api/v1/alerts").json()["items"] == []
    finally:
        page.context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_alerts_page_is_accessible_at_both_widths(
    browser: Any, ui_server: Server, theme: str
) -> None:
    account = sign_up(ui_server, f"alerts-axe-{theme}@example.com")
    body = {"query": "gpu=A100", "max_price_per_gpu_hour": 0.5, "name": "A100 under 50 cents"}
    assert account.api.post("/api/v1/alerts", json=body).status_code == 201
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = logged_in_page(browser, ui_server, account, viewport=viewport, theme=theme)
        try:
            page.goto("/alerts")
            page.get_by_role("listitem", name="A100 under 50 cents").wait_for()
            page.get_by_text("No notifications yet.").wait_for()
            assert page.evaluate("document.documentElement.dataset.theme") == theme
            screenshot(page, f"alerts-{name}" if theme == "light" else f"alerts-{name}-{theme}")
            assert_accessible(page, f"alerts, {name}, {theme}")
            page.get_by_role("button", name="New alert").click()
            page.get_by_role("dialog", name="New price alert").wait_for()
            assert_accessible(page, f"new alert dialog, {name}, {theme}")
        finally:
            page.context.close()

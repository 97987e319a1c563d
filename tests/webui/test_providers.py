"""The providers page and the admin page in the browser against a real `gp4u serve`: a visitor
sees every provider's health and one provider's detail without admin actions; an admin syncs a
provider and resets its circuit breaker from the page (each confirmed, the outcome in a toast);
/admin lists users (and changes one's roles) and the audit log; a non-admin sees "admins only"
and no Admin link. axe-core in both themes and screenshots at desktop and phone widths."""

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
    axe_violations,
    logged_in_page,
    missing_for_browser_tests,
    screenshot,
    sign_up,
    until,
)

MISSING = missing_for_browser_tests()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")


def a_cancelled_booking(server: Server) -> int:
    """A reservation booked and cancelled through the API, which the audit log records."""
    host = sign_up(server, "audit-host@example.com", "host")
    listed = host.api.post(
        "/api/v1/machines",
        json={"name": "audited", "gpu_name": "RTX 4090", "gpu_count": 1, "price_per_hour": "1"},
    )
    assert listed.status_code == 201, listed.text
    facts = {"gpus": [{"name": "NVIDIA GeForce RTX 4090", "memory_gb": 23.99}], "cpu_count": 8}
    checked_in = server.api.post(
        "/api/v1/hosts/agent/register", json={"token": listed.json()["agent_token"], "facts": facts}
    )
    assert checked_in.status_code == 200, checked_in.text
    renter = sign_up(server, "audit-renter@example.com")
    funded = renter.api.post("/api/v1/wallet/deposits", json={"amount": "50", "source": "tok_ok"})
    assert funded.status_code == 201, funded.text
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    booked = renter.api.post(
        "/api/v1/reservations",
        json={
            "machine_id": listed.json()["id"],
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
    )
    assert booked.status_code == 201, booked.text
    reservation = int(booked.json()["id"])
    cancelled = renter.api.post(f"/api/v1/reservations/{reservation}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    return reservation


def each_theme_and_width(browser: Any, open_page: Any, name: str) -> None:
    """axe-core in both themes at both widths; screenshots `<name>-desktop` and `<name>-phone`."""
    for theme in ("light", "dark"):
        for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page = open_page(viewport, theme)
            try:
                violations = axe_violations(page)
                assert violations == [], f"{name} ({theme}, {width}): {violations}"
                if theme == "light":
                    screenshot(page, f"{name}-{width}")
            finally:
                page.context.close()


def test_a_visitor_sees_provider_health(browser: Any, ui_server: Server) -> None:
    def open_page(viewport: dict[str, int], theme: str) -> Any:
        page = browser.new_context(
            viewport=viewport, base_url=ui_server.url, color_scheme=theme
        ).new_page()
        page.goto("/providers")
        page.get_by_role("button", name="local", exact=True).click()
        page.get_by_role("heading", name="local", exact=True).wait_for()
        page.get_by_text("Sync interval").wait_for()
        return page

    page = open_page(DESKTOP, "light")
    try:
        table = page.get_by_role("table", name="Provider health")
        assert "local" in table.inner_text()
        assert re.search(r"\?provider=local$", page.url)
        assert page.get_by_role("button", name="Sync now").count() == 0  # not for visitors
        assert page.get_by_role("link", name="Admin", exact=True).count() == 0
        page.reload()
        page.get_by_role("heading", name="local", exact=True).wait_for()  # the detail is in the URL
    finally:
        page.context.close()
    each_theme_and_width(browser, open_page, "providers")


def test_an_admin_syncs_and_resets_a_breaker(browser: Any, ui_server: Server) -> None:
    admin = sign_up(ui_server, "admin-providers@example.com", "admin")
    page = logged_in_page(browser, ui_server, admin)
    try:
        page.goto("/providers?provider=local")
        page.get_by_role("button", name="Sync now").click()
        dialog = page.get_by_role("dialog", name="Sync now: local?")
        dialog.get_by_role("button", name="Sync now").click()
        toast = page.get_by_role("status").filter(has_text="local: sync now done")
        toast.wait_for()
        assert re.search(r"\d+ offers seen: \d+ new", toast.inner_text()), toast.inner_text()

        page.get_by_role("button", name="Reset breaker").click()
        page.get_by_role("dialog").get_by_role("button", name="Reset the breaker").click()
        page.get_by_text("The circuit breaker is closed").wait_for()

        page.get_by_role("button", name="Invalidate cache").click()
        page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
        assert page.get_by_role("dialog").count() == 0
        assert_accessible(page, "providers as an admin")
    finally:
        page.context.close()


def test_admin_lists_users_and_the_audit_log(browser: Any, ui_server: Server) -> None:
    admin = sign_up(ui_server, "admin-users@example.com", "admin")
    sign_up(ui_server, "someone-ui@example.com")
    a_cancelled_booking(ui_server)

    def open_users(viewport: dict[str, int], theme: str) -> Any:
        page = logged_in_page(browser, ui_server, admin, viewport=viewport, theme=theme)
        page.goto("/admin")
        page.get_by_role("row", name=re.compile("someone-ui@example.com")).wait_for()
        return page

    page = open_users(DESKTOP, "light")
    try:
        assert page.get_by_role("link", name="Admin", exact=True).is_visible()
        row = page.get_by_role("row", name=re.compile("someone-ui@example.com"))
        assert "renter" in row.inner_text() and "active" in row.inner_text()
        row.get_by_role("button", name=re.compile("^Change roles")).click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_role("checkbox", name=re.compile("^host")).check()
        dialog.get_by_role("button", name="Save roles").click()
        page.get_by_text("someone-ui@example.com: roles changed").wait_for()
        until(lambda: "host, renter" in row.inner_text(), "the new roles in the table")

        row.get_by_role("button", name=re.compile("^Deactivate")).click()
        page.get_by_role("dialog").get_by_role("button", name="Deactivate").click()
        page.get_by_text("someone-ui@example.com deactivated").wait_for()
        until(lambda: "deactivated" in row.inner_text(), "the account shown deactivated")

        page.get_by_role("button", name="Audit log").click()
        page.get_by_role("heading", name="Audit log").wait_for()
        page.locator(".audit-table").get_by_text("reservation_cancelled").first.wait_for()
        page.get_by_label("Action").fill("no.such.action")
        page.get_by_role("button", name="Filter", exact=True).click()
        page.get_by_text("No events match these filters").wait_for()
        assert "action=no.such.action" in page.url
    finally:
        page.context.close()
    each_theme_and_width(browser, open_users, "admin-users")

    def open_audit(viewport: dict[str, int], theme: str) -> Any:
        page = logged_in_page(browser, ui_server, admin, viewport=viewport, theme=theme)
        page.goto("/admin?tab=audit")
        page.locator(".audit-table").wait_for()
        return page

    each_theme_and_width(browser, open_audit, "admin-audit")


def test_a_non_admin_sees_admins_only(browser: Any, ui_server: Server) -> None:
    user = sign_up(ui_server, "not-admin-ui@example.com", "host")
    for theme, viewport in (("light", DESKTOP), ("dark", PHONE)):
        page = logged_in_page(browser, ui_server, user, viewport=viewport, theme=theme)
        try:
            page.goto("/admin")
            page.get_by_role("heading", name="Admins only").wait_for()
            assert page.get_by_role("link", name="Admin", exact=True).count() == 0
            assert_accessible(page, f"admins only ({theme})")
        finally:
            page.context.close()

"""The account pages in Debian's Chromium against a real `gp4u serve` (accounts mode): sign up in
the UI and land logged in where the visitor was going; change the profile and the password (this
tab stays logged in); create an API key, see it in full once, use it against the API, revoke it
and see the API refuse it; store and forget a provider key. Sign-up and account pages pass axe in
both themes, with screenshots at desktop and phone widths."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.webui.conftest import (
    DESKTOP,
    PASSWORD,
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
NEW_PASSWORD = "purple elephants dance at dawn"


def test_signing_up_in_the_ui_lands_logged_in_where_the_visitor_was_going(
    browser: Any, ui_server: Server
) -> None:
    email = "signup-ui@example.com"
    for viewport, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        for theme in ("light", "dark"):
            context = browser.new_context(
                viewport=viewport, base_url=ui_server.url, color_scheme=theme
            )
            page = context.new_page()
            page.goto("/login?next=%2Fclusters")
            page.get_by_role("link", name="Create an account").click()
            page.wait_for_url(re.compile(r"/signup\?next=%2Fclusters$"))
            page.get_by_role("heading", name="Create an account").wait_for()
            assert_accessible(page, f"sign-up, {theme}, {suffix}")
            if theme == "light":
                screenshot(page, f"signup-{suffix}")
            context.close()

    context = browser.new_context(viewport=DESKTOP, base_url=ui_server.url)
    page = context.new_page()
    try:
        page.goto("/signup?next=%2Faccount")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Display name (optional)").fill("Grace")
        page.get_by_label("Password", exact=True).fill("too short")
        page.get_by_label("Password again").fill("too short")
        page.get_by_role("button", name="Create account").click()
        assert "at least 15" in page.get_by_role("alert").first.inner_text()
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password again").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url(re.compile(r"/account$"))
        until(lambda: email in page.locator("main").inner_text(), "the new account's profile")
        assert page.get_by_role("button", name="Log out").is_visible()
        assert page.get_by_role("link", name="Grace").is_visible()

        # The same e-mail again is refused with the server's reason.
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(re.compile(r"/$"))
        page.goto("/signup")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password again").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        alert = page.locator("form .form-error")
        until(lambda: alert.count() and alert.inner_text().strip(), "the refusal")
        assert page.url.endswith("/signup")
    finally:
        context.close()


def _key_works(server: Server, key: str) -> int:
    response = httpx.get(
        f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    return response.status_code


def test_profile_password_api_keys_and_provider_keys(browser: Any, ui_server: Server) -> None:
    account = sign_up(ui_server, "keys-ui@example.com")
    page = logged_in_page(browser, ui_server, account)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    try:
        page.goto("/account")
        page.get_by_role("heading", name="Profile").wait_for()

        # Profile: display name and one's own session limit.
        page.get_by_label("Display name").fill("Ada Lovelace")
        page.get_by_label("Longest session (hours)").fill("4")
        page.get_by_role("button", name="Save profile").click()
        until(lambda: page.get_by_text("Profile saved").count(), "the saved toast")
        me = account.api.get("/api/v1/me").json()
        assert me["display_name"] == "Ada Lovelace" and me["max_session_hours"] == 4
        assert page.get_by_role("link", name="Ada Lovelace").is_visible()
        page.get_by_label("Longest session (hours)").fill("")
        page.get_by_role("button", name="Save profile").click()
        until(
            lambda: account.api.get("/api/v1/me").json()["max_session_hours"] is None,
            "the platform's limit again",
        )

        # An API key: shown once in full, usable, then revoked and refused.
        page.get_by_label("Name", exact=True).fill("ci deploys")
        page.get_by_label("Trade: launch, book and spend from your wallet").check()
        page.get_by_role("button", name="Create key").click()
        dialog = page.get_by_role("dialog", name="Your new API key")
        dialog.wait_for()
        key = dialog.locator(".secret-block").inner_text().strip()
        assert key.startswith("gp4u_")
        dialog.get_by_role("button", name="Copy the API key").click()
        until(lambda: dialog.get_by_text("Copied ✓").count(), "the copied mark")
        assert page.evaluate("navigator.clipboard.readText()") == key
        assert _key_works(ui_server, key) == 200
        dialog.get_by_role("button", name="I have stored it").click()
        row = page.get_by_role("row").filter(has_text="ci deploys")
        assert "read, trade" in row.inner_text()
        assert key not in page.locator("main").inner_text()  # never shown again
        page.get_by_role("button", name="Revoke ci deploys").click()
        page.get_by_role("dialog", name="Revoke ci deploys?").get_by_role(
            "button", name="Revoke key"
        ).click()
        until(lambda: page.get_by_text("You have no API keys.").count(), "the key is gone")
        assert _key_works(ui_server, key) == 401

        # A provider key: stored masked, then forgotten.
        page.get_by_role("button", name="Set the Vast.ai key").click()
        page.get_by_label("Vast.ai API key").fill("vast-secret-123456")
        page.get_by_role("button", name="Save", exact=True).click()
        vast = page.get_by_role("listitem", name="Vast.ai")
        until(lambda: "…" in vast.inner_text() and "Stored" in vast.inner_text(), "the stored key")
        assert "vast-secret-123456" not in page.locator("main").inner_text()
        stored = account.api.get("/api/v1/me/provider-keys").json()["items"]
        assert [k["provider"] for k in stored] == ["vastai"]

        # With keys listed: both themes, both widths.
        page.get_by_label("Name", exact=True).fill("notebook")
        page.get_by_role("button", name="Create key").click()
        page.get_by_role("dialog", name="Your new API key").get_by_role(
            "button", name="I have stored it"
        ).click()
        for theme in ("light", "dark"):
            page.emulate_media(color_scheme=theme)
            page.reload()
            page.get_by_role("row").filter(has_text="notebook").wait_for()
            assert_accessible(page, f"account, {theme}")
        page.emulate_media(color_scheme="light")
        screenshot(page, "account-desktop")
        page.set_viewport_size(PHONE)
        assert_accessible(page, "account, phone")
        screenshot(page, "account-phone")
        page.set_viewport_size(DESKTOP)

        page.get_by_role("button", name="Forget the Vast.ai key").click()
        page.get_by_role("dialog", name="Forget the Vast.ai key?").get_by_role(
            "button", name="Forget key"
        ).click()
        until(lambda: "Not set" in vast.inner_text(), "the forgotten key")
        assert account.api.get("/api/v1/me/provider-keys").json()["items"] == []

        # The password: this tab stays logged in on the fresh pair; the new one logs in.
        page.get_by_label("Current password").fill(PASSWORD)
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("New password again").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Change password").click()
        until(lambda: page.get_by_text("Password changed").count(), "the changed toast")
        page.reload()
        page.get_by_role("heading", name="Profile").wait_for()
        assert page.get_by_role("button", name="Log out").is_visible()
        login = ui_server.api.post(
            "/api/v1/auth/login", json={"email": account.email, "password": NEW_PASSWORD}
        )
        assert login.status_code == 200, login.text
    finally:
        page.context.close()

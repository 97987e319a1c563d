"""The marketplace end to end in Debian's Chromium against a real `gp4u serve` (embedded SQLite,
accounts mode, offline: the simulated market): search with the query language, see only matching
rows, sort by price, share the URL and reload into the same state, open an offer, move through
rows with the keyboard; a protected page sends a visitor to log in and back; no serious or
critical axe-core violations in the light and dark themes; screenshots at desktop and phone
widths in var/screenshots. The server runs on SQLite only: the UI does not change with the
database, and the API's behaviour on both is covered by the rest of the suite."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.webui.conftest import (
    DESKTOP,
    PHONE,
    Server,
    axe_violations,
    missing_for_browser_tests,
    screenshot,
    until,
)

MISSING = missing_for_browser_tests()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")

ROWS_JS = """() => [...document.querySelectorAll('[role=row][data-offer-id]')]
    .sort((a, b) => a.getAttribute('aria-rowindex') - b.getAttribute('aria-rowindex'))
    .map(row => ({
        id: Number(row.dataset.offerId),
        gpu: row.querySelector('[data-column=gpu]').innerText,
        per_hour: row.querySelector('[data-column=price_per_hour]')?.innerText ?? null,
        provider: row.querySelector('[data-column=provider]')?.innerText ?? null,
    }))"""


def rows(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate(ROWS_JS))


def dollars(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@pytest.fixture
def desktop(browser: Any, ui_server: Server) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, base_url=ui_server.url, color_scheme="light")
    page = context.new_page()
    yield page
    context.close()


def test_search_sort_share_and_reload(desktop: Any, ui_server: Server) -> None:
    page = desktop
    page.goto("/")
    until(lambda: rows(page), "the first offers")
    assert page.get_by_text("Simulated market.").is_visible()
    assert page.locator(".badge-simulated").first.is_visible()
    screenshot(page, "marketplace-desktop")

    # Search: only H100 rows, as many as the API finds.
    expected = ui_server.api.get("/api/v1/offers", params={"q": "gpu=H100", "limit": 1000}).json()
    assert 0 < len(expected["items"]) < 1000 and expected["next_cursor"] is None
    box = page.get_by_role("combobox", name="Query")
    box.fill("gpu = H100")
    box.press("Enter")
    page.wait_for_url(re.compile(r"[?&]q=gpu"))
    status = page.get_by_role("status").filter(has_text="offer")
    until(lambda: status.inner_text().startswith(f"{len(expected['items'])} offer"), "H100 count")
    found = until(
        lambda: (r := rows(page)) and all(x["gpu"].startswith("H100") for x in r) and r, "H100 rows"
    )
    assert all(x["gpu"].startswith("H100") for x in found)

    # Sort by the instance price: ascending, then descending; the URL keeps both query and sort.
    header = page.get_by_role("columnheader", name="Per hour")
    header.get_by_role("button").click()
    page.wait_for_url(re.compile(r"sort=price_per_hour"))
    until(lambda: header.get_attribute("aria-sort") == "ascending", "ascending sort")
    ascending = until(
        lambda: (r := rows(page)) and _sorted(r, reverse=False) and r, "ascending rows"
    )
    header.get_by_role("button").click()
    page.wait_for_url(re.compile(r"sort=-price_per_hour"))
    descending = until(
        lambda: (r := rows(page)) and _sorted(r, reverse=True) and r, "descending rows"
    )
    assert descending[0]["per_hour"] != ascending[0]["per_hour"]
    assert query_of(page.url) == {"q": ["gpu = H100"], "sort": ["-price_per_hour"]}

    # A reload (or a shared link) shows the same search, sorted the same way.
    shared = page.url
    page.reload()
    assert page.get_by_role("combobox", name="Query").input_value() == "gpu = H100"
    until(lambda: rows(page) == descending, "the same rows after reload")
    assert (
        page.get_by_role("columnheader", name="Per hour").get_attribute("aria-sort") == "descending"
    )
    assert page.url == shared

    # Open an offer: details, labels, price; the URL names it.
    first = descending[0]
    page.locator(f'[data-offer-id="{first["id"]}"] .row-button').click()
    panel = page.get_by_role("complementary")
    until(lambda: panel.is_visible(), "the offer panel")
    assert query_of(page.url)["offer"] == [str(first["id"])]
    until(
        lambda: "per GPU-hour" in panel.inner_text() and "Offer id" in panel.inner_text(), "details"
    )
    assert "Simulated offer" in panel.inner_text()
    until(lambda: "G-Score" in panel.inner_text(), "the G-Score")
    screenshot(page, "offer-detail-desktop")
    page.keyboard.press("Escape")
    until(lambda: "offer" not in query_of(page.url), "the panel closed")

    # Keyboard: the focused row moves with the arrow keys and Enter opens it.
    page.locator(f'[data-offer-id="{first["id"]}"] .row-button').focus()
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("() => document.activeElement.dataset.row")
    assert focused == "1"
    page.keyboard.press("Enter")
    until(lambda: query_of(page.url).get("offer") == [str(descending[1]["id"])], "row 2 opened")


def _sorted(found: list[dict[str, Any]], reverse: bool) -> bool:
    prices = [dollars(r["per_hour"]) for r in found]
    return len(prices) > 1 and prices == sorted(prices, reverse=reverse)


def test_a_bad_query_is_explained_not_sent(desktop: Any) -> None:
    page = desktop
    page.goto("/?q=gpu%3DH100")
    until(lambda: rows(page), "offers")
    box = page.get_by_role("combobox", name="Query")
    box.fill("gpu=H100 gpuu_count>=8")
    box.press("Enter")
    alert = page.locator(".querybar-error")
    until(lambda: "Unknown field" in alert.inner_text(), "the problem")
    assert "gpu_count" in alert.inner_text()
    assert query_of(page.url)["q"] == ["gpu=H100"]
    # A value only the server can judge: its answer is shown the same way.
    box.fill("gpu_count>=lots")
    box.press("Enter")
    until(lambda: "bad value" in alert.inner_text(), "the server's refusal")


def test_the_theme_follows_the_system_until_chosen(browser: Any, ui_server: Server) -> None:
    context = browser.new_context(viewport=DESKTOP, base_url=ui_server.url, color_scheme="dark")
    page = context.new_page()
    try:
        page.goto("/")
        theme = "document.documentElement.dataset.theme"
        assert page.evaluate(theme) == "dark"
        toggle = page.get_by_role("button", name=re.compile("^Theme: System"))
        toggle.click()  # System -> Light
        assert page.evaluate(theme) == "light"
        page.reload()
        assert page.evaluate(theme) == "light"  # applied before the first paint, too
        page.get_by_role("button", name=re.compile("^Theme: Light")).click()  # -> Dark
        page.get_by_role("button", name=re.compile("^Theme: Dark")).click()  # -> System
        assert page.evaluate(theme) == "dark"
    finally:
        context.close()


def test_a_protected_page_sends_a_visitor_to_log_in_and_back(
    browser: Any, ui_server: Server
) -> None:
    email, password = "ada@example.com", "correct horse battery staple"
    signup = ui_server.api.post("/api/v1/auth/signup", json={"email": email, "password": password})
    assert signup.status_code == 201, signup.text
    context = browser.new_context(viewport=PHONE, base_url=ui_server.url)
    page = context.new_page()
    try:
        page.goto("/account")
        page.wait_for_url(re.compile(r"/login\?next=%2Faccount$"))
        assert page.get_by_role("heading", name="Log in").is_visible()
        screenshot(page, "login-phone")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r"/account$"))
        until(lambda: email in page.locator("main").inner_text(), "the profile")
        screenshot(page, "account-phone")
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(re.compile(r"/$"))
        page.goto("/account")
        page.wait_for_url(re.compile(r"/login\?next=%2Faccount$"))
    finally:
        context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_serious_accessibility_violations(browser: Any, ui_server: Server, theme: str) -> None:
    offers = ui_server.api.get("/api/v1/offers", params={"q": "gpu=H100", "limit": 1}).json()
    offer = offers["items"][0]["id"]
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport, base_url=ui_server.url, color_scheme=theme)
        page = context.new_page()
        try:
            page.goto("/")
            until(lambda page=page: rows(page), "offers")
            assert page.evaluate("document.documentElement.dataset.theme") == theme
            screenshot(page, f"marketplace-{name}-{theme}")
            assert axe_violations(page) == [], f"marketplace, {name}, {theme}"
            page.goto(f"/?q=gpu%3DH100&offer={offer}")
            until(
                lambda page=page: "Offer id" in page.locator(".offer-panel").inner_text(),
                "details",
            )
            screenshot(page, f"offer-detail-{name}-{theme}")
            assert axe_violations(page) == [], f"offer detail, {name}, {theme}"
            # A panel beside the table on a desktop; a modal dialog over the page on a phone.
            role = "dialog" if name == "phone" else "complementary"
            assert page.get_by_role(role, name=re.compile("H100")).is_visible()
            page.keyboard.press("Escape")
            until(lambda page=page: "offer" not in query_of(page.url), "the panel closed")
            page.goto("/login")
            page.get_by_role("heading", name="Log in").wait_for()
            assert axe_violations(page) == [], f"login, {name}, {theme}"
        finally:
            context.close()

"""The cluster pages in Debian's Chromium against a real `gp4u serve` (accounts mode, offline: the
simulated market to plan on, and two priced slots of the `local` provider that can really launch):
the wizard from a sentence to a plan and into the step form; the step form to a plan with
alternatives, one of which is chosen; a visitor without a login is sent to log in and comes back
to the same plan; creating without funds is refused clearly; with a funded wallet a cluster is
created, started (its member is a real local process), watched live and stopped (after a
confirmation); another user's cluster is not found. Every page passes axe in both themes, with
screenshots at desktop and phone widths."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

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
    serve,
    sign_up,
    until,
)

MISSING = missing_for_browser_tests()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")

SLOTS = [
    {"ref": "slot-a", "gpu": "H100", "gpu_memory_gb": 80, "price_per_hour": 2.00},
    {"ref": "slot-b", "gpu": "H100", "gpu_memory_gb": 80, "price_per_hour": 2.10},
]
SENTENCE = "fine-tune Llama 3 70B on 2B tokens by Friday under $3,000"
# Half a PFLOP-hour within 1.5 h: one H100 slot for a bit over an hour (about $2.50).
SMALL_JOB = "/clusters/new?via=form&compute=pflop&pflop_hours=0.5&deadline_hours=1.5&max_machines=2"


@pytest.fixture(scope="module")
def cluster_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Like conftest's ui_server, plus the local provider's slots and a quick lifecycle loop, so
    a started cluster's member launches as a local process within seconds."""
    with serve(
        tmp_path_factory.mktemp("cluster-ui-server"),
        SLOTS,
        lifecycle_seconds="0.5",
        reconcile_seconds="1",
        agent_heartbeat_seconds="0.3",
        agent_heartbeat_timeout_seconds="20",
        agent_broker_timeout_seconds="6",
    ) as server:
        until(
            lambda: (
                len(
                    server.api.get("/api/v1/offers", params={"q": "provider=local"}).json()["items"]
                )
                == len(SLOTS)
            ),
            "the local slots are on the market",
            60,
        )
        yield server


def _visitor(
    browser: Any, server: Server, viewport: dict[str, int] = DESKTOP, theme: str = "light"
) -> Any:
    context = browser.new_context(viewport=viewport, base_url=server.url, color_scheme=theme)
    return context.new_page()


def _total(page: Any) -> str:
    card = page.locator(".plan-stats .stat").filter(has_text="Total cost")
    return str(card.locator(".stat-value").inner_text())


def _dollars(text: str) -> float:
    return float(text.strip().lstrip("$").replace(",", ""))


def _check_everywhere(
    browser: Any, server: Server, path: str, name: str, ready: Any, account: Any = None
) -> None:
    """axe in both themes and full-page screenshots at both widths of the page at `path`."""
    for viewport, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        for theme in ("light", "dark"):
            page = (
                logged_in_page(browser, server, account, viewport=viewport, theme=theme)
                if account
                else _visitor(browser, server, viewport, theme)
            )
            try:
                page.goto(path)
                ready(page)
                assert_accessible(page, f"{name}, {theme}, {suffix}")
                if theme == "light":
                    screenshot(page, f"{name}-{suffix}")
            finally:
                page.context.close()


def _plan_shown(page: Any) -> None:
    page.get_by_role("heading", name="Least-cost plan").wait_for(timeout=30_000)


def test_the_wizard_turns_a_sentence_into_a_plan_and_the_step_form(
    browser: Any, cluster_server: Server
) -> None:
    page = _visitor(browser, cluster_server)
    try:
        page.goto("/clusters/new")
        page.get_by_label("What do you want to run?").fill(SENTENCE)
        page.get_by_role("button", name="Plan it").click()
        _plan_shown(page)
        understood = page.locator(".understood").inner_text()
        assert "llama-3-70b" in understood and "$3,000.00" in understood
        assert "describe=" in page.url
        total = _total(page)
        assert total.startswith("$")
        assert (
            page.get_by_role("table").filter(has_text="H100").count()
            or page.locator(".plan-view table tbody tr").count()
        )

        # What it understood, editable: the step form holds the same requirement.
        page.get_by_role("button", name="Edit these settings").click()
        page.wait_for_url(re.compile(r"via=form"))
        step_tab = page.get_by_role("tab", name="Step by step")
        until(lambda: step_tab.get_attribute("aria-selected") == "true", "the step form's tab")
        until(lambda: page.get_by_label("Useful PFLOP-hours").input_value(), "the PFLOP-hours")
        assert page.get_by_label("Budget (USD, optional)").input_value() == "3000"
        _plan_shown(page)
        # The same requirement (its deadline now counted a moment later): the same plan.
        assert abs(_dollars(_total(page)) - _dollars(total)) <= 0.005 * _dollars(total)
    finally:
        page.context.close()
    _check_everywhere(
        browser,
        cluster_server,
        "/clusters/new?describe=" + quote_plus(SENTENCE),
        "cluster-wizard",
        _plan_shown,
    )


def test_the_step_form_plans_with_alternatives_that_can_be_chosen(
    browser: Any, cluster_server: Server
) -> None:
    page = _visitor(browser, cluster_server)
    try:
        page.goto("/clusters/new")
        page.get_by_role("tab", name="Step by step").click()
        page.get_by_role("button", name="Plan it").click()
        assert "size" in page.get_by_role("alert").first.inner_text()  # checked before sending
        page.get_by_label("PFLOP-hours", exact=True).check()
        page.get_by_label("Useful PFLOP-hours").fill("100")
        page.get_by_label("Done within (hours)").fill("24")
        page.get_by_role("button", name="Plan it").click()
        _plan_shown(page)
        params = parse_qs(urlsplit(page.url).query)
        assert params["pflop_hours"] == ["100"] and params["deadline_hours"] == ["24"]
        before = _total(page)
        alternatives = page.get_by_role("region", name="Alternatives")
        spot = alternatives.get_by_role("button", name="Use this: allowing spot instances")
        spot.click()
        page.wait_for_url(re.compile(r"spot_allowed=1"))
        until(
            lambda: page.get_by_label("Spot (interruptible) instances are fine").is_checked(),
            "spot",
        )
        until(lambda: _total(page) != before, "the cheaper plan")
        assert _dollars(_total(page)) < _dollars(before)
    finally:
        page.context.close()
    _check_everywhere(
        browser,
        cluster_server,
        "/clusters/new?via=form&compute=pflop&pflop_hours=100&deadline_hours=24",
        "cluster-plan",
        _plan_shown,
    )


def test_a_visitor_logs_in_to_create_and_comes_back_to_the_same_plan(
    browser: Any, cluster_server: Server
) -> None:
    account = sign_up(cluster_server, "planner@example.com")
    page = _visitor(browser, cluster_server)
    try:
        page.goto(SMALL_JOB)
        _plan_shown(page)
        total = _total(page)
        planned_url = page.url
        page.get_by_role("link", name="Log in to create").click()
        page.wait_for_url(re.compile(r"/login\?next=%2Fclusters%2Fnew%3F"))
        page.get_by_label("E-mail").fill(account.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(planned_url)
        _plan_shown(page)
        assert _total(page) == total
        page.get_by_role("button", name="Create cluster").wait_for()

        # No money on the wallet: refused, with the way to fix it.
        page.get_by_role("button", name="Create cluster").click()
        error = page.locator(".create-cluster .form-error")
        until(lambda: error.count() and "wallet" in error.inner_text().lower(), "the refusal")
        assert error.get_by_role("link", name=re.compile("Add funds")).is_visible()
        assert account.api.get("/api/v1/clusters").json()["items"] == []
    finally:
        page.context.close()


def _state(page: Any) -> str:
    return str(page.locator("h1 .state").inner_text())


def test_create_start_watch_and_stop_a_cluster(browser: Any, cluster_server: Server) -> None:
    owner = sign_up(cluster_server, "cluster-owner@example.com")
    deposit = owner.api.post(
        "/api/v1/wallet/deposits", json={"amount": "50.00", "source": "tok_ok"}
    )
    assert deposit.status_code in (200, 201), deposit.text
    page = logged_in_page(browser, cluster_server, owner)
    try:
        page.goto("/clusters")
        page.get_by_text("You have no clusters yet.").wait_for()
        page.goto(SMALL_JOB)
        _plan_shown(page)
        page.get_by_label("Name", exact=True).fill("ui-demo")
        page.get_by_label("Startup command").fill("sleep 600")
        page.get_by_label("Environment variables").fill("MODE=demo")
        page.get_by_role("button", name="Create cluster").click()
        page.wait_for_url(re.compile(r"/clusters/\d+$"))
        cluster_id = int(page.url.rsplit("/", 1)[1])
        page.get_by_role("heading", name=re.compile("ui-demo")).wait_for()
        assert _state(page) == "planned"
        held = owner.api.get("/api/v1/wallet").json()["held"]
        cluster = owner.api.get(f"/api/v1/clusters/{cluster_id}").json()
        assert held == cluster["money"]["estimate"] > 0
        assert cluster["env_keys"] == ["MODE"] and cluster["members"][0]["provider"] == "local"
        assert "local" in page.get_by_role("table").filter(has_text="Provider").inner_text()

        # Start (the server may still be reconciling at first: the toast says so; try again).
        start = page.get_by_role("button", name="Start", exact=True)

        def started() -> bool:
            if _state(page) != "planned":
                return True
            if start.count() and start.is_enabled():
                start.click()
            return False

        until(started, "the cluster starts", 60)
        until(lambda: _state(page) == "running", "the member runs (live refresh)", 90)
        members = page.get_by_role("table").filter(has_text="Provider")
        until(lambda: "started" in members.inner_text(), "the member started")
        assert "Live" in page.locator("main").inner_text()
        _check_everywhere(
            browser,
            cluster_server,
            f"/clusters/{cluster_id}",
            "cluster",
            lambda p: p.get_by_role("heading", name=re.compile("ui-demo")).wait_for(),
            owner,
        )
        _check_everywhere(
            browser,
            cluster_server,
            "/clusters",
            "clusters",
            lambda p: p.get_by_role("link", name="ui-demo").wait_for(),
            owner,
        )

        # Stop asks first; keeping it changes nothing.
        page.get_by_role("button", name="Stop", exact=True).click()
        dialog = page.get_by_role("dialog", name="Stop ui-demo?")
        dialog.get_by_role("button", name="Keep it").click()
        assert _state(page) == "running"
        page.get_by_role("button", name="Stop", exact=True).click()
        dialog.get_by_role("button", name="Stop the cluster").click()
        until(lambda: _state(page) in ("ending", "stopped"), "the cluster stops")
        until(lambda: _state(page) == "stopped", "the machines are gone", 90)
        assert owner.api.get("/api/v1/wallet").json()["held"] == 0

        # The list shows it with its state and cost.
        page.goto("/clusters")
        row = page.get_by_role("row").filter(has_text="ui-demo")
        assert "stopped" in row.inner_text() and "$" in row.inner_text()
    finally:
        page.context.close()

    # Another user: the same address is not found.
    other = sign_up(cluster_server, "someone-else@example.com")
    stranger = logged_in_page(browser, cluster_server, other)
    try:
        stranger.goto(f"/clusters/{cluster_id}")
        stranger.get_by_role("heading", name="Cluster not found").wait_for()
        assert "ui-demo" not in stranger.locator("main").inner_text()
    finally:
        stranger.context.close()

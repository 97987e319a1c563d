"""The wallet and costs pages in Debian's Chromium against a real `gp4u serve` (embedded SQLite,
accounts mode, the test payment rails): add and withdraw money and see the balances and the
payments, a declined deposit, the transactions filter (kept in the URL), the 30-day spending
chart, a budget set, shown, changed and removed, the transactions and costs CSV downloads (their
files read back), the costs report; axe-core in both themes and screenshots at both widths."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
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
    sign_up,
    until,
)

MISSING = missing_for_browser_tests()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")


def open_wallet(browser: Any, server: Server, account: Account, **options: Any) -> Any:
    page = logged_in_page(browser, server, account, **options)
    page.goto("/wallet")
    page.get_by_role("heading", name="Wallet", level=1).wait_for()
    return page


def toast(page: Any, text: str) -> None:
    page.locator(".toast").filter(has_text=text).first.wait_for()


def move_money(page: Any, button: str, amount: str, account: str = "tok_ok") -> None:
    page.get_by_role("button", name=button, exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Amount (USD)").fill(amount)
    dialog.get_by_role("textbox", name=re.compile("Funding source|Destination")).fill(account)
    dialog.get_by_role("button", name=re.compile("^(Deposit|Withdraw)$")).click()


def available(page: Any) -> str:
    return str(page.get_by_test_id("available").inner_text())


def test_add_and_withdraw_money_and_see_payments(browser: Any, ui_server: Server) -> None:
    account = sign_up(ui_server, "wallet-money@example.com")
    page = open_wallet(browser, ui_server, account)
    try:
        page.get_by_text("No payments yet").wait_for()
        page.get_by_text("No transactions yet.").wait_for()

        # A bad amount is explained in the dialog and nothing is sent.
        page.get_by_role("button", name="Add money").click()
        dialog = page.get_by_role("dialog", name="Add money")
        dialog.get_by_label("Amount (USD)").fill("12.345")
        dialog.get_by_role("button", name="Deposit").click()
        dialog.get_by_text("Use dollars and cents").wait_for()
        dialog.get_by_role("button", name="Cancel").click()
        assert (
            ui_server.api.get("/api/v1/wallet/payments", headers=account.api.headers).json()[
                "items"
            ]
            == []
        )

        move_money(page, "Add money", "50")
        toast(page, "Deposited $50.00")
        until(lambda: available(page) == "$50.00", "the balance after the deposit")
        move_money(page, "Withdraw", "20")
        toast(page, "Withdrew $20.00")
        until(lambda: available(page) == "$30.00", "the balance after the withdrawal")
        move_money(page, "Add money", "5", account="tok_decline")
        toast(page, "Deposit of $5.00 failed")
        assert available(page) == "$30.00"

        payments = page.get_by_role("table", name="Your latest payments")
        until(lambda: payments.locator("tbody tr").count() == 3, "three payments")
        statuses = payments.locator("tbody tr td:nth-child(4) .state").all_inner_texts()
        assert statuses == ["failed", "settled", "settled"]
        assert payments.locator("tbody tr").first.get_by_text("declined").is_visible()
        on_server = account.api.get("/api/v1/wallet").json()
        assert (on_server["available"], on_server["held"]) == (30, 0)
        screenshot(page, "wallet-money-desktop")
    finally:
        page.context.close()


def test_transactions_filter_and_csv_download(
    browser: Any, ui_server: Server, tmp_path: Path
) -> None:
    account = sign_up(ui_server, "wallet-ledger@example.com")
    for amount in ("10", "15"):
        body = {"amount": amount, "source": "tok_ok"}
        assert account.api.post("/api/v1/wallet/deposits", json=body).status_code == 201
    body = {"amount": "4", "destination": "tok_ok"}
    assert account.api.post("/api/v1/wallet/withdrawals", json=body).status_code == 201
    page = open_wallet(browser, ui_server, account)
    try:
        table = page.get_by_role("table", name="Transactions, newest first")
        kinds = table.locator("tbody tr td:nth-child(2)")
        until(lambda: kinds.count() >= 4, "the ledger")  # two deposits, a hold and its payout
        assert kinds.all_inner_texts().count("Deposit") == 2

        page.get_by_label("Kind").select_option("deposit")
        page.wait_for_url(re.compile(r"kind=deposit"))
        until(lambda: set(kinds.all_inner_texts()) == {"Deposit"}, "only deposits")
        amounts = table.locator("tbody tr td:nth-child(3)").all_inner_texts()
        assert amounts == ["+$15.00", "+$10.00"]

        # The same filter downloads as CSV, read back from the file.
        with page.expect_download() as info:
            page.get_by_role("button", name="Download CSV").click()
        download = info.value
        assert download.suggested_filename == "gp4u-transactions.csv"
        saved = tmp_path / "tx.csv"
        download.save_as(saved)
        rows = list(csv.DictReader(io.StringIO(saved.read_text())))
        assert [(r["kind"], float(r["available_change"])) for r in rows] == [
            ("deposit", 15),
            ("deposit", 10),
        ]
        toast(page, "Transactions downloaded")

        # A range starting tomorrow matches nothing; the filter survives a reload.
        page.get_by_label("From").fill("2999-01-01")
        page.get_by_text("No transactions match this filter.").wait_for()
        page.reload()
        page.get_by_text("No transactions match this filter.").wait_for()
        assert page.get_by_label("Kind").input_value() == "deposit"
        page.get_by_role("button", name="Clear filters").click()
        until(lambda: kinds.count() >= 4, "every entry again")
    finally:
        page.context.close()


def test_spending_chart_and_budgets(browser: Any, ui_server: Server) -> None:
    account = sign_up(ui_server, "wallet-budget@example.com")
    page = open_wallet(browser, ui_server, account)
    try:
        chart = page.get_by_test_id("spending-chart")
        chart.locator(".recharts-wrapper > svg").wait_for()
        ticks = chart.locator(".recharts-xAxis .recharts-cartesian-axis-tick")
        until(lambda: ticks.count() >= 3, "the chart's day axis")
        assert page.get_by_text("$0.00 spent: nothing charged in these days.").is_visible()
        page.get_by_text("Spending by day as a table").click()
        page.get_by_text("No spending in these days.").wait_for()

        page.get_by_text("No budget set.").wait_for()
        page.get_by_role("button", name="Set a budget").click()
        dialog = page.get_by_role("dialog", name="Set a monthly budget")
        assert dialog.get_by_label("Applies to").input_value() == ""  # the whole account
        dialog.get_by_label("Monthly limit (USD)").fill("100")
        dialog.get_by_role("button", name="Save budget").click()
        toast(page, "Budget set: $100.00 a month")
        budget = page.locator(".budget").filter(has_text="Whole account")
        budget.get_by_text("$0.00 of $100.00 used (0 %)").wait_for()
        page.locator(".stat").filter(has_text="Budget this month").get_by_text(
            "of $100.00"
        ).wait_for()
        assert account.api.get("/api/v1/wallet/budget").json()["budget"]["monthly_limit"] == 100

        page.get_by_role("button", name="Change budget: Whole account").click()
        dialog = page.get_by_role("dialog", name="Change budget: Whole account")
        assert dialog.get_by_label("Monthly limit (USD)").input_value() == "100"
        dialog.get_by_label("Monthly limit (USD)").fill("250.50")
        dialog.get_by_role("button", name="Save budget").click()
        budget.get_by_text("of $250.50 used").wait_for()
        screenshot(page, "wallet-budget-desktop")

        page.get_by_role("button", name="Remove budget: Whole account").click()
        toast(page, "Budget removed")
        page.get_by_text("No budget set.").wait_for()
        assert account.api.get("/api/v1/wallet/budget").json()["budget"] is None
    finally:
        page.context.close()


def test_costs_report_and_its_csv(browser: Any, ui_server: Server, tmp_path: Path) -> None:
    account = sign_up(ui_server, "wallet-costs@example.com")
    page = open_wallet(browser, ui_server, account)
    try:
        page.get_by_role("navigation", name="Wallet and costs").get_by_role(
            "link", name="Costs"
        ).click()
        page.get_by_role("heading", name="Costs", level=1).wait_for()
        page.get_by_text("Projected month end").wait_for()
        page.get_by_text("No GPU sessions ran in the last 30 days.").wait_for()
        months = page.get_by_role("table", name=re.compile("Cost by month"))
        assert months.locator("tbody tr").count() == 12

        page.get_by_label("Days", exact=True).select_option("7")
        page.wait_for_url(re.compile(r"days=7"))
        page.get_by_text("No GPU sessions ran in the last 7 days.").wait_for()
        chart = page.get_by_test_id("daily-cost-chart")
        ticks = chart.locator(".recharts-xAxis .recharts-cartesian-axis-tick")
        until(lambda: 0 < ticks.count() <= 7, "the chart of seven days")
        page.get_by_text("Cost by day as a table").click()
        page.get_by_text("No session cost on any of these days.").wait_for()
        page.get_by_label("Month", exact=True).fill("2026-01")
        page.wait_for_url(re.compile(r"month=2026-01"))
        page.get_by_text("January 2026 is over").wait_for()

        with page.expect_download() as info:
            page.get_by_role("button", name="Download by month as CSV").click()
        download = info.value
        assert download.suggested_filename == "gp4u-costs-monthly-to-2026-01.csv"
        saved = tmp_path / "months.csv"
        download.save_as(saved)
        rows = list(csv.DictReader(io.StringIO(saved.read_text())))
        assert [r["month"] for r in rows][-2:] == ["2025-12", "2026-01"] and len(rows) == 12
        assert all(float(r["cost"]) == 0 for r in rows)
        toast(page, "By month downloaded")
    finally:
        page.context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_wallet_and_costs_are_accessible_at_both_widths(
    browser: Any, ui_server: Server, theme: str
) -> None:
    account = sign_up(ui_server, f"wallet-axe-{theme}@example.com")
    account.api.post("/api/v1/wallet/deposits", json={"amount": "42", "source": "tok_ok"})
    account.api.put("/api/v1/wallet/budget", json={"monthly_limit": "50"})
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_wallet(browser, ui_server, account, viewport=viewport, theme=theme)
        try:
            page.get_by_test_id("spending-chart").locator(".recharts-wrapper > svg").wait_for()
            page.get_by_role("table", name="Transactions, newest first").wait_for()
            page.locator(".budget").first.wait_for()
            assert page.evaluate("document.documentElement.dataset.theme") == theme
            screenshot(page, f"wallet-{name}" if theme == "light" else f"wallet-{name}-{theme}")
            assert_accessible(page, f"wallet, {name}, {theme}")
            page.get_by_role("button", name="Add money").click()
            page.get_by_role("dialog", name="Add money").wait_for()
            assert_accessible(page, f"deposit dialog, {name}, {theme}")
            page.keyboard.press("Escape")

            page.goto("/costs")
            page.get_by_text("Projected month end").wait_for()
            screenshot(page, f"costs-{name}" if theme == "light" else f"costs-{name}-{theme}")
            assert_accessible(page, f"costs, {name}, {theme}")
        finally:
            page.context.close()

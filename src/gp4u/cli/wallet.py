"""`gp4u wallet`: balance, deposits, withdrawals, history and monthly budgets, on the embedded
database as the local user or on a remote server (--api) as the logged-in user (the two
backends are in `gp4u.cli.wallet_backend`; they return the same shapes, so the output is the
same either way)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from gp4u.cli.common import (
    api_option,
    fail,
    handle_errors,
    json_option,
    load_settings,
    output_options,
)
from gp4u.cli.remote import RemoteError
from gp4u.cli.wallet_backend import open_wallet

# The wallet API's entry kinds (gp4u.wallet.schemas.EntryKind; a test keeps the two equal).
ENTRY_KINDS = (
    "deposit",
    "withdraw",
    "hold",
    "capture",
    "void",
    "expire",
    "payout",
    "refund",
    "earnings",
)
MAX_HISTORY = 200
RETRY_PAUSE_SECONDS = 1.0
IDEMPOTENCY_HELP = (
    "Makes a rerun safe: a run with a KEY used before returns the first result instead of "
    "moving money again. Without it each run makes a fresh key: the command itself retries a "
    "lost answer safely once, but running the command twice moves money twice (if the answer "
    "stays lost, the error names the key to rerun with)."
)


# --- rendering -----------------------------------------------------------------------------


def usd(value: float | None, signed: bool = False) -> str:
    """Dollars with cents, and with more digits only where the ledger has them: $1,234.50,
    $0.123456; `signed` adds + or - (and leaves zero blank)."""
    if value is None:
        return "-"
    if signed and value == 0:
        return ""
    text = f"{abs(value):,.6f}".rstrip("0")
    whole, _, fraction = text.partition(".")
    body = f"${whole}.{fraction.ljust(2, '0')}"
    if value < 0:
        return "-" + body
    return ("+" if signed else "") + body


def _payment_line(payment: dict[str, Any], verb: str) -> str:
    line = (
        f"{verb} #{payment['id']}: {usd(payment['amount'])} via {payment['rail']}, "
        f"{payment['status']}"
    )
    if payment["status"] == "pending":
        line += " (the rail settles it later; see gp4u wallet history)"
    if payment.get("replayed"):
        line += " (a replay: this idempotency key was used before, nothing new happened)"
    return line


def _balance_line(data: dict[str, Any]) -> str:
    return f"balance: {usd(data['available'])} available, {usd(data['held'])} held"


def _memo(memo: dict[str, Any]) -> str:
    text = " ".join(f"{k}={v}" for k, v in sorted(memo.items()))
    return text if len(text) <= 60 else text[:59] + "…"


def _budget_row(name: str, b: dict[str, Any]) -> tuple[str, ...]:
    return (
        name,
        usd(b["monthly_limit"]),
        usd(b["spent"]),
        usd(b["remaining"]),
        f"{b['used_percent']:g}%",
    )


def print_budgets(data: dict[str, Any]) -> None:
    from gp4u.cli import output

    rows = [_budget_row("account", data["budget"])] if data["budget"] else []
    rows += [_budget_row(f"API key {b['key_id']}", b) for b in data["keys"]]
    if not rows:
        click.echo(
            f"no monthly budget; {usd(data['spent'])} spent in {data['month']} "
            "(set one: gp4u wallet budget --set 100)"
        )
        return
    output.print_table(
        None,
        [
            ("BUDGET", "left"),
            ("MONTHLY", "right"),
            ("SPENT", "right"),
            ("REMAINING", "right"),
            ("USED", "right"),
        ],
        rows,
    )
    click.echo(
        f"{data['month']} (UTC): alerts at 50, 80 and 100 %; at 100 % new spending is refused"
    )


# --- commands ------------------------------------------------------------------------------


class Usd(click.ParamType[Decimal, Any]):
    """A positive dollar amount with at most two decimals (cents), kept exact."""

    name = "USD"

    def __init__(self, allow_zero: bool = False) -> None:
        self.allow_zero = allow_zero

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Decimal:
        if isinstance(value, Decimal):
            return value
        try:
            amount = Decimal(str(value).strip().lstrip("$").replace(",", ""))
        except InvalidOperation:
            self.fail(f"{value!r} is not an amount in dollars, e.g. 25 or 25.50", param, ctx)
        if not amount.is_finite() or amount < 0 or (amount == 0 and not self.allow_zero):
            least = "0 or more" if self.allow_zero else "more than 0"
            self.fail(f"{value!r} must be {least}", param, ctx)
        if amount != amount.quantize(Decimal("0.01")):
            self.fail(f"{value!r} has more than two decimals (cents)", param, ctx)
        return amount


USD = Usd()


@click.group()
def wallet() -> None:
    """Your money: balance, deposits, withdrawals, history and monthly budgets.

    Without a server this is the local user's wallet in the embedded database; with --api URL
    (or GP4U_API_URL) it is your wallet on that server, as the user `gp4u login` stored a key
    for. Amounts are USD. The test payment rails settle by token: tok_ok settles, tok_decline
    fails. Locally each command first does what the server's background jobs would: it settles
    payments that are due and expires lapsed holds.
    """


@wallet.command("balance")
@json_option
@api_option
@handle_errors
def wallet_balance(as_json: bool, api_url: str | None) -> None:
    """Available and held money, and this month's budget."""
    from gp4u.cli import output

    data = open_wallet(load_settings(), api_url).balance()
    if as_json:
        output.print_json(data)
        return
    rows = [
        ("available", usd(data["available"])),
        ("held", usd(data["held"])),
        ("posted", usd(data["posted"])),
    ]
    budget = data.get("budget")
    if budget:
        rows.append(
            (
                "budget",
                f"{usd(budget['spent'])} of {usd(budget['monthly_limit'])} in "
                f"{budget['month']} ({budget['used_percent']:g}%)",
            )
        )
    output.print_table(None, [("WALLET", "left"), ("USD", "right")], rows)


def _move_money(
    verb: str,
    amount: Decimal,
    rail: str,
    counterparty: str,
    idempotency_key: str | None,
    as_json: bool,
    api_url: str | None,
) -> None:
    import uuid

    from gp4u.cli import output

    key = idempotency_key or f"cli-{uuid.uuid4()}"
    account = open_wallet(load_settings(), api_url)
    move = account.deposit if verb == "deposit" else account.withdraw
    payment = _with_one_retry(lambda: move(amount, rail, counterparty, key), verb, key)
    if as_json:
        output.print_json(payment)
    else:
        click.echo(_payment_line(payment, verb))
    if payment["status"] == "failed":
        fail(f"{verb} #{payment['id']} failed: {payment['failure_reason']}", 1)
    if not as_json:
        click.echo(_balance_line(account.balance()))


def _with_one_retry(send: Callable[[], Any], verb: str, key: str) -> Any:
    """Send a money move; when its answer is lost, send it once more under the same
    idempotency key (the server then does it at most once)."""
    import time

    try:
        return send()
    except RemoteError as exc:
        if not exc.maybe_done:
            raise
        click.echo(f"{exc.detail}; retrying once with the same idempotency key", err=True)
    time.sleep(RETRY_PAUSE_SECONDS)
    try:
        return send()
    except RemoteError as exc:
        if not exc.maybe_done:
            raise
        fail(
            f"{exc.detail}\nthe {verb} may or may not have happened: run the same command "
            f"with --idempotency-key {key} to finish it without moving money twice"
        )


@wallet.command("deposit")
@click.argument("amount", type=USD)
@click.option(
    "--rail",
    default="test-instant",
    show_default=True,
    help="Payment rail: test-instant settles at once, test-async later.",
)
@click.option(
    "--source",
    default="tok_ok",
    show_default=True,
    help="Funding source at the rail (test rails: tok_ok settles, tok_decline fails).",
)
@click.option("--idempotency-key", metavar="KEY", help=IDEMPOTENCY_HELP)
@json_option
@api_option
@handle_errors
def wallet_deposit(
    amount: Decimal,
    rail: str,
    source: str,
    idempotency_key: str | None,
    as_json: bool,
    api_url: str | None,
) -> None:
    """Add AMOUNT dollars to your wallet through a payment rail.

    Exits 1 when the rail declines the payment (no money moves).
    """
    _move_money("deposit", amount, rail, source, idempotency_key, as_json, api_url)


@wallet.command("withdraw")
@click.argument("amount", type=USD)
@click.option(
    "--rail",
    default="test-instant",
    show_default=True,
    help="Payment rail: test-instant pays out at once, test-async later.",
)
@click.option(
    "--destination",
    default="tok_ok",
    show_default=True,
    help="Where the money goes at the rail (test rails: tok_ok settles, tok_decline fails).",
)
@click.option("--idempotency-key", metavar="KEY", help=IDEMPOTENCY_HELP)
@json_option
@api_option
@handle_errors
def wallet_withdraw(
    amount: Decimal,
    rail: str,
    destination: str,
    idempotency_key: str | None,
    as_json: bool,
    api_url: str | None,
) -> None:
    """Send AMOUNT dollars out of your wallet: held at once, paid out when the rail settles.

    Refused (exit 2) when AMOUNT is more than is available; exits 1 when the rail fails the
    payout (the money comes back).
    """
    _move_money("withdrawal", amount, rail, destination, idempotency_key, as_json, api_url)


@wallet.command("history")
@click.option("--kind", type=click.Choice(ENTRY_KINDS), help="Only entries of this kind.")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
    metavar="DATE",
    help="From this UTC date or time on: 2026-11-01 or 2026-11-01T09:30.",
)
@click.option("--before", type=click.IntRange(min=1), metavar="ID", help="Entries older than ID.")
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_HISTORY),
    default=20,
    show_default=True,
    help=f"How many entries (at most {MAX_HISTORY}).",
)
@output_options
@api_option
@handle_errors
def wallet_history(
    kind: str | None,
    since: datetime | None,
    before: int | None,
    limit: int,
    fmt: str,
    api_url: str | None,
) -> None:
    """Your ledger entries, newest first: deposits, withdrawals, holds and what became of them."""
    from gp4u.cli import output

    params = {
        "kind": kind,
        "since": since.replace(tzinfo=UTC) if since else None,
        "before": before,
        "limit": limit,
    }
    data = open_wallet(load_settings(), api_url).transactions(params)
    items = data["items"]
    if fmt == "json":
        output.print_json(data)
        return
    if fmt == "csv":
        columns = ["id", "created_at", "kind", "available_change", "held_change"]
        output.print_csv(items, [*columns, "earnings_change", "hold_id"])
        return
    earnings = any(i["earnings_change"] for i in items)
    output.print_table(
        None,
        [
            ("ID", "right"),
            ("TIME (UTC)", "left"),
            ("KIND", "left"),
            ("AVAILABLE", "right"),
            ("HELD", "right"),
            *([("EARNINGS", "right")] if earnings else []),
            ("HOLD", "right"),
            ("MEMO", "left"),
        ],
        [
            (
                i["id"],
                _utc_minutes(i["created_at"]),
                i["kind"],
                usd(i["available_change"], signed=True),
                usd(i["held_change"], signed=True),
                *([usd(i["earnings_change"], signed=True)] if earnings else []),
                i["hold_id"] or "",
                _memo(i["memo"]),
            )
            for i in items
        ],
        caption=f"{len(items)} entries"
        + (f" · more: --before {data['next_before']}" if data["next_before"] else ""),
    )


def _utc_minutes(value: Any) -> str:
    """An API time (ISO text) or a local one (datetime) as `YYYY-MM-DD HH:MM` in UTC."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


@wallet.command("budget")
@click.option(
    "--set",
    "limit",
    type=Usd(allow_zero=True),
    help="Set the monthly budget to this many dollars (0: no spending at all).",
)
@click.option("--clear", is_flag=True, help="Remove the monthly budget.")
@click.option("--key", "key_id", metavar="KEY_ID", help="Cap one API key instead of the account.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="With a server: read the password from standard input (changing a budget needs a "
    "login, not the stored API key, so a leaked key cannot lift its own cap).",
)
@json_option
@api_option
@handle_errors
def wallet_budget(
    limit: Decimal | None,
    clear: bool,
    key_id: str | None,
    password_stdin: bool,
    as_json: bool,
    api_url: str | None,
) -> None:
    """Show the monthly budgets, or change one with --set or --clear.

    Alerts come at 50, 80 and 100 % of a budget; at 100 % new spending is refused until the
    next month (UTC). On a server where you logged in with `gp4u login`, a change asks for your
    password.
    """
    from gp4u.cli import output

    if limit is not None and clear:
        raise click.UsageError("use --set or --clear, not both")
    if key_id and limit is None and not clear:
        raise click.UsageError("--key goes with --set or --clear")
    settings = load_settings()
    account = open_wallet(settings, api_url)
    if limit is None and not clear:
        data = account.budgets()
    else:
        from gp4u.cli.accounts import end_login, login_for_change

        url = api_url or settings.api_url
        login = login_for_change(url, password_stdin, "changing a budget") if url else None
        try:
            data = account.set_budget(limit, key_id, login.access_token if login else None)
        finally:
            if login:
                end_login(login)
    if as_json:
        output.print_json(data)
        return
    print_budgets(data)

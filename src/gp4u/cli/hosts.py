"""`gp4u host`: list your machines on a GP4U server's marketplace and manage them (pause,
resume, retire, blocked time), see the host dashboard and pay your earnings out. Needs the host
role on an accounts-mode server (--api URL or GP4U_API_URL, with the key `gp4u login` stored)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import click

from gp4u.cli.common import fail, handle_errors, json_option
from gp4u.cli.reservations import MOMENT, open_market, send_once, span
from gp4u.cli.sessions import Dollars, server_option, when
from gp4u.cli.wallet import IDEMPOTENCY_HELP, usd

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_PATTERN = re.compile(r"^\s*(\S+)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")
HOURS_HELP = (
    'Opening hours in the machine\'s time zone, as "DAYS HH:MM-HH:MM": DAYS is mon…sun, a '
    'range (mon-fri), a list (sat,sun) or daily, e.g. "mon-fri 09:00-17:00" (repeat for more '
    "windows; 24:00 is midnight). Without it the machine is open around the clock."
)


def parse_days(text: str) -> list[str]:
    if text.lower() in ("daily", "*"):
        return list(DAYS)
    days: list[str] = []
    for part in text.lower().split(","):
        first, sep, last = part.partition("-")
        if first[:3] not in DAYS or (sep and last[:3] not in DAYS):
            raise ValueError(part)
        a, b = DAYS.index(first[:3]), DAYS.index((last or first)[:3])
        days += [DAYS[i % 7] for i in range(a, b + 1 if b >= a else b + 8)]
    return days


def parse_hours(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> Any:
    windows: list[dict[str, str]] = []
    for value in values:
        match = HOURS_PATTERN.match(value)
        try:
            if not match:
                raise ValueError(value)
            days = parse_days(match.group(1))
        except ValueError:
            raise click.BadParameter(
                f'{value!r} is not "DAYS HH:MM-HH:MM", e.g. "mon-fri 09:00-17:00"', ctx, param
            ) from None
        windows += [{"day": d, "start": match.group(2), "end": match.group(3)} for d in days]
    return windows


@click.group()
def host() -> None:
    """Rent out your machines: list them, manage their time, see earnings, get paid."""


def print_machine_line(m: dict[str, Any]) -> None:
    agent = m["agent"]
    online = "online" if agent["online"] else "offline"
    bookable = "bookable" if m["bookable"] else f"not bookable: {m['not_bookable_reason']}"
    click.echo(
        f"machine {m['id']}: {m['name']} · {m['gpu_count']}× {m['gpu_raw_name']} · "
        f"{usd(m['price_per_hour'])}/h · {m['status']} · agent {online} · {bookable}"
    )
    measured = agent["throughput"]
    if measured["tflops"]:
        figures = ", ".join(f"{p.upper()} {v:,.1f}" for p, v in measured["tflops"].items())
        click.echo(f"  measured TFLOPS: {figures} ({measured['measured_at']})")
    elif agent["online"]:
        click.echo(f"  measured TFLOPS: none, {measured['note']}")


@host.command("add")
@click.option("--name", required=True, help="A name for the machine (shown to renters).")
@click.option("--gpu", "gpu_name", required=True, help='Its GPU model, e.g. "RTX 4090".')
@click.option("--count", "gpu_count", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option("--price", type=Dollars(), required=True, help="USD per hour for the whole machine.")
@click.option(
    "--min-hours",
    type=click.FloatRange(0, 24 * 31, min_open=True),
    help="Shortest booking, in hours (default: the server's).",
)
@click.option("--timezone", metavar="ZONE", help="IANA time zone of --hours (default: UTC).")
@click.option("--hours", "windows", multiple=True, callback=parse_hours, help=HOURS_HELP)
@click.option("--region", help="Where it is (free text, e.g. eu-west).")
@click.option("--country", metavar="CC", help="ISO 3166 country code, e.g. DE.")
@json_option
@server_option
@handle_errors
def host_add(
    name: str,
    gpu_name: str,
    gpu_count: int,
    price: Decimal,
    min_hours: float | None,
    timezone: str | None,
    windows: list[dict[str, str]],
    region: str | None,
    country: str | None,
    as_json: bool,
    api_url: str | None,
) -> None:
    """List a machine on the marketplace.

    Prints the machine's id and its one-time agent token, with the command to run on the
    machine: it becomes bookable once that agent checks in and sees the listed GPUs.
    """
    from gp4u.cli import output

    body: dict[str, Any] = {
        "name": name,
        "gpu_name": gpu_name,
        "gpu_count": gpu_count,
        "price_per_hour": str(price),
    }
    optional = {
        "min_hours": min_hours,
        "timezone": timezone,
        "windows": windows or None,
        "region": region,
        "country": country,
    }
    body |= {k: v for k, v in optional.items() if v is not None}
    api = open_market(api_url)
    m = api.add_machine(body)
    if as_json:
        output.print_json(m)
        return
    print_machine_line(m)
    click.echo(f"hours: {m['hours']}")
    click.echo(f"agent token (shown this once): {m['agent_token']}")
    click.echo(
        f"on the machine, run: gp4u agent host --broker {api.api_url} --token {m['agent_token']}"
    )


@host.command("machines")
@click.option(
    "--status",
    "statuses",
    type=click.Choice(["listed", "paused", "retired"]),
    multiple=True,
    help="Only machines with this status (repeat for more).",
)
@json_option
@server_option
@handle_errors
def host_machines(statuses: tuple[str, ...], as_json: bool, api_url: str | None) -> None:
    """Your machines: status, price, hours, agent, whether renters can book them."""
    from gp4u.cli import output

    data = open_market(api_url).machines(statuses)
    if as_json:
        output.print_json(data)
        return
    items = data["items"]
    output.print_table(
        None,
        [
            ("ID", "right"),
            ("NAME", "left"),
            ("STATUS", "left"),
            ("GPUS", "left"),
            ("$/H", "right"),
            ("HOURS", "left"),
            ("AGENT", "left"),
            ("BOOKABLE", "left"),
        ],
        [
            (
                m["id"],
                m["name"],
                m["status"],
                f"{m['gpu_count']}× {m['gpu_raw_name']}",
                usd(m["price_per_hour"]),
                m["hours"],
                "online" if m["agent"]["online"] else "offline",
                "yes" if m["bookable"] else f"no: {m['not_bookable_reason']}",
            )
            for m in items
        ],
        caption=f"{len(items)} machines",
    )


def _set_status(machine_id: int, status: str, as_json: bool, api_url: str | None) -> None:
    from gp4u.cli import output

    m = open_market(api_url).change_machine(machine_id, {"status": status})
    if as_json:
        output.print_json(m)
        return
    print_machine_line(m)


def _status_command(name: str, status: str, doc: str) -> None:
    @host.command(name, help=doc)
    @click.argument("machine_id", type=click.IntRange(min=1))
    @json_option
    @server_option
    @handle_errors
    def command(machine_id: int, as_json: bool, api_url: str | None) -> None:
        _set_status(machine_id, status, as_json, api_url)


_status_command(
    "pause",
    "paused",
    "Take no new bookings on machine MACHINE_ID (booked time still runs).",
)
_status_command("resume", "listed", "List paused machine MACHINE_ID again: bookable again.")
_status_command(
    "retire",
    "retired",
    "Take machine MACHINE_ID off the market for good (refused while bookings are upcoming).",
)


@host.command("block")
@click.argument("machine_id", type=click.IntRange(min=1))
@click.option("--start", type=MOMENT, required=True, help="Start (ISO 8601; no zone: UTC).")
@click.option("--end", type=MOMENT, required=True, help="End, exclusive (ISO 8601; no zone: UTC).")
@click.option("--reason", help="Why (for you; at most 200 characters).")
@json_option
@server_option
@handle_errors
def host_block(
    machine_id: int,
    start: datetime,
    end: datetime,
    reason: str | None,
    as_json: bool,
    api_url: str | None,
) -> None:
    """Block [--start, --end) on machine MACHINE_ID: no bookings then (refused over booked
    time)."""
    from gp4u.cli import output

    body = {"start": start.isoformat(), "end": end.isoformat(), "reason": reason}
    b = open_market(api_url).block(machine_id, body)
    if as_json:
        output.print_json(b)
        return
    why = f" ({b['reason']})" if b.get("reason") else ""
    click.echo(f"block {b['id']} on machine {machine_id}: {span(b['start'], b['end'])} UTC{why}")


@host.command("dashboard")
@json_option
@server_option
@handle_errors
def host_dashboard(as_json: bool, api_url: str | None) -> None:
    """Your machines' use, upcoming bookings, earnings and latest payouts."""
    from gp4u.cli import output

    data = open_market(api_url).dashboard()
    if as_json:
        output.print_json(data)
        return

    def share(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    output.print_table(
        "machines (last 30 days)",
        [
            ("ID", "right"),
            ("NAME", "left"),
            ("STATUS", "left"),
            ("AGENT", "left"),
            ("UTILISATION", "right"),
            ("UPTIME", "right"),
            ("RELIABILITY", "right"),
        ],
        [
            (
                m["machine_id"],
                m["name"],
                m["status"],
                "online" if m["online"] else "offline",
                share(m["utilisation_30d"]),
                share(m["uptime_30d"]),
                share(m["reliability"]),
            )
            for m in data["machines"]
        ],
    )
    output.print_table(
        "upcoming bookings (times UTC)",
        [
            ("RESERVATION", "right"),
            ("MACHINE", "right"),
            ("STATE", "left"),
            ("START", "left"),
            ("END", "left"),
            ("$/H", "right"),
        ],
        [
            (
                b["reservation_id"],
                b["machine_id"],
                b["state"],
                when(b["start"]),
                when(b["end"]),
                usd(b["price_per_hour"]),
            )
            for b in data["upcoming"]
        ],
    )
    e = data["earnings"]
    click.echo(
        f"earnings: {usd(e['gross'])} gross, {usd(e['platform_fee'])} platform fee, "
        f"{usd(e['net'])} net · {usd(e['available'])} available to pay out · "
        f"{usd(e['paid_out'])} paid out"
    )
    for p in data["payouts"]:
        click.echo(
            f"payout #{p.get('id')}: {usd(p.get('amount'))} via {p.get('rail')}, {p.get('status')}"
        )


@host.command("payout")
@click.argument("amount", type=Dollars())
@click.option(
    "--destination", required=True, help="Your account at the rail (test rails: any text)."
)
@click.option(
    "--rail",
    default="test-instant",
    show_default=True,
    help="Payment rail: test-instant settles at once, test-async later.",
)
@click.option("--idempotency-key", metavar="KEY", help=IDEMPOTENCY_HELP)
@json_option
@server_option
@handle_errors
def host_payout(
    amount: Decimal,
    destination: str,
    rail: str,
    idempotency_key: str | None,
    as_json: bool,
    api_url: str | None,
) -> None:
    """Pay AMOUNT dollars of your earnings out to your account.

    Exits 1 when the rail fails the payout (the money stays in your wallet).
    """
    from gp4u.cli import output
    from gp4u.cli.wallet import _payment_line

    body = {"amount": str(amount), "rail": rail, "destination": destination}
    key = idempotency_key or f"cli-{uuid.uuid4()}"
    api = open_market(api_url)
    p = send_once(lambda: api.payout(body, key), "payout", key, "`gp4u host dashboard`")
    if as_json:
        output.print_json(p)
    else:
        click.echo(_payment_line(p, "payout"))
    if p["status"] == "failed":
        fail(f"payout #{p['id']} failed: {p.get('failure_reason')}", 1)

"""`gp4u book`, `reservations`, `cancel` and `availability` (and `gp4u extend --reservation`):
booked time on host machines, on a running GP4U server (--api URL or GP4U_API_URL; by default
the local one `make run` starts) as the user whose API key `gp4u login` stored for it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from gp4u.cli.common import fail, handle_errors, json_option, page_options
from gp4u.cli.remote import RemoteError
from gp4u.cli.sessions import LOCAL_SERVER, SessionsApi, public_key, server_option, when
from gp4u.cli.wallet import IDEMPOTENCY_HELP, usd

STATES = ("pending", "active", "completed", "cancelled", "failed")
MAX_HOURS = 24 * 62


class MarketApi(SessionsApi):
    """The reservations and hosts API of one server."""

    # --- reservations ---
    def book(self, body: dict[str, Any], key: str) -> Any:
        return self.send("POST", "/api/v1/reservations", body, headers={"Idempotency-Key": key})

    def reservations(self, states: tuple[str, ...], before: int | None, limit: int) -> Any:
        params = {"state": list(states) or None, "before": before, "limit": limit}
        return self.get("/api/v1/reservations", params)

    def reservation(self, reservation_id: int) -> Any:
        return self.get(f"/api/v1/reservations/{reservation_id}")

    def cancel(self, reservation_id: int) -> Any:
        return self.send("POST", f"/api/v1/reservations/{reservation_id}/cancel")

    def extend_reservation(self, reservation_id: int, end: datetime) -> Any:
        body = {"end": end.isoformat()}
        return self.send("POST", f"/api/v1/reservations/{reservation_id}/extend", body)

    def availability(
        self, machine_id: int, start: datetime, end: datetime, granularity: int
    ) -> Any:
        params = {"from": start.isoformat(), "to": end.isoformat(), "granularity": granularity}
        return self.get(f"/api/v1/machines/{machine_id}/availability", params)

    # --- hosts ---
    def add_machine(self, body: dict[str, Any]) -> Any:
        return self.send("POST", "/api/v1/machines", body)

    def machines(self, statuses: tuple[str, ...]) -> Any:
        return self.get("/api/v1/machines", {"status": list(statuses) or None})

    def change_machine(self, machine_id: int, body: dict[str, Any]) -> Any:
        return self.send("PATCH", f"/api/v1/machines/{machine_id}", body)

    def block(self, machine_id: int, body: dict[str, Any]) -> Any:
        return self.send("POST", f"/api/v1/machines/{machine_id}/blocks", body)

    def dashboard(self) -> Any:
        return self.get("/api/v1/host/dashboard")

    def payout(self, body: dict[str, Any], key: str) -> Any:
        return self.send("POST", "/api/v1/host/payouts", body, headers={"Idempotency-Key": key})


def open_market(api_url: str | None) -> MarketApi:
    return MarketApi.for_server(api_url or LOCAL_SERVER)


class Moment(click.ParamType[datetime, Any]):
    """An ISO 8601 time (2026-11-02T10:00, 2026-11-02 10:00+02:00); without a zone it is UTC."""

    name = "ISO-TIME"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            moment = value
        else:
            try:
                moment = datetime.fromisoformat(str(value).strip())
            except ValueError:
                self.fail(
                    f"{value!r} is not an ISO 8601 time, e.g. 2026-11-02T10:00 (UTC) or "
                    "2026-11-02T10:00+02:00",
                    param,
                    ctx,
                )
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


MOMENT = Moment()


def send_once(send: Any, what: str, key: str, look: str) -> Any:
    """Send a request carrying an idempotency key; when its answer is lost, send it once more
    under the same key (the server then does it at most once)."""
    for attempt in (1, 2):
        try:
            return send()
        except RemoteError as exc:
            if not exc.maybe_done:
                raise
            if attempt == 2:
                fail(
                    f"{exc.detail}\nthe {what} may or may not have happened: look with {look}, "
                    f"or rerun with --idempotency-key {key} to finish it at most once"
                )
            click.echo(f"{exc.detail}; retrying once with the same idempotency key", err=True)
    raise AssertionError("unreachable")


# --- rendering -------------------------------------------------------------------------------


def span(start: str, end: str) -> str:
    """`YYYY-MM-DD HH:MM – HH:MM` UTC (the end's date too when it differs)."""
    first, last = when(start), when(end)
    same_day = first[:10] == last[:10]
    return f"{first} – {last[11:] if same_day else last}"


def hours_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 3600


def reservation_line(r: dict[str, Any]) -> str:
    return (
        f"reservation {r['id']}: {r['state']} · machine {r['machine_id']} · "
        f"{span(r['start'], r['end'])} UTC ({r['hours']:g} h) · quote {usd(r['quote'])} "
        f"at {usd(r['price_per_hour'])}/h · held {usd(r['held'])}"
    )


def print_reservation(r: dict[str, Any]) -> None:
    click.echo(reservation_line(r))
    if r.get("session_id"):
        click.echo(f"session: {r['session_id']} (gp4u session {r['session_id']})")
    if r.get("paid"):
        click.echo(f"paid to the host: {usd(r['paid'])}")
    if r.get("end_reason"):
        detail = f": {r['end_detail']}" if r.get("end_detail") else ""
        click.echo(f"ended: {r['end_reason']}{detail}")


# --- commands --------------------------------------------------------------------------------


@click.command()
@click.argument("machine_id", type=click.IntRange(min=1))
@click.option("--start", type=MOMENT, required=True, help="Start (ISO 8601; no zone: UTC).")
@click.option("--end", type=MOMENT, help="End, exclusive (ISO 8601; no zone: UTC).")
@click.option(
    "--hours",
    type=click.FloatRange(0, MAX_HOURS, min_open=True),
    metavar="HOURS",
    help="Instead of --end: book this many hours from --start.",
)
@click.option("--command", "startup_command", help="Run this on the machine when it starts.")
@click.option(
    "--ssh-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your OpenSSH public key file (e.g. ~/.ssh/id_ed25519.pub).",
)
@click.option("--idempotency-key", metavar="KEY", help=IDEMPOTENCY_HELP)
@json_option
@server_option
@handle_errors
def book(
    machine_id: int,
    start: datetime,
    end: datetime | None,
    hours: float | None,
    startup_command: str | None,
    ssh_key: Path | None,
    idempotency_key: str | None,
    as_json: bool,
    api_url: str | None,
) -> None:
    """Book host machine MACHINE_ID for [--start, --end) (or --hours from --start).

    Times are on whole minutes. The quote (price × booked time) is held on your wallet; at the
    start a session runs on the machine. Cancel before the start for a full refund
    (gp4u cancel). See free time with gp4u availability MACHINE_ID.
    """
    from gp4u.cli import output

    if (end is None) == (hours is None):
        raise click.UsageError("give --end or --hours (one of them)")
    finish = end if end is not None else start + timedelta(hours=hours or 0)
    body = {
        "machine_id": machine_id,
        "start": start.isoformat(),
        "end": finish.isoformat(),
        "startup_command": startup_command,
        "ssh_public_key": public_key(ssh_key) if ssh_key else None,
    }
    key = idempotency_key or f"cli-{uuid.uuid4()}"
    api = open_market(api_url)
    r = send_once(lambda: api.book(body, key), "booking", key, "`gp4u reservations`")
    if as_json:
        output.print_json(r)
        return
    print_reservation(r)


@click.command("reservations")
@page_options("reservations", STATES)
@json_option
@server_option
@handle_errors
def reservations(
    states: tuple[str, ...], before: int | None, limit: int, as_json: bool, api_url: str | None
) -> None:
    """Your reservations, newest first: machine, time, quote, what is still held."""
    from gp4u.cli import output

    page = open_market(api_url).reservations(states, before, limit)
    output.print_page(
        page,
        as_json,
        "reservations",
        [
            ("ID", "right"),
            ("STATE", "left"),
            ("MACHINE", "right"),
            ("START", "left"),
            ("END", "left"),
            ("HOURS", "right"),
            ("$/H", "right"),
            ("QUOTE", "right"),
            ("HELD", "right"),
            ("SESSION", "right"),
        ],
        lambda r: (
            r["id"],
            r["state"],
            r["machine_id"],
            when(r["start"]),
            when(r["end"]),
            f"{r['hours']:g}",
            usd(r["price_per_hour"]),
            usd(r["quote"]),
            usd(r["held"]),
            r["session_id"],
        ),
    )


@click.command()
@click.argument("reservation_id", type=click.IntRange(min=1))
@json_option
@server_option
@handle_errors
def cancel(reservation_id: int, as_json: bool, api_url: str | None) -> None:
    """Cancel reservation RESERVATION_ID.

    Before its start the whole quote comes back to your wallet; after it, you pay for the
    minutes started and the rest comes back.
    """
    from gp4u.cli import output

    r = open_market(api_url).cancel(reservation_id)
    if as_json:
        output.print_json(r)
        return
    print_reservation(r)


def extend_reservation(
    reservation_id: int,
    until_text: str | None,
    hours: float | None,
    as_json: bool,
    api_url: str | None,
) -> None:
    """`gp4u extend ID --reservation`: move the end to --until, or --hours later."""
    from gp4u.cli import output

    if (until_text is None) == (hours is None):
        raise click.UsageError("with --reservation, give --until or --hours (one of them)")
    until = None
    if until_text is not None:
        try:
            until = MOMENT.convert(until_text, None, None)
        except click.BadParameter as exc:
            exc.param_hint = "'--until'"
            raise
    api = open_market(api_url)
    if until is None:
        current = api.reservation(reservation_id)
        until = datetime.fromisoformat(current["end"]) + timedelta(hours=hours or 0)
    r = api.extend_reservation(reservation_id, until)
    if as_json:
        output.print_json(r)
        return
    click.echo(f"reservation {r['id']}: now ends {when(r['end'])} UTC")
    click.echo(reservation_line(r))


@click.command()
@click.argument("machine_id", type=click.IntRange(min=1))
@click.option(
    "--from", "start", type=MOMENT, help="From this time (ISO 8601; no zone: UTC; default: now)."
)
@click.option(
    "--to", "end", type=MOMENT, help="Up to this time (default: 7 days after --from; max 62)."
)
@click.option(
    "--granularity",
    type=click.IntRange(1, 1440),
    default=60,
    show_default=True,
    metavar="MINUTES",
    help="Slot size: free time is shrunk to whole steps of this many minutes.",
)
@json_option
@server_option
@handle_errors
def availability(
    machine_id: int,
    start: datetime | None,
    end: datetime | None,
    granularity: int,
    as_json: bool,
    api_url: str | None,
) -> None:
    """The free time of host machine MACHINE_ID, and whether it can be booked now."""
    from gp4u.cli import output

    if start is None:
        now = datetime.now(UTC)
        start = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = end or start + timedelta(days=7)
    data = open_market(api_url).availability(machine_id, start, end, granularity)
    if as_json:
        output.print_json(data)
        return
    bookable = "bookable" if data["bookable"] else f"not bookable: {data['not_bookable_reason']}"
    click.echo(
        f"machine {data['machine_id']}: {bookable} · {usd(data['price_per_hour'])}/h · "
        f"at least {data['min_hours']:g} h · hours: {data['hours']}"
    )
    slots = data["free"]
    output.print_table(
        None,
        [("FREE FROM", "left"), ("UNTIL", "left"), ("HOURS", "right")],
        [
            (
                when(s["start"]),
                when(s["end"]),
                f"{hours_between(s['start'], s['end']):g}",
            )
            for s in slots
        ],
        caption=f"{len(slots)} free slots between {when(data['from'])} and {when(data['to'])} "
        "(times UTC)",
    )

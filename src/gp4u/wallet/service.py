"""The wallet: deposits and withdrawals through payment rails, spending (charges on holds) under
monthly budgets, balances, transactions and spending analytics.

Money-moving functions take a session inside a ledger money transaction (see
`gp4u.ledger.repository.money_transaction`), so a payment or charge row and its journal entry
commit together or not at all. Rails are called inside that transaction: right for the test
rails, which answer at once; a networked rail would record the payment first and call out from
the settle job (docs/decisions.md)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.alerts.service import notify
from gp4u.kit.errors import AppError, InvalidInput, NotFound
from gp4u.kit.money import format_usd, micros_to_usd
from gp4u.kit.paging import keyset_page
from gp4u.ledger import service as ledger
from gp4u.ledger.repository import hold_state, money_transaction
from gp4u.ledger.service import Sessions
from gp4u.wallet import rails as rail_kinds
from gp4u.wallet import repository as repo
from gp4u.wallet.models import Budget, Charge, Payment
from gp4u.wallet.rails import PaymentRail, RailResult

THRESHOLDS = (50, 80, 100)
# A withdrawal's hold must outlive the slowest rail: it is paid out or released, never expired.
WITHDRAWAL_HOLD = timedelta(days=365)
CATEGORIES = ("session", "reservation", "cluster", "other")
MAX_DEPOSIT = 100_000 * 1_000_000
EXPORT_MAX = 100_000  # entries in one CSV export


class BudgetExceeded(AppError):
    """New spending past a monthly budget."""

    status_code = 402


# --- balances and history ------------------------------------------------------------------


async def summary(session: AsyncSession, owner: str, now: datetime) -> dict[str, Any]:
    money = await ledger.balance(session, owner)
    return {
        "currency": "USD",
        "available": micros_to_usd(money["available"]),
        "held": micros_to_usd(money["pending"]),
        "posted": micros_to_usd(money["posted"]),
        "budget": await _user_budget_view(session, owner, now),
    }


async def transactions(
    session: AsyncSession,
    owner: str,
    *,
    kind: str | None,
    since: datetime | None,
    until: datetime | None,
    before: int | None,
    limit: int,
) -> dict[str, Any]:
    rows = await repo.transactions(session, owner, kind, since, until, before, limit + 1)
    page, next_before = keyset_page(rows, limit, lambda row: row.id)
    return {
        "items": [
            {
                "id": row.id,
                "kind": row.kind,
                "available_change": micros_to_usd(int(row.available)),
                "held_change": micros_to_usd(int(row.held)),
                "earnings_change": micros_to_usd(int(row.earnings)),
                "hold_id": row.hold_id,
                "memo": row.memo or {},
                "created_at": row.created_at,
            }
            for row in page
        ],
        "next_before": next_before,
    }


async def every_transaction(
    session: AsyncSession,
    owner: str,
    *,
    kind: str | None,
    since: datetime | None,
    until: datetime | None,
    before: int | None,
) -> list[dict[str, Any]]:
    """Every matching entry, newest first, up to EXPORT_MAX (the CSV export), in one query:
    paging would aggregate the owner's postings once per page."""
    page = await transactions(
        session, owner, kind=kind, since=since, until=until, before=before, limit=EXPORT_MAX
    )
    items: list[dict[str, Any]] = page["items"]
    return items


async def analytics(session: AsyncSession, owner: str, days: int, now: datetime) -> dict[str, Any]:
    """Captured spending over the last `days` days (UTC), by day and by category."""
    first = (now - timedelta(days=days - 1)).date()
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    by_day: dict[str, dict[str, int]] = {
        (first + timedelta(days=i)).isoformat(): defaultdict(int) for i in range(days)
    }
    totals: dict[str, int] = defaultdict(int)
    for resolved_at, category, captured in await repo.captured_since(session, owner, since):
        day = resolved_at.astimezone(UTC).date().isoformat()
        if day in by_day:
            by_day[day][category] += captured
            totals[category] += captured
    return {
        "days": [
            {
                "date": day,
                "spent": micros_to_usd(sum(split.values())),
                "by_category": {k: micros_to_usd(v) for k, v in sorted(split.items())},
            }
            for day, split in by_day.items()
        ],
        "by_category": {k: micros_to_usd(v) for k, v in sorted(totals.items())},
        "total": micros_to_usd(sum(totals.values())),
    }


# --- payments ------------------------------------------------------------------------------


def _rail(rails: Mapping[str, PaymentRail], name: str) -> PaymentRail:
    rail = rails.get(name)
    if rail is None:
        raise InvalidInput(
            f"unknown payment rail {name!r}; this server offers: {', '.join(sorted(rails))}",
            field="rail",
        )
    return rail


def payment_view(payment: Payment) -> dict[str, Any]:
    """JSON-ready (times as ISO text): idempotency records store this response verbatim."""
    return {
        "id": payment.id,
        "direction": payment.direction,
        "rail": payment.rail,
        "amount": micros_to_usd(payment.amount),
        "status": payment.status,
        "failure_reason": payment.failure_reason,
        "created_at": payment.created_at.isoformat(),
        "settled_at": payment.settled_at.isoformat() if payment.settled_at else None,
    }


async def deposit(
    session: AsyncSession,
    rails: Mapping[str, PaymentRail],
    owner: str,
    amount: int,
    rail_name: str,
    source: str,
    now: datetime,
) -> dict[str, Any]:
    """Collect `amount` through a rail: posted to the wallet when the rail settles it."""
    if not 0 < amount <= MAX_DEPOSIT:
        raise InvalidInput(
            f"a deposit is between $0.01 and {format_usd(MAX_DEPOSIT)}", field="amount"
        )
    result = await _rail(rails, rail_name).collect(amount, source, now)
    return await _record(session, owner, "deposit", rail_name, amount, result, now)


async def withdraw(
    session: AsyncSession,
    rails: Mapping[str, PaymentRail],
    owner: str,
    amount: int,
    rail_name: str,
    destination: str,
    now: datetime,
) -> dict[str, Any]:
    """Hold `amount` at once (InsufficientFunds if it is not available), then pay it out when
    the rail settles, or give it back if the rail fails."""
    rail = _rail(rails, rail_name)
    hold = await ledger.authorise(session, owner, amount, now, WITHDRAWAL_HOLD)
    result = await rail.pay_out(amount, destination, now)
    return await _record(
        session, owner, "withdrawal", rail_name, amount, result, now, hold_id=hold["hold_id"]
    )


async def pay_out_earnings(
    session: AsyncSession,
    rails: Mapping[str, PaymentRail],
    host: str,
    amount: int,
    rail_name: str,
    destination: str,
    now: datetime,
) -> dict[str, Any]:
    """A host payout: `amount` of their earnings moves to their wallet and leaves it at once
    as a withdrawal through the rail (InsufficientFunds beyond the earnings). A failed rail
    leaves the money in the host's wallet, from where they can withdraw it again."""
    rail = _rail(rails, rail_name)
    await ledger.collect_earnings(session, host, amount, now)
    hold = await ledger.authorise(session, host, amount, now, WITHDRAWAL_HOLD)
    result = await rail.pay_out(amount, destination, now)
    return await _record(
        session, host, "payout", rail_name, amount, result, now, hold_id=hold["hold_id"]
    )


async def _record(
    session: AsyncSession,
    owner: str,
    direction: str,
    rail_name: str,
    amount: int,
    result: RailResult,
    now: datetime,
    hold_id: int | None = None,
) -> dict[str, Any]:
    """The payment row of a rail's first answer, with the money that answer moves."""
    payment = Payment(
        owner=owner,
        direction=direction,
        rail=rail_name,
        amount=amount,
        status=rail_kinds.PENDING,
        reference=result.reference,
        hold_id=hold_id,
        created_at=now,
    )
    session.add(payment)
    await session.flush()
    await _apply(session, payment, result, now)
    return payment_view(payment)


async def request_payment(
    sessions: Sessions,
    rails: Mapping[str, PaymentRail],
    owner: str,
    direction: str,
    amount: int,
    rail_name: str,
    party: str,
    idempotency_key: str | None,
    now: datetime,
) -> dict[str, Any]:
    """A deposit (`party` the funding source), a withdrawal or a host payout (`party` the
    destination) in a money transaction of its own, once per idempotency key (a replay
    returns the first answer)."""
    move = {"deposit": deposit, "withdrawal": withdraw, "payout": pay_out_earnings}[direction]

    async def work(session: AsyncSession) -> dict[str, Any]:
        return await move(session, rails, owner, amount, rail_name, party, now)

    payload = {"amount": amount, "rail": rail_name, "party": party}
    return await ledger.idempotent(sessions, owner, idempotency_key, direction, payload, work, now)


async def _apply(
    session: AsyncSession, payment: Payment, result: RailResult, now: datetime
) -> None:
    """Move the money a rail's answer calls for, once: a payment leaves `pending` only here."""
    if payment.status != rail_kinds.PENDING or result.status == rail_kinds.PENDING:
        return
    settled = result.status == rail_kinds.SETTLED
    if payment.direction == "deposit" and settled:
        payment.entry_id = (await ledger.deposit(session, payment.owner, payment.amount, now))[
            "entry_id"
        ]
    elif payment.direction in ("withdrawal", "payout"):
        assert payment.hold_id is not None
        if settled:
            await ledger.payout(session, payment.owner, payment.hold_id, now)
        else:
            await ledger.release(session, payment.owner, payment.hold_id, now)
    payment.status = result.status
    payment.failure_reason = result.reason
    payment.settled_at = now


async def settle_pending(
    sessions: Sessions, rails: Mapping[str, PaymentRail], now: datetime
) -> dict[str, int]:
    """Ask the rails about every pending payment and settle or fail those they have decided
    (each in its own transaction, the payment row locked and re-checked)."""
    async with sessions() as session:
        pending = await repo.pending_payment_ids(session, limit=1000)
    counts: dict[str, int] = defaultdict(int)
    for payment_id in pending:
        async with money_transaction(sessions) as session:
            payment = await repo.payment(session, payment_id, lock=True)
            if payment is None or payment.status != rail_kinds.PENDING:
                continue
            rail = rails.get(payment.rail)
            if rail is None:
                counts["unknown_rail"] += 1
                continue
            result = await rail.status(payment.reference, now)
            await _apply(session, payment, result, now)
            counts[payment.status] += 1
    return dict(counts)


async def payments(
    session: AsyncSession, owner: str, status: str | None, before: int | None, limit: int
) -> dict[str, Any]:
    rows = await repo.payments_of(session, owner, status, before, limit + 1)
    page, next_before = keyset_page(rows, limit, lambda payment: payment.id)
    return {"items": [payment_view(p) for p in page], "next_before": next_before}


async def get_payment(session: AsyncSession, owner: str, payment_id: int) -> dict[str, Any]:
    payment = await repo.payment(session, payment_id)
    if payment is None or payment.owner != owner:
        raise NotFound(f"no payment {payment_id}")
    return payment_view(payment)


# --- spending and budgets ------------------------------------------------------------------


def month_of(now: datetime) -> tuple[str, datetime]:
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    return start.strftime("%Y-%m"), start


async def authorise_spend(
    session: AsyncSession,
    owner: str,
    key_prefix: str | None,
    amount: int,
    category: str,
    description: str,
    ttl: timedelta,
    now: datetime,
) -> dict[str, Any]:
    """Hold `amount` for a session, reservation or cluster, within the user's monthly budget
    and the API key's (BudgetExceeded), and the available balance (InsufficientFunds)."""
    if category not in CATEGORIES:
        raise InvalidInput(f"category is one of {', '.join(CATEGORIES)}", field="category")
    month, start = month_of(now)
    limits = await _limits(session, owner, key_prefix)
    for scope, limit in limits:
        spent = await repo.month_spend(session, owner, scope or None, start)
        if spent + amount > limit:
            whose = "your monthly budget" if not scope else f"API key {scope}'s monthly budget"
            raise BudgetExceeded(
                f"{whose} of {format_usd(limit)} would be exceeded: {format_usd(spent)} spent or "
                f"committed in {month}, this needs {format_usd(amount)}",
                spent=micros_to_usd(spent),
                limit=micros_to_usd(limit),
            )
    hold = await ledger.authorise(session, owner, amount, now, ttl)
    values = {
        "owner": owner,
        "key_prefix": key_prefix,
        "hold_id": hold["hold_id"],
        "category": category,
        "description": description[:200],
        "held": amount,
        "captured": 0,
        "status": "open",
        "created_at": now,
        "resolved_at": None,
    }
    charge_id = await repo.insert_charge(session, values)
    await _check_thresholds(session, owner, key_prefix, now, limits)
    return charge_view(SimpleNamespace(id=charge_id, **values))


async def spending_room(
    session: AsyncSession, owner: str, key_prefix: str | None, now: datetime
) -> int:
    """How much more the owner could commit now: the available balance, or less when a monthly
    budget (theirs or the API key's) has less room left."""
    room = (await ledger.balance(session, owner))["available"]
    _, start = month_of(now)
    for scope, limit in await _limits(session, owner, key_prefix):
        spent = await repo.month_spend(session, owner, scope or None, start)
        room = min(room, limit - spent)
    return room


async def capture_spend(
    session: AsyncSession,
    owner: str,
    charge_id: int,
    amount: int,
    now: datetime,
    *,
    host: str | None,
    fee_basis_points: int,
    fee: int | None = None,
) -> dict[str, Any]:
    """Pay `amount` of a charge (to a host, less the platform fee, or to GP4U); the rest of
    its hold returns to the wallet. Callers pass `settings.platform_fee_bps` as the fee, or
    the fee itself when they keep a running total across captures."""
    charge = await _charge(session, owner, charge_id)
    await ledger.capture(
        session,
        owner,
        charge.hold_id,
        amount,
        now,
        host=host,
        fee_basis_points=fee_basis_points,
        fee=fee,
    )
    charge.captured, charge.status, charge.resolved_at = amount, "captured", now
    await _check_thresholds(session, owner, charge.key_prefix, now)
    return charge_view(charge)


async def roll_spend(
    session: AsyncSession,
    owner: str,
    charge_id: int,
    amount: int,
    now: datetime,
    *,
    host: str | None,
    fee: int,
    ttl: timedelta,
) -> dict[str, Any]:
    """Pay `amount` of a charge now (to a host less `fee`, or to GP4U when `host` is None) and
    keep the rest held, as a new charge for the same thing (the money never leaves escrow's
    reach: both moves share the caller's transaction, and no budget check applies to money
    already committed)."""
    charge = await _charge(session, owner, charge_id)
    rest = charge.held - amount
    await capture_spend(
        session, owner, charge_id, amount, now, host=host, fee_basis_points=0, fee=fee
    )
    if rest <= 0:
        return {"captured": charge_view(charge), "rest": None}
    hold = await ledger.authorise(session, owner, rest, now, ttl)
    follow = Charge(
        owner=owner,
        key_prefix=charge.key_prefix,
        hold_id=hold["hold_id"],
        category=charge.category,
        description=charge.description,
        held=rest,
        captured=0,
        status="open",
        created_at=now,
    )
    session.add(follow)
    await session.flush()
    return {"captured": charge_view(charge), "rest": charge_view(follow)}


async def capture_in_order(
    session: AsyncSession,
    owner: str,
    charge_ids: Sequence[int],
    amount: int,
    now: datetime,
    *,
    ttl: timedelta,
    host: str | None = None,
    fee_on: Callable[[int], int] | None = None,
) -> tuple[list[int], int]:
    """Pay `amount` from a payer's charges, oldest first (to `host` less `fee_on(part)` for
    each part, or to GP4U), keeping what is not due held as new charges (`roll_spend`).
    Returns the charges still holding money, oldest first, and what was paid (less than
    `amount` only when the open charges hold less)."""
    left, remaining = amount, []
    for charge_id in charge_ids:
        charge = await repo.charge(session, charge_id, lock=True)
        if charge is None or charge.status != "open":
            continue
        if left == 0:
            remaining.append(charge_id)
            continue
        part = min(left, charge.held)
        fee = fee_on(part) if fee_on is not None else 0
        rolled = await roll_spend(session, owner, charge_id, part, now, host=host, fee=fee, ttl=ttl)
        left -= part
        if rolled["rest"] is not None:
            remaining.append(int(rolled["rest"]["id"]))
    return remaining, amount - left


async def release_open(
    session: AsyncSession, owner: str, charge_ids: Sequence[int], now: datetime
) -> int:
    """Give back what these charges still hold (an expired hold is back already); returns
    the amount."""
    returned = 0
    for charge_id in charge_ids:
        charge = await repo.charge(session, charge_id, lock=True)
        if charge is not None and await is_open(session, charge_id):
            await release_spend(session, owner, charge_id, now)
            returned += charge.held
    return returned


async def is_open(session: AsyncSession, charge_id: int) -> bool:
    """Whether a charge still holds its money (not captured, released or expired)."""
    charge = await repo.charge(session, charge_id)
    if charge is None or charge.status != "open":
        return False
    hold = await hold_state(session, charge.hold_id)
    return hold is not None and hold.status == "open"


async def release_spend(
    session: AsyncSession, owner: str, charge_id: int, now: datetime
) -> dict[str, Any]:
    charge = await _charge(session, owner, charge_id)
    await ledger.release(session, owner, charge.hold_id, now)
    charge.status, charge.resolved_at = "released", now
    return charge_view(charge)


async def _charge(session: AsyncSession, owner: str, charge_id: int) -> Charge:
    charge = await repo.charge(session, charge_id, lock=True)
    if charge is None or charge.owner != owner:
        raise NotFound(f"no charge {charge_id}")
    return charge


def charge_view(charge: Charge | SimpleNamespace) -> dict[str, Any]:
    """A charge, or a new one's values (no ORM instance: holds sit on the booking path)."""
    return {
        "id": charge.id,
        "hold_id": charge.hold_id,
        "category": charge.category,
        "description": charge.description,
        "held": micros_to_usd(charge.held),
        "captured": micros_to_usd(charge.captured),
        "status": charge.status,
        "created_at": charge.created_at,
        "resolved_at": charge.resolved_at,
    }


async def _limits(
    session: AsyncSession, owner: str, key_prefix: str | None
) -> list[tuple[str, int]]:
    """(scope, monthly limit) of the budgets that apply: the user's ("") and the key's."""
    scopes = {"", key_prefix} if key_prefix else {""}
    return [
        (b.key_prefix, b.monthly_limit)
        for b in await repo.budgets_of(session, owner)
        if b.key_prefix in scopes
    ]


async def _check_thresholds(
    session: AsyncSession,
    owner: str,
    key_prefix: str | None,
    now: datetime,
    limits: list[tuple[str, int]] | None = None,
) -> None:
    """Notify each budget threshold newly crossed (`limits`: the budgets, when the caller has
    just read them)."""
    month, start = month_of(now)
    if limits is None:
        limits = await _limits(session, owner, key_prefix)
    for scope, limit in limits:
        spent = await repo.month_spend(session, owner, scope or None, start)
        for threshold in THRESHOLDS:
            if spent * 100 < limit * threshold:
                break
            if await repo.record_budget_alert(session, owner, scope, month, threshold, now):
                whose = "Your monthly budget" if not scope else f"API key {scope}'s budget"
                await notify(
                    session,
                    owner,
                    kind="budget",
                    message=f"{whose}: {threshold}% used ({format_usd(spent)} of "
                    f"{format_usd(limit)} in {month})"
                    + (". New spending is refused until next month." if threshold >= 100 else ""),
                    payload={
                        "threshold": threshold,
                        "spent": micros_to_usd(spent),
                        "limit": micros_to_usd(limit),
                        "month": month,
                        "key_id": scope or None,
                    },
                    now=now,
                )


async def set_budget(
    session: AsyncSession,
    owner: str,
    key_prefix: str | None,
    limit: int | None,
    now: datetime,
    known_keys: set[str],
) -> dict[str, Any]:
    """Set (or with None, remove) the monthly cap of the user or of one of their API keys."""
    scope = key_prefix or ""
    if scope and scope not in known_keys:
        raise NotFound(f"no API key {scope}")
    row = await repo.budget(session, owner, scope)
    if limit is None:
        if row is not None:
            await session.delete(row)
    elif row is None:
        session.add(Budget(owner=owner, key_prefix=scope, monthly_limit=limit, updated_at=now))
    else:
        row.monthly_limit, row.updated_at = limit, now
    await session.flush()
    return await budgets(session, owner, now)


async def budgets(session: AsyncSession, owner: str, now: datetime) -> dict[str, Any]:
    month, start = month_of(now)
    views = []
    for row in await repo.budgets_of(session, owner):
        spent = await repo.month_spend(session, owner, row.key_prefix or None, start)
        views.append(_budget_view(row, spent, month))
    return {
        "month": month,
        "budget": next((v for v in views if v["key_id"] is None), None),
        "keys": [v for v in views if v["key_id"] is not None],
        "spent": micros_to_usd(await repo.month_spend(session, owner, None, start)),
    }


async def _user_budget_view(
    session: AsyncSession, owner: str, now: datetime
) -> dict[str, Any] | None:
    row = await repo.budget(session, owner, "")
    if row is None:
        return None
    month, start = month_of(now)
    return _budget_view(row, await repo.month_spend(session, owner, None, start), month)


def _budget_view(row: Budget, spent: int, month: str) -> dict[str, Any]:
    return {
        "key_id": row.key_prefix or None,
        "monthly_limit": micros_to_usd(row.monthly_limit),
        "spent": micros_to_usd(spent),
        "remaining": micros_to_usd(max(0, row.monthly_limit - spent)),
        "used_percent": round(100 * spent / row.monthly_limit, 1) if row.monthly_limit else 100.0,
        "month": month,
        "thresholds": list(THRESHOLDS),
    }

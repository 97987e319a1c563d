"""Request and response shapes of the wallet API. Amounts are USD: requests take a decimal
(cents), responses give numbers exact to the micro-dollar. Balances, statuses and owners are
set by the server only."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from gp4u.web.schemas import RequestModel

Amount = Field(gt=0, le=100_000, max_digits=9, decimal_places=2, description="USD, e.g. 25.00")
EntryKind = Literal[
    "deposit", "withdraw", "hold", "capture", "void", "expire", "payout", "refund", "earnings"
]


class DepositIn(RequestModel):
    amount: Decimal = Amount
    rail: str = Field("test-instant", max_length=32, description="A payment rail of this server.")
    source: str = Field(
        max_length=200,
        description="The funding source at the rail. Test rails: tok_ok settles, tok_decline "
        "fails.",
    )


class WithdrawalIn(RequestModel):
    amount: Decimal = Amount
    rail: str = Field("test-instant", max_length=32)
    destination: str = Field(
        max_length=200, description="Where the money goes at the rail (test rails: tok_ok)."
    )


class BudgetIn(RequestModel):
    monthly_limit: Decimal | None = Field(
        ge=0, le=10_000_000, max_digits=11, decimal_places=2, description="USD; null removes it."
    )
    key_id: str | None = Field(
        None, max_length=16, description="Cap one API key instead of the whole account."
    )


class BudgetOut(BaseModel):
    key_id: str | None
    monthly_limit: float
    spent: float = Field(description="Captured this month plus still held.")
    remaining: float
    used_percent: float
    month: str
    thresholds: list[int]


class BudgetsOut(BaseModel):
    month: str
    budget: BudgetOut | None
    keys: list[BudgetOut]
    spent: float


class WalletOut(BaseModel):
    currency: Literal["USD"]
    available: float = Field(description="Spendable now.")
    held: float = Field(description="Held for bookings, sessions and pending withdrawals.")
    posted: float = Field(description="available + held.")
    budget: BudgetOut | None


class TransactionOut(BaseModel):
    id: int
    kind: EntryKind
    available_change: float
    held_change: float
    earnings_change: float
    hold_id: int | None
    memo: dict[str, Any]
    created_at: datetime


class TransactionsOut(BaseModel):
    items: list[TransactionOut]
    next_before: int | None = Field(description="Pass as `before` for the next page.")


class PaymentOut(BaseModel):
    id: int
    direction: Literal["deposit", "withdrawal", "payout"]
    rail: str
    amount: float
    status: Literal["pending", "settled", "failed"]
    failure_reason: str | None
    created_at: datetime
    settled_at: datetime | None
    replayed: bool | None = Field(None, description="True when this answers a replayed key.")


class PaymentsOut(BaseModel):
    items: list[PaymentOut]
    next_before: int | None


class DaySpend(BaseModel):
    date: date
    spent: float
    by_category: dict[str, float]


class AnalyticsOut(BaseModel):
    days: list[DaySpend]
    by_category: dict[str, float]
    total: float

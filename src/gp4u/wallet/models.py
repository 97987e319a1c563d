"""ORM models of the wallet: payments through rails, charges (what a hold pays for) and budgets
with the alerts they have raised."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gp4u.db.base import Base, BigId, UtcDateTime


class Payment(Base):
    """Money entering (deposit) or leaving (withdrawal) GP4U through a payment rail. A deposit
    is posted to the ledger when the rail settles it; a withdrawal holds the amount at once and
    pays it out (or releases it) when the rail settles (or fails)."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(16))  # deposit | withdrawal | payout
    rail: Mapped[str] = mapped_column(String(32))
    amount: Mapped[int] = mapped_column(BigInteger)  # micro-USD
    status: Mapped[str] = mapped_column(String(16))  # pending | settled | failed
    reference: Mapped[str] = mapped_column(String(128))  # the rail's id of the transfer
    hold_id: Mapped[int | None] = mapped_column(BigInteger)  # withdrawals
    entry_id: Mapped[int | None] = mapped_column(BigInteger)  # the settling journal entry
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_payments_owner", "owner", "id"),
        Index("ix_payments_status", "status"),
    )


class Charge(Base):
    """What a hold pays for: a session, a reservation, a cluster. Budgets and spending
    analytics read charges; the ledger holds the money."""

    __tablename__ = "charges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))
    key_prefix: Mapped[str | None] = mapped_column(String(16))  # the API key that spent it
    hold_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(200))
    held: Mapped[int] = mapped_column(BigInteger)
    captured: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # open | captured | released
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_charges_owner_created", "owner", "created_at"),)


class Budget(Base):
    """A monthly spending cap for a user (key_prefix "") or one of their API keys."""

    __tablename__ = "budgets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))
    key_prefix: Mapped[str] = mapped_column(String(16))
    monthly_limit: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("owner", "key_prefix", name="uq_budgets_owner_key"),)


class BudgetAlert(Base):
    """A threshold (50, 80, 100 %) a budget has crossed in a month: each fires once."""

    __tablename__ = "budget_alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))
    key_prefix: Mapped[str] = mapped_column(String(16))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    threshold: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("owner", "key_prefix", "month", "threshold", name="uq_budget_alerts"),
    )

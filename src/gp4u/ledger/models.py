"""ORM models of the ledger. Postings and journal entries are append-only (database triggers
refuse UPDATE and DELETE, see migration 0004); balances are a cache of the postings, with a
CHECK that no account that may not go negative ever does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gp4u.db.base import Base, BigId, UtcDateTime


class LedgerAccount(Base):
    """One account of the chart: (owner, kind). Kinds: wallet, escrow (a user's held funds),
    host_earnings, platform_revenue, external (money entering and leaving GP4U)."""

    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("owner", "kind", name="uq_ledger_accounts_owner_kind"),)


class AccountBalance(Base):
    """The sum of an account's postings, kept in the same transaction as they are written; the
    row is also what concurrent writers lock. The audit recomputes it from the postings. House
    accounts (external, platform revenue) have none: their balance is the sum of postings."""

    __tablename__ = "account_balances"

    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger)
    may_go_negative: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (CheckConstraint("may_go_negative OR balance >= 0", name="never_negative"),)


class JournalEntry(Base):
    """One movement of money: its postings sum to zero."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(64))  # whose money moved (for their history)
    hold_id: Mapped[int | None] = mapped_column(BigInteger)
    memo: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_journal_entries_owner", "owner", "id"),)


class Posting(Base):
    __tablename__ = "postings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)  # micro-USD; + into the account, - out

    __table_args__ = (
        Index("ix_postings_account", "account_id"),
        Index("ix_postings_entry", "entry_id"),
    )


class Hold(Base):
    """Funds moved to escrow for a booking or session: resolved exactly once (captured in full
    or part, voided, or expired)."""

    __tablename__ = "holds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    captured: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # open | captured | voided | expired
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        CheckConstraint("amount > 0 AND captured >= 0 AND captured <= amount", name="amounts"),
        Index("ix_holds_status_expires", "status", "expires_at"),
    )


class IdempotencyRecord(Base):
    """A money-moving request's key, the fingerprint of its payload, and its response."""

    __tablename__ = "idempotency_records"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("owner", "key", name="uq_idempotency_owner_key"),)

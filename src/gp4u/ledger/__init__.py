"""The money ledger: double-entry, append-only journal entries of postings between accounts
(user wallets, escrow for holds, host earnings, platform revenue, the outside world), holds,
idempotency, and an audit that recomputes everything from the postings."""

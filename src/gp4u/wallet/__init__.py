"""The wallet: balances, transactions, deposits and withdrawals through payment rails, spending
with budgets, and spending analytics, on top of the ledger."""

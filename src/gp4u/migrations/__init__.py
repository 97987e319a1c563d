"""Alembic migrations (batch mode for SQLite)."""

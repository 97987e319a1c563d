"""Database plumbing: ORM base, engines and sessions, Alembic migrations."""

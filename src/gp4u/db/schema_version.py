"""The Alembic revision the code expects. A constant so the embedded CLI can check the database
without importing Alembic; a test keeps it equal to the migrations' head."""

SCHEMA_REVISION = "0013"

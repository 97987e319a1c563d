"""Response shapes of the audit log API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    session_id: int | None
    provider: str | None
    instance_id: str | None
    outcome: str
    detail: dict[str, Any]


class AuditPageOut(BaseModel):
    items: list[AuditEventOut]
    next_before: int | None

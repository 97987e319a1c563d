"""Audit log API (admins): every provision, state change, termination attempt and
reconciliation action, newest first."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query

from gp4u.accounts.deps import AdminUser
from gp4u.audit import service
from gp4u.audit.schemas import AuditPageOut
from gp4u.db.base import MAX_ID
from gp4u.web.deps import SessionDep
from gp4u.web.errors import AUTH_RESPONSES, ERROR_RESPONSES
from gp4u.web.responses import FastJSON

router = APIRouter(
    prefix="/api/v1/audit", tags=["audit"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)


@router.get("", response_model=AuditPageOut, summary="The audit log (admins)")
async def audit_log(
    _admin: AdminUser,
    session: SessionDep,
    session_id: int | None = Query(None, ge=1, le=MAX_ID, description="Events of one session."),
    action: str | None = Query(None, max_length=48, description="Events of one kind."),
    provider: str | None = Query(None, max_length=64),
    since: datetime | None = Query(None, description="From this time (inclusive)."),
    before: int | None = Query(None, ge=1, le=MAX_ID, description="Continue below this id."),
    limit: int = Query(100, ge=1, le=500),
) -> FastJSON:
    page = await service.events(
        session,
        session_id=session_id,
        action=action,
        provider=provider,
        since=since,
        before=before,
        limit=limit,
    )
    return FastJSON(page)

"""Sessions API (launch, list, read, extend, stop: your own only) and the node agent API (the
agent authenticates with its session's one-time token, then its agent secret)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from gp4u.accounts.deps import Reader, Trader
from gp4u.db.base import MAX_ID
from gp4u.jobs.context import JobContext
from gp4u.kit.errors import ServiceUnavailable
from gp4u.kit.money import usd_to_micros
from gp4u.provisioning import agents, service
from gp4u.provisioning.schemas import (
    AgentBeatIn,
    AgentBeatOut,
    AgentDoneIn,
    AgentDoneOut,
    AgentRegisteredOut,
    AgentRegisterIn,
    ExtendIn,
    LaunchIn,
    SessionCreatedOut,
    SessionOut,
    SessionsOut,
    SessionState,
)
from gp4u.web.deps import (
    AgentAuth,
    ClockDep,
    ObjectId,
    SessionDep,
    bearer_secret,
    kick_runner,
)
from gp4u.web.errors import AUTH_RESPONSES, ERROR_RESPONSES, ErrorOut
from gp4u.web.responses import FastJSON

router = APIRouter(
    prefix="/api/v1/sessions", tags=["sessions"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)
agent_router = APIRouter(prefix="/api/v1/agent", tags=["node agent"], responses=ERROR_RESPONSES)
LAUNCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    402: {"model": ErrorOut, "description": "Insufficient funds or budget for the estimate."},
    409: {"model": ErrorOut, "description": "The offer cannot be launched (gone, catalog only…)."},
    503: {"model": ErrorOut, "description": "Starting up, or the provider cannot confirm a price."},
}
MAX_PAGE = 200


async def _machinery(request: Request, session: SessionDep) -> JobContext:
    """Sessions move money in transactions of their own: end the request's transaction first."""
    await session.commit()
    ctx: JobContext = request.app.state.jobs
    return ctx


Machinery = Annotated[JobContext, Depends(_machinery)]


@router.post(
    "",
    status_code=202,
    response_model=SessionCreatedOut,
    responses=LAUNCH_RESPONSES,
    summary="Launch a GPU machine from an offer",
    description="Quotes the offer from fresh provider data, holds the estimate on your wallet, "
    "and launches in the background: poll the session until it is `running` (its node agent "
    "checked in) or `failed` (`launch_summary` says what was tried).",
)
async def launch(body: LaunchIn, user: Trader, ctx: Machinery, request: Request) -> FastJSON:
    if not getattr(request.app.state, "sessions_ready", False):
        raise ServiceUnavailable(
            "GP4U is reconciling provider instances after a start; try again in a moment"
        )
    spec = service.LaunchSpec(
        offer_id=body.offer_id,
        hours=body.hours,
        image=body.image,
        startup_command=body.startup_command,
        env=dict(body.env),
        ssh_public_key=body.ssh_public_key,
        max_price_per_hour=(
            usd_to_micros(body.max_price_per_hour) if body.max_price_per_hour else None
        ),
    )
    view = await service.create(ctx, user, spec, request.app.state.keyring.box_key)
    kick_runner(request)
    return FastJSON(view, status_code=202)


@router.get("", response_model=SessionsOut, summary="Your sessions, newest first")
async def sessions(
    user: Reader,
    session: SessionDep,
    clock: ClockDep,
    state: list[SessionState] | None = Query(None, description="Only these states."),
    before: int | None = Query(None, ge=1, le=MAX_ID, description="Continue below this id."),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
) -> FastJSON:
    page = await service.list_mine(session, user, list(state or []), before, limit, clock.now())
    return FastJSON(page)


@router.get("/{session_id}", response_model=SessionOut, summary="One of your sessions")
async def get_session(
    session_id: ObjectId, user: Reader, session: SessionDep, clock: ClockDep
) -> FastJSON:
    return FastJSON(await service.get(session, user, session_id, clock.now()))


@router.post(
    "/{session_id}/extend",
    response_model=SessionOut,
    responses=LAUNCH_RESPONSES,
    summary="Pay for more time",
)
async def extend(session_id: ObjectId, body: ExtendIn, user: Trader, ctx: Machinery) -> FastJSON:
    return FastJSON(await service.extend(ctx, user, session_id, body.hours))


@router.post(
    "/{session_id}/stop",
    response_model=SessionOut,
    summary="Stop now: billing stops, the machine is destroyed and verified gone",
)
async def stop(session_id: ObjectId, user: Trader, ctx: Machinery, request: Request) -> FastJSON:
    view = await service.stop(ctx, user, session_id)
    kick_runner(request)
    return FastJSON(view)


# --- the node agent --------------------------------------------------------------------------


@agent_router.post(
    "/register", response_model=AgentRegisteredOut, summary="A node agent checks in (once)"
)
async def agent_register(body: AgentRegisterIn, ctx: Machinery) -> FastJSON:
    return FastJSON(await agents.agent_register(ctx, body.token, body.facts))


@agent_router.post("/heartbeat", response_model=AgentBeatOut, summary="A node agent is alive")
async def agent_heartbeat(
    body: AgentBeatIn, ctx: Machinery, authorization: AgentAuth = None
) -> FastJSON:
    return FastJSON(await agents.agent_heartbeat(ctx, bearer_secret(authorization), body.facts))


@agent_router.post("/done", response_model=AgentDoneOut, summary="The workload has finished")
async def agent_done(
    body: AgentDoneIn, ctx: Machinery, request: Request, authorization: AgentAuth = None
) -> FastJSON:
    result = await agents.agent_done(
        ctx, bearer_secret(authorization), body.exit_code, body.message
    )
    kick_runner(request)
    return FastJSON(result)

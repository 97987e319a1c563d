"""Clusters API: the public cost simulator (`POST /api/v1/clusters/plan`), and your clusters:
create from a plan, list, read with members, start, stop."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from gp4u.accounts.deps import Reader, Trader
from gp4u.clusters import service
from gp4u.clusters.schemas import (
    ClusterCreatedOut,
    ClusterIn,
    ClusterOut,
    ClustersOut,
    ClusterStateIn,
    PlanIn,
    PlanningOut,
)
from gp4u.db.base import MAX_ID
from gp4u.kit.errors import ServiceUnavailable
from gp4u.provisioning.endpoints import Machinery
from gp4u.wallet.endpoints import IdempotencyKey
from gp4u.web.deps import ClockDep, MarketDep, ObjectId, SessionDep, SettingsDep, kick_runner
from gp4u.web.errors import AUTH_RESPONSES, ERROR_RESPONSES, ErrorOut
from gp4u.web.responses import FastJSON

router = APIRouter(prefix="/api/v1/clusters", tags=["clusters"])


@router.post(
    "/plan",
    response_model=PlanningOut,
    responses=ERROR_RESPONSES,
    summary="Plan a multi-GPU job at least cost (no account needed)",
    description="The cheapest set of GPUs across all providers that performs the job's compute "
    "before its deadline, within its budget and placement: solved exactly as a mixed-integer "
    "program (HiGHS) over the available offers, after dropping dominated ones. Also returns the "
    "greedy plan (offers by G-Score until the job fits) and how much more it costs, what sets "
    "the price and what relaxing each constraint would save, or, when no plan exists, which "
    "constraint prevents one and the nearest feasible alternatives. Compute is in useful "
    "PFLOP-hours (or GPU-hours of a reference GPU); the throughput model's assumptions are "
    "listed in the answer. `export` also returns the plan as SkyPilot tasks or a Terraform-style "
    "description (YAML).",
)
async def plan(
    body: PlanIn,
    session: SessionDep,
    market: MarketDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Any:
    req = service.requirement_from(body, clock.now())
    planning = await service.plan_job(session, market, settings, req)
    return service.planning_view(planning, body.export)


CREATE_RESPONSES: dict[int | str, dict[str, Any]] = {
    402: {"model": ErrorOut, "description": "Insufficient funds or budget for the estimate."},
    409: {
        "model": ErrorOut,
        "description": "No plan exists on the offers that can launch here (the detail names the "
        "constraint and the nearest alternatives; `plan` holds the simulator's full answer).",
    },
}
MAX_PAGE = 200


@router.post(
    "",
    status_code=201,
    response_model=ClusterCreatedOut,
    responses={**ERROR_RESPONSES, **AUTH_RESPONSES, **CREATE_RESPONSES},
    summary="Create a cluster: plan the job and hold its cost",
    description="Plans the job exactly as `POST /clusters/plan` does, but only over offers this "
    "server can launch, with each machine's time within the maximum session lifetime; holds the "
    "plan's cost on your wallet once, and records one member per planned machine. Nothing "
    "launches until you start it. Send an Idempotency-Key to retry safely.",
)
async def create(
    body: ClusterIn, user: Trader, ctx: Machinery, idempotency_key: IdempotencyKey = None
) -> FastJSON:
    spec = service.ClusterSpec(
        name=body.name,
        image=body.image,
        startup_command=body.startup_command,
        env=dict(body.env),
        ssh_public_key=body.ssh_public_key,
    )
    view = await service.create(ctx, user, body, spec, idempotency_key)
    return FastJSON(view, status_code=201)


@router.get(
    "",
    response_model=ClustersOut,
    responses={**ERROR_RESPONSES, **AUTH_RESPONSES},
    summary="Your clusters, newest first",
)
async def clusters(
    user: Reader,
    session: SessionDep,
    clock: ClockDep,
    state: list[ClusterStateIn] | None = Query(None, description="Only these states."),
    before: int | None = Query(None, ge=1, le=MAX_ID, description="Continue below this id."),
    limit: int = Query(20, ge=1, le=MAX_PAGE),
) -> FastJSON:
    page = await service.list_mine(session, user, list(state or []), before, limit, clock.now())
    return FastJSON(page)


@router.get(
    "/{cluster_id}",
    response_model=ClusterOut,
    responses={**ERROR_RESPONSES, **AUTH_RESPONSES},
    summary="One of your clusters, with its members, progress and cost so far",
)
async def get_cluster(
    cluster_id: ObjectId, user: Reader, session: SessionDep, clock: ClockDep
) -> FastJSON:
    return FastJSON(await service.get(session, user, cluster_id, clock.now()))


@router.post(
    "/{cluster_id}/start",
    status_code=202,
    response_model=ClusterOut,
    responses={**ERROR_RESPONSES, **AUTH_RESPONSES},
    summary="Start: one session per member",
    description="Launches every member through the session machinery (each tagged with the "
    "cluster). A member on a GP4U host's machine first books the machine's time as a "
    "reservation of the cluster's. A member that cannot launch (or whose machine's time is "
    "taken), or is lost, is replaced by re-planning the rest of "
    "the work with its offer excluded; if no re-plan exists the cluster ends `failed`. Refused "
    "(409) when the plan no longer finishes by the deadline.",
)
async def start(cluster_id: ObjectId, user: Trader, ctx: Machinery, request: Request) -> FastJSON:
    if not getattr(request.app.state, "sessions_ready", False):
        raise ServiceUnavailable(
            "GP4U is reconciling provider instances after a start; try again in a moment"
        )
    view = await service.start(ctx, user, cluster_id)
    kick_runner(request)
    return FastJSON(view, status_code=202)


@router.post(
    "/{cluster_id}/stop",
    response_model=ClusterOut,
    responses={**ERROR_RESPONSES, **AUTH_RESPONSES},
    summary="Stop: every member ends, is destroyed and verified gone",
    description="Billing stops for every member now; the cluster settles (paying for the "
    "members' running time, releasing the rest; what host-owned members cost is split among "
    "their hosts by contribution score) once every machine is confirmed destroyed: "
    "`completed` if its compute was delivered, `failed` if a workload failed, else `stopped`.",
)
async def stop(cluster_id: ObjectId, user: Trader, ctx: Machinery, request: Request) -> FastJSON:
    view = await service.stop(ctx, user, cluster_id)
    kick_runner(request)
    return FastJSON(view)

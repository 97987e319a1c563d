"""Clusters API: the public cost simulator (`POST /api/v1/clusters/plan`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gp4u.clusters import service
from gp4u.clusters.schemas import PlanIn, PlanningOut
from gp4u.web.deps import ClockDep, MarketDep, SessionDep, SettingsDep
from gp4u.web.errors import ERROR_RESPONSES

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

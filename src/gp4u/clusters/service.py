"""Cluster services: planning a job over the current market (more to come: running clusters)."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.catalog.normalise import known_family
from gp4u.clusters.export import ExportFormat, export_plan
from gp4u.clusters.planner.explain import Change
from gp4u.clusters.planner.market import PlanMarket, market_from_index
from gp4u.clusters.planner.planning import Planning, plan
from gp4u.clusters.planner.result import Plan
from gp4u.clusters.requirements import Compute, JobRequirement, Precision
from gp4u.clusters.schemas import PlanIn
from gp4u.clusters.throughput import LOSS_PER_DOUBLING, compute_from_gpu_hours, efficiency_of
from gp4u.kit.errors import InvalidInput
from gp4u.kit.money import micros_to_usd, usd_to_micros
from gp4u.offers.index import MarketIndex
from gp4u.offers.service import MarketSearch, snapshot_index
from gp4u.pricing.service import gscore_weights, market_arrays
from gp4u.pricing.value import GScoreWeights, g_score_arrays
from gp4u.settings import Settings


def market_for(index: MarketIndex, precision: Precision, weights: GScoreWeights) -> PlanMarket:
    """The available offers of the index as a planning market, G-Scored against each other."""
    slots = np.flatnonzero(index.bools["available"])
    score = g_score_arrays(market_arrays(index, slots), weights) if slots.size else None
    return market_from_index(index, precision, score)


# Planning is CPU work and the plan endpoint is public: plans run on their own threads, one per
# core, and further requests queue there instead of taking the threads other work runs on.
_PLANNERS = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="plan")


def plan_on(index: MarketIndex, req: JobRequirement, weights: GScoreWeights) -> Planning:
    """Plan a job on a market index (CPU work: call it off the event loop)."""
    return plan(market_for(index, req.compute.precision, weights), req)


async def plan_job(
    session: AsyncSession, market: MarketSearch | None, settings: Settings, req: JobRequirement
) -> Planning:
    """The exact and greedy plans for a job on the current market, explained."""
    index = await snapshot_index(session, market)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_PLANNERS, plan_on, index, req, gscore_weights(settings))


def requirement_from(body: PlanIn, now: datetime) -> JobRequirement:
    """The planner's requirement from an API request (deadline dates become hours from now)."""
    compute = body.compute
    try:
        amount = (
            Compute(
                compute.pflop_hours, compute.precision, f"{compute.pflop_hours:,.6g} PFLOP-hours"
            )
            if compute.pflop_hours is not None
            else compute_from_gpu_hours(
                compute.gpu_hours or 0.0, canonical_gpu(compute.reference_gpu), compute.precision
            )
        )
        hours = (
            body.deadline_hours
            if body.deadline_hours is not None
            else ((body.deadline or now) - now).total_seconds() / 3600
        )
        return JobRequirement(
            compute=amount,
            deadline_hours=hours,
            min_vram_gb=body.min_vram_gb,
            budget_micros=usd_to_micros(body.budget_usd) if body.budget_usd is not None else None,
            spot_allowed=body.spot_allowed,
            min_reliability=body.min_reliability,
            placement=body.placement,
            max_machines=body.max_machines,
            min_gpus_per_machine=body.min_gpus_per_machine,
            sustained=body.sustained,
            exclude_offers=frozenset(body.exclude_offers),
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def canonical_gpu(spelling: str) -> str:
    """A GPU family from any spelling (`h100 sxm` → `H100`)."""
    family = known_family(spelling)
    if family is None:
        raise ValueError(f"unknown GPU {spelling!r}")
    return family


def _usd(micros: int | None) -> float | None:
    return None if micros is None else micros_to_usd(micros)


def _plan_view(plan: Plan, req: JobRequirement) -> dict[str, Any]:
    return {
        "method": plan.method,
        "cost": micros_to_usd(plan.cost_micros),
        "within_budget": plan.within_budget(req),
        "machines": plan.machines,
        "gpus": plan.gpus,
        "scaling": round(plan.scaling, 6),
        "delivered_pflop_hours": round(plan.delivered_pflop_hours, 6),
        "finish_hours": round(plan.finish_hours, 4),
        "members": [
            {
                "offer_id": m.offer_id,
                "label": m.label,
                "instances": m.instances,
                "gpus_each": m.gpus_each,
                "hours_each": round(m.hours_each, 4),
                "price_per_hour": micros_to_usd(m.price_micros),
                "pflops_each": round(m.pflops_each, 6),
                "cost": micros_to_usd(m.cost_micros),
            }
            for m in plan.members
        ],
    }


def _change_view(change: Change) -> dict[str, Any]:
    return {
        "constraint": change.constraint,
        "description": change.description,
        "changes": change.changes,
        "feasible": change.cost_micros is not None,
        "cost": _usd(change.cost_micros),
        "saves": _usd(change.saves_micros),
        "finish_hours": None if change.finish_hours is None else round(change.finish_hours, 4),
    }


def _assumptions(result: Planning) -> list[str]:
    gpus = sorted({m.gpu for p in (result.exact, result.greedy) if p for m in p.members})
    lines = [
        f"{gpu} delivers {efficiency_of(gpu):.0%} of its dense peak as useful compute."
        for gpu in gpus
    ]
    return [
        *lines,
        f"Spreading a job over machines loses {LOSS_PER_DOUBLING:.0%} of throughput per doubling"
        " of machines.",
        "Members may run for different lengths of time: the job checkpoints and accepts members"
        " joining and leaving (elastic data parallelism).",
        "Prices are the providers' current hourly prices; the plan is billed by the second.",
    ]


def requirement_view(req: JobRequirement) -> dict[str, Any]:
    return {
        "pflop_hours": req.compute.pflop_hours,
        "precision": req.compute.precision,
        "described_as": req.compute.described_as,
        "deadline_hours": round(req.deadline_hours, 4),
        "min_vram_gb": req.min_vram_gb,
        "budget": _usd(req.budget_micros),
        "spot_allowed": req.spot_allowed,
        "min_reliability": req.min_reliability,
        "placement": req.placement,
        "max_machines": req.max_machines,
        "min_gpus_per_machine": req.min_gpus_per_machine,
        "sustained": req.sustained,
    }


def planning_view(result: Planning, export: ExportFormat | None = None) -> dict[str, Any]:
    """The response of `POST /api/v1/clusters/plan` (with the plan exported, when asked)."""
    req = result.requirement
    status = (
        "planned" if result.exact else {"time_limit": "timeout"}.get(result.status, result.status)
    )
    return {
        "status": status,
        "optimal": result.exact is not None and result.status == "optimal",
        "requirement": requirement_view(req),
        "exact": _plan_view(result.exact, req) if result.exact else None,
        "greedy": _plan_view(result.greedy, req) if result.greedy else None,
        "greedy_gap_pct": None if result.gap is None else round(100 * result.gap, 3),
        "market": vars(result.market),
        "explanation": None
        if result.explanation is None
        else {
            "reasons": result.explanation.reasons,
            "binding": result.explanation.binding,
            "binding_detail": result.explanation.binding_detail,
            "relaxations": [_change_view(c) for c in result.explanation.relaxations],
        },
        "infeasibility": None
        if result.infeasibility is None
        else {
            "constraint": result.infeasibility.constraint,
            "detail": result.infeasibility.detail,
            "alternatives": [_change_view(c) for c in result.infeasibility.alternatives],
        },
        "assumptions": _assumptions(result),
        "export": export_plan(result.exact, req, export) if export and result.exact else None,
    }

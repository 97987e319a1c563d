"""The wizard: words → what was understood → workload estimate → requirement → plan."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gp4u.clusters import service as clusters
from gp4u.clusters.export import ExportFormat
from gp4u.kit.errors import InvalidInput
from gp4u.offers.service import MarketSearch
from gp4u.settings import Settings
from gp4u.wizard.parser import ParsedRequest, parse
from gp4u.wizard.requirement import to_requirement
from gp4u.wizard.workloads import WorkloadEstimate


def _estimate_view(est: WorkloadEstimate) -> dict[str, Any]:
    return {
        "pflop_hours": est.compute.pflop_hours,
        "precision": est.compute.precision,
        "min_vram_gb": est.min_vram_gb,
        "min_gpus_per_machine": est.min_gpus_per_machine,
        "sustained": est.sustained,
        "duration_hours": est.duration_hours,
        "memory_gb": {k: round(v, 3) for k, v in est.memory.items()},
        "fits_one_machine": est.fits_one_machine,
        "assumptions": est.assumptions,
        "references": est.references,
    }


def _parsed_view(parsed: ParsedRequest) -> dict[str, Any]:
    workload = None
    if parsed.workload is not None:
        workload = {k: v for k, v in asdict(parsed.workload).items() if v is not None}
    return {
        "text": parsed.text,
        "understood": [
            {"text": u.text, "field": u.field, "meaning": u.meaning} for u in parsed.understood
        ],
        "not_understood": parsed.not_understood,
        "remarks": parsed.remarks,
        "missing": parsed.missing,
        "workload": workload,
    }


async def estimate(
    session: AsyncSession,
    market: MarketSearch | None,
    settings: Settings,
    text: str,
    now: datetime,
    plan: bool = True,
    export: ExportFormat | None = None,
) -> dict[str, Any]:
    """Everything the wizard understood of `text`, what it needs, and its plan."""
    try:
        parsed = parse(text, now)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    result: dict[str, Any] = {
        **_parsed_view(parsed),
        "estimate": None,
        "requirement": None,
        "problem": None,
        "planning": None,
    }
    try:
        req, est = to_requirement(parsed)
    except ValueError as exc:
        result["problem"] = str(exc)
        return result
    result["estimate"] = _estimate_view(est) if est is not None else None
    if plan:
        planning = await clusters.plan_job(session, market, settings, req)
        view = clusters.planning_view(planning, export)
        result["planning"] = view
        result["requirement"] = view["requirement"]
    else:
        result["requirement"] = clusters.requirement_view(req)
    return result

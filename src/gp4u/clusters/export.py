"""A plan written out for other tools (pure): SkyPilot task YAML, one task per member (SkyPilot
runs one instance type per task, so a mixed plan is several tasks), or a Terraform-style
description (the `resource` block of Terraform's JSON syntax, written as YAML)."""

from __future__ import annotations

from typing import Any, Literal

import yaml

from gp4u.clusters.planner.result import Member, Plan
from gp4u.clusters.requirements import JobRequirement

ExportFormat = Literal["skypilot", "terraform"]

# GP4U provider ids that SkyPilot spells differently.
SKYPILOT_CLOUDS = {"vastai": "vast"}


def _hours(value: float) -> float:
    return round(value, 4)


def _skypilot_task(plan_name: str, index: int, member: Member) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "cloud": SKYPILOT_CLOUDS.get(member.provider, member.provider),
        "accelerators": f"{member.gpu}:{member.gpus_each}",
        "use_spot": member.spot,
    }
    if member.region:
        resources["region"] = member.region
    return {
        "name": f"{plan_name}-{index}",
        "num_nodes": member.instances,
        "resources": resources,
        "envs": {
            "GP4U_OFFER_ID": str(member.offer_id),
            "GP4U_HOURS_EACH": str(_hours(member.hours_each)),
        },
        "run": "# your job here; it stops itself after GP4U_HOURS_EACH hours\n",
    }


def _terraform(plan_name: str, plan: Plan, req: JobRequirement) -> dict[str, Any]:
    members = {
        f"member_{i}": {
            "offer_id": m.offer_id,
            "provider": m.provider,
            "region": m.region,
            "gpu": m.gpu,
            "gpus_per_instance": m.gpus_each,
            "spot": m.spot,
            "count": m.instances,
            "hours_each": _hours(m.hours_each),
            "price_per_hour_usd": m.price_micros / 1e6,
        }
        for i, m in enumerate(plan.members, start=1)
    }
    return {
        "terraform": {"required_providers": {"gp4u": {"source": "gp4u/gp4u"}}},
        "resource": {
            "gp4u_cluster": {
                plan_name: {
                    "pflop_hours": req.compute.pflop_hours,
                    "precision": req.compute.precision,
                    "deadline_hours": req.deadline_hours,
                    "estimated_cost_usd": plan.cost_micros / 1e6,
                    "members": members,
                }
            }
        },
    }


def export_plan(plan: Plan, req: JobRequirement, fmt: ExportFormat, name: str = "gp4u-plan") -> str:
    """The plan as YAML in the given format."""
    header = (
        f"# GP4U plan: {plan.machines} machine(s), {plan.gpus} GPUs,"
        f" ${plan.cost_micros / 1e6:,.2f}, done in {plan.finish_hours:.1f} h\n"
    )
    if fmt == "skypilot":
        tasks = [_skypilot_task(name, i, m) for i, m in enumerate(plan.members, start=1)]
        return header + yaml.safe_dump_all(tasks, sort_keys=False)
    return header + yaml.safe_dump(_terraform(name.replace("-", "_"), plan, req), sort_keys=False)

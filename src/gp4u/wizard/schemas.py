"""Request and response shapes of the wizard API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from gp4u.clusters.schemas import PlanningOut, RequirementOut
from gp4u.web.schemas import RequestModel


class EstimateIn(RequestModel):
    text: str = Field(
        min_length=1,
        max_length=2000,
        description='What you want to run, in words: "fine-tune llama 3 70B with LoRA on 200M '
        'tokens in 2 days under $1500".',
    )
    plan: bool = Field(True, description="Also plan it on the current market.")
    export: Literal["skypilot", "terraform"] | None = Field(
        None, description="Also write the least-cost plan as SkyPilot or Terraform-style YAML."
    )


class UnderstoodOut(BaseModel):
    text: str = Field(description="The words, exactly as written.")
    field: str = Field(description="What they set.")
    meaning: str = Field(description="What they were taken to mean.")


class EstimateOut(BaseModel):
    """What a workload needs, with every assumption behind it."""

    pflop_hours: float = Field(description="Useful compute the workload performs.")
    precision: str
    min_vram_gb: float = Field(description="Memory each GPU needs, GB.")
    min_gpus_per_machine: int
    sustained: bool = Field(description="Serving: capacity for the whole period.")
    duration_hours: float | None
    memory_gb: dict[str, float] = Field(description="Per GPU: weights, gradients, optimizer, …")
    fits_one_machine: bool
    assumptions: list[str]
    references: list[str]


class WizardOut(BaseModel):
    text: str
    understood: list[UnderstoodOut]
    not_understood: list[str] = Field(description="Words that were not understood (not guessed).")
    remarks: list[str]
    missing: list[str] = Field(description="What the request still needs before it can be planned.")
    workload: dict[str, Any] | None = Field(description="The workload as understood.")
    estimate: EstimateOut | None
    requirement: RequirementOut | None = Field(description="What the planner was asked.")
    problem: str | None = Field(description="Why it could not be planned, when it could not.")
    planning: PlanningOut | None

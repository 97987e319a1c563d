"""Wizard API: a job described in words, estimated and planned (no account needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gp4u.web.deps import ClockDep, MarketDep, SessionDep, SettingsDep
from gp4u.web.errors import ERROR_RESPONSES
from gp4u.wizard import service
from gp4u.wizard.schemas import EstimateIn, WizardOut

router = APIRouter(prefix="/api/v1/wizard", tags=["wizard"])


@router.post(
    "/estimate",
    response_model=WizardOut,
    responses=ERROR_RESPONSES,
    summary="Describe a job in words: what it needs, and its least-cost plan",
    description="Parses the text deterministically (no language model) into a workload and "
    "constraints, and shows exactly what was understood, word for word; words it could not "
    "place are listed in `not_understood`, never guessed. A recognised workload (LLM "
    "pre-training, full or LoRA fine-tuning, inference serving, image-model training, batch "
    "rendering) is turned into compute, VRAM per GPU and GPUs per machine with every "
    "assumption and reference stated, then planned as `POST /api/v1/clusters/plan` would. "
    "When something needed is missing (no deadline, say), `problem` says what.",
)
async def estimate(
    body: EstimateIn,
    session: SessionDep,
    market: MarketDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Any:
    return await service.estimate(
        session, market, settings, body.text, clock.now(), body.plan, body.export
    )

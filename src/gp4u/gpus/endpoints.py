"""GPU catalog API: reference specs of every model, with the market summary."""

from __future__ import annotations

from fastapi import APIRouter

from gp4u.gpus import service
from gp4u.gpus.schemas import GpuOut, GpusOut
from gp4u.web.deps import MarketDep, SessionDep
from gp4u.web.errors import ERROR_RESPONSES
from gp4u.web.responses import FastJSON

router = APIRouter(prefix="/api/v1", tags=["gpus"])


@router.get("/gpus", response_model=GpusOut, summary="Every GPU model, specs and market")
async def list_gpus(session: SessionDep, market: MarketDep) -> FastJSON:
    return FastJSON(await service.list_gpus(session, market))


@router.get(
    "/gpus/{name}",
    response_model=GpuOut,
    responses=ERROR_RESPONSES,
    summary="One GPU model by any spelling",
)
async def get_gpu(session: SessionDep, market: MarketDep, name: str) -> FastJSON:
    return FastJSON(await service.get_gpu(session, name, market))

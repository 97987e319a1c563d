"""`/healthz` (the process is up), `/readyz` (the database answers and its schema is current)
and `/metrics` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from gp4u.db.migrate import current_revision
from gp4u.db.schema_version import SCHEMA_REVISION
from gp4u.web.responses import FastJSON

router = APIRouter(tags=["system"])


@router.get("/healthz", summary="Liveness: the process is serving")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: database reachable and migrations current",
    description="Ready means every search is answered correctly. `search_index.state` says "
    "whether searches are served by the in-memory index (`ready`) or, while it is built after "
    "a start or a large import, by SQL (`building`/`updating`): slower, equally exact.",
    responses={503: {"description": "Not ready; `detail` says why."}},
)
async def readyz(request: Request) -> FastJSON:
    engine = request.app.state.engine
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        revision = await current_revision(engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return FastJSON(
            {"error": "NotReady", "detail": f"database unreachable: {type(exc).__name__}"},
            status_code=503,
        )
    if revision != SCHEMA_REVISION:
        return FastJSON(
            {
                "error": "NotReady",
                "detail": f"schema at {revision or 'nothing'}, code expects {SCHEMA_REVISION}; "
                "run `gp4u db upgrade`",
            },
            status_code=503,
        )
    market = getattr(request.app.state, "market", None)
    index = market.status() if market is not None else {"state": "none"}
    return FastJSON(
        {"status": "ready", "database": "ok", "schema": revision, "search_index": index}
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="Provider requests, errors and latency, circuit breaker transitions, rate-limit "
    "waits, offer cache lookups, sync durations, offers per provider, job runs. Per process.",
    response_class=Response,
)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

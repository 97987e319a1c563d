"""Running one job: look it up, apply its timeout, log and count the outcome. Both runners call
`run_job`, so a job behaves the same in-process and on Celery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from prometheus_client import Counter, Histogram

from gp4u.jobs.context import JobContext
from gp4u.jobs.registry import spec
from gp4u.kit.logging import get_logger

log = get_logger(__name__)

RUNS = Counter("gp4u_job_runs_total", "Job runs by outcome.", ["job", "outcome"])
SECONDS = Histogram(
    "gp4u_job_seconds",
    "Job run durations.",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)


async def run_job(ctx: JobContext, name: str, args: Mapping[str, Any] | None = None) -> Any:
    """Run job `name` with `args`; raises what the job raised (or TimeoutError)."""
    job = spec(name)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(job.timeout_seconds):
            result = await job.fn(ctx, **dict(args or {}))
    except Exception as exc:
        RUNS.labels(name, "error").inc()
        log.warning("job failed", job=name, args=dict(args or {}), error=repr(exc)[:500])
        raise
    finally:
        SECONDS.labels(name).observe(time.perf_counter() - started)
    RUNS.labels(name, "ok").inc()
    return result

"""The Celery runner (distributed mode): Redis broker; `gp4u worker` executes jobs, `gp4u
scheduler` (Celery beat) fires the periodic schedules and the outbox relay.

Job functions are async: each worker process keeps one event loop (and one job context, with
its database pool and provider clients) for its whole life and runs every task on it."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from celery import Celery
from celery.signals import worker_process_shutdown

from gp4u.db.engine import unit_of_work
from gp4u.jobs import outbox
from gp4u.jobs.context import JobContext
from gp4u.jobs.execute import run_job
from gp4u.jobs.registry import all_schedules, load_jobs
from gp4u.kit.clock import SystemClock
from gp4u.providers.registry import build_providers
from gp4u.settings import Settings
from gp4u.worker.context import open_context
from gp4u.worker.inprocess import execute_claimed

QUEUE = "gp4u"
RELAY_SECONDS = 1.0


class _Process:
    """This worker process's event loop and job context, made on first use (after fork) and
    closed when the process shuts down."""

    runner: asyncio.Runner | None = None
    ctx: JobContext | None = None

    @classmethod
    def close(cls) -> None:
        if cls.runner is None or cls.ctx is None:
            return
        ctx = cls.ctx

        async def shutdown() -> None:
            await ctx.aclose()
            await ctx.engine.dispose()

        cls.runner.run(shutdown())
        cls.runner.close()
        cls.runner = cls.ctx = None

    @classmethod
    def run(cls, settings: Settings, work: Any) -> Any:
        if cls.runner is None:
            cls.runner = asyncio.Runner()
            cls.ctx = open_context(settings)
        assert cls.ctx is not None
        return cls.runner.run(work(cls.ctx))


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Celery beat entries: every registered schedule, plus the outbox relay."""
    load_jobs()
    clock = SystemClock()
    probe = JobContext(settings, clock, None, None, build_providers(settings, clock))  # type: ignore[arg-type]
    try:
        entries: dict[str, dict[str, Any]] = {
            s.key: {
                "task": "gp4u.run_job",
                "schedule": s.every,
                "args": (s.job, dict(s.args)),
                # a run still queued when the next one is due is dropped, not piled up
                "options": {"expires": s.every},
            }
            for s in all_schedules(probe)
        }
    finally:
        asyncio.run(probe.providers.aclose())
    entries["outbox-relay"] = {
        "task": "gp4u.relay_outbox",
        "schedule": RELAY_SECONDS,
        "options": {"expires": RELAY_SECONDS * 5},
    }
    return entries


def create_celery(settings: Settings) -> Celery:
    if not settings.redis_url:
        raise ValueError("Celery needs GP4U_REDIS_URL")
    load_jobs()
    app = Celery("gp4u", broker=settings.redis_url)
    app.conf.update(
        task_default_queue=QUEUE,
        task_ignore_result=True,
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        timezone="UTC",
        beat_schedule=beat_schedule(settings),
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
    )

    worker_process_shutdown.connect(lambda **_: _Process.close(), weak=False)

    @app.task(name="gp4u.run_job")
    def run_job_task(name: str, args: dict[str, Any] | None = None) -> None:
        _Process.run(settings, lambda ctx: run_job(ctx, name, args))

    @app.task(name="gp4u.run_outbox")
    def run_outbox_task(job_id: int, claimed_at: str, name: str, args: dict[str, Any]) -> None:
        claimed = datetime.fromisoformat(claimed_at)
        _Process.run(settings, lambda ctx: execute_claimed(ctx, job_id, claimed, name, args))

    @app.task(name="gp4u.relay_outbox")
    def relay_outbox_task() -> int:
        async def relay(ctx: JobContext) -> list[tuple[int, str, str, dict[str, Any]]]:
            async with unit_of_work(ctx.sessions) as session:
                now = ctx.clock.now()
                rows = await outbox.claim_due(session, now, limit=100)
                return [(r.id, now.isoformat(), r.job, dict(r.args)) for r in rows]

        claimed: list[tuple[int, str, str, dict[str, Any]]] = _Process.run(settings, relay)
        for job_id, at, name, args in claimed:
            run_outbox_task.delay(job_id, at, name, args)
        return len(claimed)

    return app

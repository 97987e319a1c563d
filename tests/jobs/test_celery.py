"""Distributed mode for real: a Celery worker and a Celery beat scheduler as separate processes on
the machine's Redis run a job enqueued through the outbox (a provider sync against a fake
catalog host) on the test database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gp4u.db.engine import unit_of_work
from gp4u.fakes import kit
from gp4u.jobs import outbox
from gp4u.jobs.models import OutboxJob
from gp4u.jobs.registry import load_jobs
from gp4u.offers.models import Offer
from tests.conftest import T0

BROKER = os.environ.get("GP4U_TEST_CELERY_URL", "redis://127.0.0.1:6379/14")
GP4U = str(Path(sys.executable).parent / "gp4u")


@pytest.fixture
def processes(
    db_url: str, tmp_path: Path, shared_catalogs: kit.RunningFake, env_without_gp4u: dict[str, str]
) -> Iterator[None]:
    Redis.from_url(BROKER).flushdb()
    env = {
        **env_without_gp4u,
        "GP4U_DATABASE_URL": db_url,
        "GP4U_REDIS_URL": BROKER,
        "GP4U_JOBS_BACKEND": "celery",
        "GP4U_SECRET_KEY": "celery-test-secret-" + "x" * 32,
        "GP4U_DATA_DIR": str(tmp_path),
        "GP4U_PROVIDERS": "",
        "GP4U_CATALOG_URL": shared_catalogs.url,
        "GP4U_CATALOG_PROVIDERS": "lambda",
        "GP4U_SIMULATED_MARKET": "false",
    }
    started = [
        subprocess.Popen(
            [GP4U, "worker", "--concurrency=1"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [GP4U, "scheduler"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    yield
    for process in started:
        process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


async def test_a_worker_and_a_scheduler_run_an_outbox_job(
    processes: None, sessions: async_sessionmaker[AsyncSession]
) -> None:
    load_jobs()
    async with unit_of_work(sessions) as session:
        await outbox.enqueue(session, "sources.sync_provider", T0, {"provider": "catalog-lambda"})
    status = None
    for _ in range(600):  # the relay runs every second once beat and the worker are up
        async with sessions() as session:
            status = await session.scalar(select(OutboxJob.status))
            offers = await session.scalar(select(func.count()).select_from(Offer))
        if status == "done":
            break
        await asyncio.sleep(0.1)
    assert status == "done"
    assert offers == 391

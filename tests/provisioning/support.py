"""Helpers of the session tests: fast adapters (no pacing) for the fake providers, draining the
outbox the way the runner would, and reading what the fakes (and the `local` provider) hold."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

from fastapi import FastAPI

from gp4u.jobs.context import JobContext
from gp4u.providers.gateway import CallPolicy, Gateway
from gp4u.providers.local.adapter import LocalAdapter
from gp4u.providers.vastai.adapter import VastaiAdapter
from gp4u.worker.inprocess import run_due_jobs


class FastVastai(VastaiAdapter):
    """Vast.ai without its request pacing and long backoffs, so lifecycle tests run fast."""

    call_policy: ClassVar[CallPolicy] = dataclasses.replace(
        VastaiAdapter.call_policy, rate=None, backoff_seconds=0.01, attempts=2
    )


async def drain(ctx: JobContext, rounds: int = 5) -> list[str]:
    """Run every due outbox job (and those they enqueue), as the in-process runner would."""
    return await run_due_jobs(ctx, rounds)


def ctx_of(app: FastAPI) -> JobContext:
    ctx: JobContext = app.state.jobs
    return ctx


def live_tagged(fake_state: Any, deployment: str = "local") -> list[Any]:
    """Instances at a fake that carry this deployment's tag and are not terminated."""
    prefix = f"gp4u-{deployment}-"
    return [
        i
        for i in fake_state.instances.values()
        if i.state() != "terminated" and str(i.attrs.get("label") or "").startswith(prefix)
    ]


async def alive_instances(data_dir: Path, *, terminate: bool = False) -> list[str]:
    """The `local` provider's machines still running (the processes it tagged); with
    `terminate`, they are ended too (a failed test leaves no agent behind)."""
    gateway = Gateway()
    try:
        adapter = LocalAdapter.create("local", gateway, options={"data_dir": str(data_dir)})
        alive = [i.instance_id for i in await adapter.list_tagged("local")]
        for instance_id in alive if terminate else []:
            await adapter.terminate(instance_id)
        return alive
    finally:
        await gateway.aclose()

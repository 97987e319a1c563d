"""A minimal in-process scheduler: run async callables every N seconds inside `gp4u serve`
until shutdown. Failures are logged and the schedule goes on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from gp4u.kit.logging import get_logger

log = get_logger(__name__)


class Periodic:
    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def every(
        self,
        seconds: float,
        name: str,
        job: Callable[[], Awaitable[object]],
        *,
        first_delay: float | None = None,
    ) -> None:
        async def loop() -> None:
            await asyncio.sleep(seconds if first_delay is None else first_delay)
            while True:
                try:
                    await job()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("periodic job failed", job=name)
                await asyncio.sleep(seconds)

        self._tasks.append(asyncio.create_task(loop(), name=name))

    def once(self, name: str, job: Callable[[], Awaitable[object]]) -> None:
        async def run() -> None:
            try:
                await job()
            except Exception:
                log.exception("background job failed", job=name)

        self._tasks.append(asyncio.create_task(run(), name=name))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

"""A broker worker in its own process, for the crash scenarios of the fault matrix: it claims and
runs the due outbox jobs like the in-process runner does, on the test's database, fake provider
and (frozen) time. Run with `GP4U_FAILPOINT=<name>` it dies at that failpoint (exit code 77).

    python -m tests.provisioning.crash_worker <config.json>

The config holds `settings` (every field, secrets in clear: it lives in the test's tmp dir) and
`now` (ISO time of the worker's frozen clock).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import SecretStr

from gp4u.kit.clock import FrozenClock
from gp4u.providers import registry
from gp4u.settings import Settings
from gp4u.worker.context import open_context
from tests.provisioning.support import drain


def config_of(settings: Settings, now: datetime) -> bytes:
    """The config file for a worker with these settings and this time."""
    fields: dict[str, Any] = {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in settings.model_dump().items()
    }
    return orjson.dumps({"settings": fields, "now": now.isoformat()}, default=str)


async def work(config: dict[str, Any]) -> list[str]:
    registry.BUILTIN["vastai"] = "tests.provisioning.support:FastVastai"
    clock = FrozenClock(datetime.fromisoformat(config["now"]))
    ctx = open_context(Settings(**config["settings"]), clock)
    try:
        return await drain(ctx)
    finally:
        await ctx.aclose()
        await ctx.engine.dispose()


def main(argv: list[str]) -> int:
    config = orjson.loads(Path(argv[1]).read_bytes())
    ran = asyncio.run(work(config))
    print(orjson.dumps(ran).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

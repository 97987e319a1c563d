"""Fixtures of the provider adapter tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gp4u.providers.gateway import Gateway
from gp4u.providers.local.adapter import LocalAdapter


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[LocalAdapter]:
    """The local provider's adapter on a fresh data dir; whatever it ran for deployment `t1`
    is terminated afterwards."""
    gateway = Gateway()
    adapter = LocalAdapter.create("local", gateway, options={"data_dir": str(tmp_path)})
    yield adapter
    for instance in await adapter.list_tagged("t1"):
        await adapter.terminate(instance.instance_id)
    await gateway.aclose()

"""Fixtures of the agent tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.agent.broker import RunningBroker, start_broker


@pytest.fixture
def broker() -> Iterator[RunningBroker]:
    """A fake broker (both agent modes' endpoints) on a real port."""
    running = start_broker()
    yield running
    running.stop()

"""Fixtures of the fault matrix: the fake Vast.ai on the test's clock, per-test setting
overrides, and the `rig` that drives it all. A test module uses them by importing the functions
(pytest knows them by their fixture names: `rig`, `overrides`, …), e.g.
`from tests.provisioning.fixtures import rig_fixture  # noqa: F401`.

Settings are overridden per test by indirect parametrisation:
`@pytest.mark.parametrize("overrides", [{"session_max_hours": 0.25}], indirect=True)`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gp4u.fakes.kit import FakeState
from gp4u.kit.clock import FrozenClock
from gp4u.settings import Settings
from tests.provisioning.rig import BrokerRig


@pytest.fixture(name="overrides")
def overrides_fixture(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings this test changes (none unless parametrised)."""
    return dict(getattr(request, "param", {}))


@pytest.fixture(name="broker_settings")
def broker_settings_with_overrides(
    broker_settings: Settings, overrides: dict[str, Any]
) -> Settings:
    return broker_settings.model_copy(update=overrides)


@pytest.fixture(name="fake_time")
def fake_time_fixture(vast: FakeState, clock: FrozenClock) -> Iterator[FakeState]:
    """The fake provider reads the test's clock (instance times, billing), then its own again."""
    vast.clock = lambda: clock.now().timestamp()
    yield vast
    vast.clock = time.time


@pytest.fixture(name="rig")
def rig_fixture(
    fake_time: FakeState, broker: httpx.AsyncClient, broker_app: FastAPI, clock: FrozenClock
) -> BrokerRig:
    return BrokerRig(broker, broker_app, fake_time, clock)

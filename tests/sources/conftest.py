"""Fixtures for syncing: provider sets built from settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from gp4u.kit.clock import FrozenClock
from gp4u.providers.registry import ProviderSet, build_providers
from gp4u.settings import Settings


@pytest.fixture
async def make_providers(
    settings: Settings, clock: FrozenClock
) -> AsyncIterator[Callable[..., ProviderSet]]:
    made: list[ProviderSet] = []

    def make(**overrides: Any) -> ProviderSet:
        values = {"providers": "", **overrides}
        providers = build_providers(settings.model_copy(update=values), clock)
        made.append(providers)
        return providers

    yield make
    for providers in made:
        await providers.aclose()

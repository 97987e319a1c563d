"""Published SkyPilot catalogs as a provider kind: one adapter per catalog provider, reading
`<base_url>/<provider>/vms.csv`. Catalog only: prices and shapes, no live capacity and no
provisioning."""

from __future__ import annotations

import asyncio

from gp4u.providers.base import InvalidResponse, ParseReport
from gp4u.providers.catalog.files import parse_catalog
from gp4u.providers.gateway import CallPolicy
from gp4u.providers.interface import Capabilities, Capability, ProviderAdapter


class CatalogAdapter(ProviderAdapter):
    kind = "catalog"
    source = "catalog"
    live = False
    call_policy = CallPolicy(timeout=20.0, attempts=2, max_seconds=45.0)

    def capabilities(self) -> Capabilities:
        return Capabilities.of(
            Capability.OFFERS,
            live_availability="published catalog: list prices, not live capacity",
            launch="catalog only: no provisioning API",
            spot="spot prices only where the catalog lists them; no spot launches",
            credentials="public data: no credentials",
        )

    async def list_offers(self) -> ParseReport:
        response = await self.client.request("GET", f"/{self.provider}/vms.csv")
        text = response.raise_for_status().text
        try:
            return await asyncio.to_thread(parse_catalog, text, self.provider, "skypilot")
        except ValueError as exc:
            raise InvalidResponse(self.name, f"not a catalog: {exc}") from exc

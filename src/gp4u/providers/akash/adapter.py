"""The Akash adapter: GPU models and prices from the public Akash Console API, catalog only.

Facts relied on (akash-network/console, `apps/api/src/gpu`): `GET /v1/gpu-prices` needs no auth,
its prices are USD per GPU-hour derived from recent single-GPU bids, and the answer is memoised
for 15 minutes, so polling faster only repeats it. No rate limit is documented; one request per
second keeps us polite.
"""

from __future__ import annotations

from gp4u.providers.akash.parse import parse_gpu_prices
from gp4u.providers.base import ParseReport
from gp4u.providers.gateway import CallPolicy
from gp4u.providers.interface import Capabilities, Capability, ProviderAdapter
from gp4u.providers.ratelimit import RatePolicy

CATALOG_ONLY = (
    "catalog only: Akash deployments need an on-chain wallet (AKT or USDC escrow) and provider "
    "bids; GP4U does not provision on Akash"
)


class AkashAdapter(ProviderAdapter):
    kind = "marketplace"
    live = True  # availability counts change with the network (the Console refreshes every 15 min)
    min_sync_seconds = 300.0  # the Console caches its answer for 15 minutes; no use asking faster
    default_base_url = "https://console-api.akash.network"
    call_policy = CallPolicy(rate=RatePolicy(per_second=1.0))

    @classmethod
    def auth_headers(cls, api_key: str | None) -> dict[str, str]:
        """None: the price API is public, and a key configured by mistake must not leak to it."""
        return {}

    def capabilities(self) -> Capabilities:
        return Capabilities.of(
            Capability.OFFERS,
            Capability.LIVE_AVAILABILITY,
            launch=CATALOG_ONLY,
            spot="no spot market: Akash leases are priced by bids and are not interruptible",
            credentials="no credentials: the Akash Console price API is public",
        )

    async def list_offers(self) -> ParseReport:
        return parse_gpu_prices(await self.client.json("GET", "/v1/gpu-prices"), self.provider)

"""The Vast.ai adapter: offer search, rent an ask, show / list / destroy instances."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import orjson

from gp4u.kit.logging import get_logger
from gp4u.kit.money import micros_to_usd
from gp4u.providers.base import (
    InvalidResponse,
    NoCapacity,
    OutcomeUnknown,
    ParseReport,
    ProviderAuthError,
    ProviderError,
    ProviderRejected,
)
from gp4u.providers.gateway import CallPolicy, ProviderResponse
from gp4u.providers.interface import (
    Capabilities,
    Capability,
    CredentialCheck,
    Instance,
    InstanceState,
    LaunchRequest,
    ProviderAdapter,
    ProviderKind,
    tagged_alive,
)
from gp4u.providers.ratelimit import RatePolicy
from gp4u.providers.vastai.parse import (
    instance_of_show,
    instance_page,
    is_missing,
    parse_offers,
    refusal,
)

log = get_logger(__name__)

SEARCH = "/api/v0/bundles/"
ASK = "/api/v0/asks/{ask}/"
INSTANCE = "/api/v0/instances/{id}/"
INSTANCE_SSH = "/api/v0/instances/{id}/ssh/"
INSTANCES = "/api/v1/instances/"
CURRENT_USER = "/api/v0/users/current/"

DEFAULT_SEARCH_LIMIT = 10_000
PAGE_SIZE = 25  # the v1 instance list's maximum page
MAX_PAGES = 400  # 10,000 instances: far beyond any account; guards against a looping token
NO_KEY = "no API key: set GP4U_VASTAI_API_KEY"


class VastaiAdapter(ProviderAdapter):
    """Vast.ai marketplace: on-demand and interruptible (bid) offers of individual hosts."""

    kind: ClassVar[ProviderKind] = "marketplace"
    live: ClassVar[bool] = True
    default_base_url: ClassVar[str] = "https://console.vast.ai"
    # Vast limits each endpoint per key and IP to a minimum interval between calls and sends
    # no Retry-After, so pace every call and back off for whole seconds on a 429.
    call_policy: ClassVar[CallPolicy] = CallPolicy(
        attempts=4, backoff_seconds=1.0, rate=RatePolicy(per_second=2.0)
    )

    def capabilities(self) -> Capabilities:
        offers = (Capability.OFFERS, Capability.LIVE_AVAILABILITY, Capability.SPOT)
        if self.api_key:
            return Capabilities.of(*offers, Capability.LAUNCH, Capability.CREDENTIALS)
        return Capabilities.of(*offers, launch=NO_KEY, credentials=NO_KEY)

    async def list_offers(self) -> ParseReport:
        """One on-demand search and one interruptible search (anonymous calls both); the
        interruptible offers come back as separate spot offers priced at their minimum bid."""
        limit = self._search_limit()
        report = ParseReport()
        for spot in (False, True):
            query = {
                "rentable": {"eq": True},
                "rented": {"eq": False},
                "type": "bid" if spot else "on-demand",
                "order": [["score", "desc"]],
                "limit": limit,
            }
            part = parse_offers(await self._search(query), self.name, spot=spot)
            if part.rows_read >= limit:
                log.warning("offer search hit its limit", provider=self.name, limit=limit)
            report.merge(part)
        return report

    async def launch(self, request: LaunchRequest) -> Instance:
        """Rent the ask `offer_ref`. Vast has no idempotency key, so a live instance already
        labelled with our tags is returned instead of renting a second one."""
        self._require(Capability.LAUNCH)
        ask = _vast_id(request.offer_ref)
        if ask is None:
            raise ProviderRejected(self.name, f"offer_ref {request.offer_ref!r} is not an ask id")
        existing = await self._find_labelled(request.tags.label)
        if existing is not None:  # a retry after an unclear create: make sure the key is on it
            if request.ssh_public_key:
                await self._attach_ssh_key(existing.instance_id, request.ssh_public_key)
            return existing
        bid = await self._bid(request, ask) if request.spot else None
        instance_id = await self._create(ask, _create_body(request, bid))
        if request.ssh_public_key:
            await self._attach_ssh_key(instance_id, request.ssh_public_key)
        return Instance(
            provider=self.name,
            instance_id=instance_id,
            state=InstanceState.PENDING,
            provider_status="created",
            tags=request.tags,
            instance_type=request.instance_type,
            region=request.region,
            ssh_user="root",
            price_per_hour=bid,
        )

    async def status(self, instance_ids: Sequence[str]) -> list[Instance]:
        self._require(Capability.LAUNCH)
        return [await self._show(instance_id) for instance_id in instance_ids]

    async def list_tagged(self, deployment: str) -> list[Instance]:
        self._require(Capability.LAUNCH)
        return tagged_alive(await self._list(), deployment)

    async def terminate(self, instance_id: str) -> None:
        """Destroy; an id Vast does not know (a 404 in Vast's own error envelope, or
        `success: false` for an instance that show confirms is gone) is already terminated. A
        404 in anyone else's words (a wrong base URL, a proxy's page) is `ProviderRejected`, so
        the caller keeps trying rather than forgetting a billed instance."""
        self._require(Capability.LAUNCH)
        if _vast_id(instance_id) is None:
            return
        response = await self.client.request("DELETE", INSTANCE.format(id=instance_id))
        if response.status == 404 and is_missing(404, _body(response)):
            return
        payload = self._payload(response)
        if isinstance(payload, Mapping) and payload.get("success") is False:
            if (await self._show(instance_id)).state.is_gone:
                return
            raise self._refused(response)

    async def check_credentials(self) -> CredentialCheck:
        if not self.api_key:
            return CredentialCheck(False, NO_KEY)
        response = await self.client.request("GET", CURRENT_USER)
        try:
            payload = self._payload(response)
        except ProviderAuthError:
            return CredentialCheck(False, "Vast.ai refused the API key")
        user = payload.get("id") if isinstance(payload, Mapping) else None
        return CredentialCheck(True, f"API key accepted (Vast.ai user {user})")

    async def _search(self, query: Mapping[str, Any]) -> Any:
        response = await self.client.request("POST", SEARCH, json=query, idempotent=True)
        return self._payload(response)

    async def _bid(self, request: LaunchRequest, ask: str) -> int:
        """The bid: the one asked for, else the offer's current minimum bid."""
        if request.bid_per_hour is not None:
            return request.bid_per_hour
        query = {"id": {"eq": int(ask)}, "type": "bid", "limit": 1}
        found = parse_offers(await self._search(query), self.name, spot=True).offers
        if not found:
            raise NoCapacity(self.name, f"ask {ask} has no interruptible offer now")
        return found[0].price_per_hour

    async def _create(self, ask: str, body: Mapping[str, Any]) -> str:
        where = f"PUT {ASK.format(ask=ask)}"
        response = await self.client.request(
            "PUT", ASK.format(ask=ask), json=body, idempotent=False
        )
        if not response.ok:
            raise self._refused(response, ask=True)
        try:
            payload = response.json()
        except InvalidResponse as exc:  # it answered 2xx: the instance probably exists
            raise OutcomeUnknown(self.name, f"{where}: malformed answer to a create") from exc
        if isinstance(payload, Mapping) and payload.get("success") is False:
            raise self._refused(response, ask=True)
        new = payload.get("new_contract") if isinstance(payload, Mapping) else None
        instance_id = _vast_id(new)
        if instance_id is None:
            raise OutcomeUnknown(self.name, f"{where}: create answered without an instance id")
        return instance_id

    async def _attach_ssh_key(self, instance_id: str, key: str) -> None:
        """Attach the key; a failure leaves a usable instance (reachable with the account's
        keys), so it is logged rather than raised, which would orphan the rented instance."""
        path = INSTANCE_SSH.format(id=instance_id)
        try:
            response = await self.client.request(
                "POST", path, json={"ssh_key": key}, idempotent=True
            )
            if not response.ok:
                raise self._refused(response)
        except ProviderError as error:
            log.warning(
                "ssh key not attached",
                provider=self.name,
                instance=instance_id,
                error=error.message,
            )

    async def _show(self, instance_id: str) -> Instance:
        """The instance; gone only when Vast says so (`{"instances": null}`, or a 404 in its
        own error envelope). Any other 404 is `ProviderRejected`, never TERMINATED."""
        if _vast_id(instance_id) is None:
            return self._gone(instance_id)
        response = await self.client.request("GET", INSTANCE.format(id=instance_id))
        if response.status == 404 and is_missing(404, _body(response)):
            return self._gone(instance_id)
        return instance_of_show(self._payload(response), self.name) or self._gone(instance_id)

    async def _list(self, filters: Mapping[str, Any] | None = None) -> list[Instance]:
        """Every instance of the account (matching `filters`), following `next_token`."""
        params: dict[str, Any] = {"limit": PAGE_SIZE}
        if filters:
            params["select_filters"] = orjson.dumps(filters).decode()
        instances: list[Instance] = []
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            response = await self.client.request("GET", INSTANCES, params=params)
            page = instance_page(self._payload(response), self.name)
            instances.extend(page.instances)
            if page.next_token is None:
                return instances
            if page.next_token in seen:
                raise InvalidResponse(self.name, "instance list repeated a page token")
            seen.add(page.next_token)
            params["after_token"] = page.next_token
        raise InvalidResponse(self.name, f"instance list did not end after {MAX_PAGES} pages")

    async def _find_labelled(self, label: str) -> Instance | None:
        for instance in await self._list({"label": {"eq": label}}):
            if instance.tags and instance.tags.label == label and not instance.state.is_gone:
                return instance
        return None

    def _payload(self, response: ProviderResponse) -> Any:
        if not response.ok:
            raise self._refused(response)
        return response.json()

    def _refused(self, response: ProviderResponse, *, ask: bool = False) -> ProviderError:
        where = f"{response.method} {response.path}"
        return refusal(self.name, where, response.status, _body(response), ask=ask)

    def _gone(self, instance_id: str) -> Instance:
        return Instance(self.name, instance_id, InstanceState.TERMINATED, "not found")

    def _search_limit(self) -> int:
        raw = self.config.options.get("search_limit")
        if raw is None:
            return DEFAULT_SEARCH_LIMIT
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if limit < 1:
            log.warning("ignoring bad search_limit option", provider=self.name, value=raw)
            return DEFAULT_SEARCH_LIMIT
        return limit


def _create_body(request: LaunchRequest, bid: int | None) -> dict[str, Any]:
    """The rent request: our tags label names the instance; a bid price makes it
    interruptible. `env` goes as the CLI sends it, a name → value object."""
    body: dict[str, Any] = {
        "client_id": "me",
        "image": request.image,
        "disk": request.disk_gb,
        "label": request.tags.label,
        "runtype": "ssh",
    }
    if request.startup_command:
        body["onstart"] = request.startup_command
    if request.env:
        body["env"] = dict(request.env)
    if bid is not None:
        body["price"] = micros_to_usd(bid)
    return body


def _vast_id(value: object) -> str | None:
    """Vast ids are positive integers; anything else cannot name a Vast ask or instance."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value > 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and int(value) > 0:
        return str(int(value))
    return None


def _body(response: ProviderResponse) -> Any:
    """An error body as JSON when it is JSON, else its text (Vast's 429s are often text)."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.text

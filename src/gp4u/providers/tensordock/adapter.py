"""The TensorDock adapter: offers from v2 `/locations`, VMs through v2 `/instances`.

Every call goes through the gateway client. TensorDock has no idempotency key, so `launch` first
looks for a live VM already named with the request's tag label. See the package docstring for
the API facts and assumptions this relies on.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

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
    tagged_alive,
)
from gp4u.providers.ratelimit import RatePolicy
from gp4u.providers.tensordock.parse import (
    OfferRef,
    minimum_resources,
    parse_instance,
    parse_instance_list,
    parse_locations,
)

API = "/api/v2"
DEFAULT_OS_IMAGE = "ubuntu2404"
NO_KEY = "no API key: set GP4U_TENSORDOCK_API_KEY"
NO_SPOT = "no spot market in TensorDock's v2 API"
_OS_IMAGE = re.compile(r"^[a-z]+[0-9]+$")  # TensorDock OS images: ubuntu2404, windows10, …
_CAPACITY = re.compile(
    r"capacity|sold out|out of stock|no (gpus?|hostnodes?) (are )?available"
    r"|(insufficient|not enough) (gpus?|resources|availability)|not available at",
    re.IGNORECASE,
)
_NOT_FOUND = re.compile(r"not found|does not exist|no such", re.IGNORECASE)


def _error_detail(response: ProviderResponse) -> str:
    """The provider's own words for a refusal, short: JSON:API `errors[].detail` or the body."""
    try:
        body = response.json()
    except InvalidResponse:
        body = None
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        errors = [e for e in body["errors"] if isinstance(e, dict)]
        details = [str(e.get("detail") or e.get("title") or "") for e in errors]
        text = "; ".join(d for d in details if d)
    elif isinstance(body, dict) and isinstance(body.get("error") or body.get("message"), str):
        text = str(body.get("error") or body.get("message"))
    else:
        text = response.text
    return " ".join(text.split())[:200]


def _jsonapi_errors(response: ProviderResponse) -> list[dict[str, Any]]:
    """The error objects of a JSON:API error body (`{"errors": [{status, title, detail}]}`),
    TensorDock's own error shape; empty for any other body."""
    try:
        body = response.json()
    except InvalidResponse:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _gone(response: ProviderResponse) -> bool:
    """TensorDock itself says it does not know the instance (any more): a 404 or 410 carrying
    its JSON:API `errors`, or a 400 whose JSON:API errors say "not found". Any other 404 (an
    HTML or plain-text page, a framework's `{"detail": "Not Found"}`) comes from a wrong base
    URL or a proxy and proves nothing: read as gone, every instance would look terminated and
    every terminate successful."""
    if response.status not in (400, 404, 410) or not _jsonapi_errors(response):
        return False
    return response.status != 400 or bool(_NOT_FOUND.search(_error_detail(response)))


def _cloud_init(request: LaunchRequest) -> dict[str, Any] | None:
    """Run the request's container image (or startup command) on first boot."""
    env = [f"{key}={value}" for key, value in sorted(request.env.items())]
    command = ["sh", "-c", request.startup_command] if request.startup_command else []
    if not _OS_IMAGE.match(request.image):
        flags = [arg for pair in env for arg in ("-e", pair)]
        run = ["docker", "run", "-d", "--restart", "unless-stopped", "--gpus", "all"]
        return {"runcmd": [shlex.join([*run, *flags, request.image, *command])]}
    if command:
        return {"runcmd": [shlex.join(["env", *env, *command])]}
    return None


def create_body(request: LaunchRequest, ref: OfferRef) -> dict[str, Any]:
    """The JSON:API body of `POST /instances` for one offer."""
    resources = minimum_resources(ref.gpu_count, request.disk_gb)
    attributes: dict[str, Any] = {
        "name": request.tags.label,
        "type": "virtualmachine",
        "image": request.image if _OS_IMAGE.match(request.image) else DEFAULT_OS_IMAGE,
        "resources": {
            "vcpu_count": resources.vcpus,
            "ram_gb": resources.ram_gb,
            "storage_gb": resources.storage_gb,
            "gpus": {ref.gpu_model: {"count": ref.gpu_count}},
        },
        f"{ref.kind}_id": ref.place_id,
        "useDedicatedIp": True,
        "ssh_key": request.ssh_public_key,
    }
    cloud_init = _cloud_init(request)
    if cloud_init:
        attributes["cloud_init"] = cloud_init
    return {"data": {"type": "virtualmachine", "attributes": attributes}}


class TensorDockAdapter(ProviderAdapter):
    """TensorDock's GPU VM marketplace (v2 API, bearer API key)."""

    kind = "marketplace"
    live = True
    default_base_url = "https://dashboard.tensordock.com"
    call_policy = CallPolicy(rate=RatePolicy(per_second=100 / 60))  # 100 requests/min/org

    def capabilities(self) -> Capabilities:
        capabilities = Capabilities.of(
            Capability.OFFERS,
            Capability.LIVE_AVAILABILITY,
            Capability.LAUNCH,
            Capability.CREDENTIALS,
            spot=NO_SPOT,
        )
        if not self.api_key:
            capabilities = capabilities.without(Capability.LAUNCH, NO_KEY)
            capabilities = capabilities.without(Capability.CREDENTIALS, NO_KEY)
        return capabilities

    async def list_offers(self) -> ParseReport:
        """Location offers; the locations endpoint answers without a key too."""
        return parse_locations(await self.client.json("GET", f"{API}/locations"), self.name)

    async def launch(self, request: LaunchRequest) -> Instance:
        self._require(Capability.LAUNCH)
        ref = OfferRef.decode(request.offer_ref)
        if ref is None:
            raise ProviderRejected(self.name, f"not a TensorDock offer: {request.offer_ref!r}")
        if not request.ssh_public_key:
            raise ProviderRejected(self.name, "TensorDock needs an SSH public key to create a VM")
        existing = await self._live_named(request.tags.label)
        if existing is not None:
            return existing
        response = await self.client.request(
            "POST", f"{API}/instances", json=create_body(request, ref), idempotent=False
        )
        if not response.ok:
            raise self._create_error(response)
        # A 2xx means TensorDock accepted the create: an unreadable answer leaves a VM that
        # probably exists, so it is OutcomeUnknown (the caller reconciles by tag).
        where = f"{response.method} {response.path}"
        try:
            instance = parse_instance(response.json(), self.name)
        except InvalidResponse as exc:
            raise OutcomeUnknown(
                self.name, f"{where}: unreadable answer to a create ({exc.message})"
            ) from exc
        if instance is None:
            raise OutcomeUnknown(self.name, f"{where}: create answered without an instance id")
        if not instance.provider_status:
            instance.state = InstanceState.PENDING
        instance.tags = instance.tags or request.tags
        instance.instance_type = instance.instance_type or f"{ref.gpu_model}.{ref.gpu_count}x"
        return instance

    async def status(self, instance_ids: Sequence[str]) -> list[Instance]:
        self._require(Capability.LAUNCH)
        return [await self._one(instance_id) for instance_id in instance_ids]

    async def list_tagged(self, deployment: str) -> list[Instance]:
        self._require(Capability.LAUNCH)
        return tagged_alive(await self._instances(), deployment)

    async def terminate(self, instance_id: str) -> None:
        self._require(Capability.LAUNCH)
        response = await self.client.request("DELETE", self._path(instance_id))
        if not response.ok and not _gone(response):
            response.raise_for_status()

    async def check_credentials(self) -> CredentialCheck:
        if not self.api_key:
            return CredentialCheck(False, NO_KEY)
        try:
            await self.client.json("GET", f"{API}/instances")
        except ProviderAuthError:
            return CredentialCheck(False, "TensorDock refused the API key")
        return CredentialCheck(True, "API key accepted")

    # ------------------------------------------------------------------------ helpers

    @staticmethod
    def _path(instance_id: str) -> str:
        return f"{API}/instances/{quote(instance_id, safe='')}"

    async def _instances(self) -> list[Instance]:
        return parse_instance_list(await self.client.json("GET", f"{API}/instances"), self.name)

    async def _live_named(self, label: str) -> Instance | None:
        for instance in await self._instances():
            tags = instance.tags
            if tags is not None and tags.label == label and not instance.state.is_gone:
                return instance
        return None

    async def _one(self, instance_id: str) -> Instance:
        response = await self.client.request("GET", self._path(instance_id))
        if _gone(response):
            return Instance(self.name, instance_id, InstanceState.TERMINATED, "not found")
        instance = parse_instance(response.raise_for_status().json(), self.name)
        if instance is None:
            raise InvalidResponse(self.name, f"instance {instance_id} answered without an id")
        return instance

    def _create_error(self, response: ProviderResponse) -> ProviderError:
        """Auth → ProviderAuthError; offer gone or full → NoCapacity; else ProviderRejected."""
        where = f"create VM: HTTP {response.status}"
        if response.status in (401, 403):
            return ProviderAuthError(self.name, f"{where} (credentials refused)")
        detail = _error_detail(response)
        if response.status == 404 or _CAPACITY.search(detail):
            return NoCapacity(self.name, f"{where} {detail}".strip(), response.status)
        return ProviderRejected(self.name, f"{where} {detail}".strip(), response.status)

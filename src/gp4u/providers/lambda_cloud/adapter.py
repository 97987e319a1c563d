"""The Lambda Cloud adapter: instance types as offers, and on-demand instances tagged with our
label (instance `name`, plus key/value `tags`).

Facts relied on (Lambda Cloud API v1.10.0 OpenAPI spec; docs "Are API requests rate-limited?"):
launch takes exactly one registered SSH key name and launches one instance per call; it answers
400 `instance-operations/launch/insufficient-capacity` when the region has no capacity; an unknown
instance is `global/object-does-not-exist` (404); a bad key is 401 `global/invalid-api-key`, an
inactive account 403; requests are limited to about one per second (launch to one per 10-12 s,
which the gateway's 429 handling absorbs).
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from gp4u.providers.base import (
    InstanceNotFound,
    InvalidResponse,
    NoCapacity,
    NotSupported,
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
from gp4u.providers.lambda_cloud.parse import (
    AUTH_ERRORS,
    CAPACITY_ERROR,
    NOT_FOUND_ERROR,
    SSH_USER,
    error_of,
    parse_instance,
    parse_instance_types,
    parse_instances,
    unwrap,
)
from gp4u.providers.ratelimit import RatePolicy

NO_KEY = "no API key: set GP4U_LAMBDA_API_KEY"
NO_SPOT = "no spot market: Lambda sells on-demand instances only"
NO_SSH_KEY = "Lambda launches need an SSH key: set the `ssh_key_name` option or pass ssh_public_key"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NOT_LIVE = frozenset({InstanceState.TERMINATED, InstanceState.STOPPING})


class LambdaAdapter(ProviderAdapter):
    kind = "cloud"
    live = True  # regions_with_capacity_available is a live capacity signal
    default_base_url = "https://cloud.lambda.ai/api/v1"
    call_policy = CallPolicy(rate=RatePolicy(per_second=1.0))

    def capabilities(self) -> Capabilities:
        if not self.api_key:
            return Capabilities.of(
                offers=f"{NO_KEY} (Lambda lists instance types only to accounts; "
                "the public catalog covers Lambda meanwhile)",
                live_availability=NO_KEY,
                launch=NO_KEY,
                credentials=NO_KEY,
                spot=NO_SPOT,
            )
        return Capabilities.of(
            Capability.OFFERS,
            Capability.LIVE_AVAILABILITY,
            Capability.LAUNCH,
            Capability.CREDENTIALS,
            spot=NO_SPOT,
        )

    async def list_offers(self) -> ParseReport:
        self._require(Capability.OFFERS)
        return parse_instance_types(await self._call("GET", "/instance-types"), self.provider)

    async def launch(self, request: LaunchRequest) -> Instance:
        self._require(Capability.LAUNCH)
        if request.spot:
            raise NotSupported(self.name, NO_SPOT)
        if not request.region:
            raise ProviderRejected(self.name, "Lambda launches need a region (the offer's)")
        existing = await self._live_with_label(request.tags.label)
        if existing is not None:
            return existing
        body = launch_body(request, await self._ssh_key_name(request.ssh_public_key))
        response = await self.client.request("POST", "/instance-operations/launch", json=body)
        if not response.ok:
            error = self._error(response)
            if isinstance(error, InstanceNotFound):  # an unknown type, region or SSH key
                raise ProviderRejected(self.name, error.message, error.status)
            raise error
        return Instance(
            provider=self.name,
            instance_id=self._launched_id(response),
            state=InstanceState.BOOTING,
            provider_status="booting",
            tags=request.tags,
            instance_type=request.offer_ref,
            region=request.region,
            ssh_user=SSH_USER,
        )

    async def status(self, instance_ids: Sequence[str]) -> list[Instance]:
        self._require(Capability.LAUNCH)
        if len(instance_ids) <= 1:
            return [await self._one(i) for i in instance_ids]
        # One list call instead of one call per id (1 request/s); ids the list lacks are
        # confirmed one by one, since a fresh launch may not be listed yet.
        listed = {i.instance_id: i for i in await self._list()}
        return [listed.get(i) or await self._one(i) for i in instance_ids]

    async def list_tagged(self, deployment: str) -> list[Instance]:
        self._require(Capability.LAUNCH)
        return tagged_alive(await self._list(), deployment)

    async def terminate(self, instance_id: str) -> None:
        self._require(Capability.LAUNCH)
        body = {"instance_ids": [instance_id]}
        try:
            # Terminating twice is harmless, so the gateway may retry it.
            await self._call("POST", "/instance-operations/terminate", json=body, idempotent=True)
        except InstanceNotFound:
            return
        except ProviderRejected:
            # Refused for another reason: fine if the instance is on its way out anyway.
            if (await self._one(instance_id)).state not in _NOT_LIVE:
                raise

    async def check_credentials(self) -> CredentialCheck:
        if not self.api_key:
            return CredentialCheck(False, NO_KEY)
        try:
            await self._call("GET", "/ssh-keys")
        except ProviderAuthError as exc:
            return CredentialCheck(False, exc.message)
        return CredentialCheck(True, "API key accepted")

    async def _call(
        self, method: str, path: str, *, json: Any = None, idempotent: bool | None = None
    ) -> Any:
        """One API call: the JSON body of a 2xx, else the error mapped to a ProviderError."""
        response = await self.client.request(method, path, json=json, idempotent=idempotent)
        if response.ok:
            return response.json()
        raise self._error(response)

    def _error(self, response: ProviderResponse) -> ProviderError:
        try:
            code, message = error_of(response.json())
        except InvalidResponse:
            code, message = None, None
        detail = f"{response.method} {response.path}: HTTP {response.status}"
        detail = " ".join(p for p in (detail, code, message) if p)[:300]
        if code == CAPACITY_ERROR:
            return NoCapacity(self.name, detail, response.status)
        if response.status in (401, 403) or code in AUTH_ERRORS:
            return ProviderAuthError(self.name, detail)
        if code == NOT_FOUND_ERROR:  # by code only: a wrong base URL 404s too
            return InstanceNotFound(self.name, detail, response.status)
        return ProviderRejected(self.name, detail, response.status)

    def _launched_id(self, response: ProviderResponse) -> str:
        """The id in a 2xx launch answer. An unreadable answer is `OutcomeUnknown`, never
        `InvalidResponse`: Lambda accepted the launch, so the instance probably exists and the
        caller reconciles by tag."""
        where = f"{response.method} {response.path}"
        try:
            data = unwrap(response.json(), self.name, "launch")
        except InvalidResponse as exc:
            raise OutcomeUnknown(
                self.name, f"{where}: unreadable answer to a launch ({exc.message})"
            ) from exc
        ids = data.get("instance_ids") if isinstance(data, dict) else None
        if not isinstance(ids, list) or not ids or not isinstance(ids[0], str) or not ids[0]:
            raise OutcomeUnknown(self.name, f"{where}: launch answered without an instance id")
        return ids[0]

    async def _one(self, instance_id: str) -> Instance:
        try:
            body = await self._call("GET", f"/instances/{quote(instance_id, safe='')}")
        except InstanceNotFound:
            return Instance(self.name, instance_id, InstanceState.TERMINATED, "not found")
        return parse_instance(unwrap(body, self.name, "instance"), self.name)

    async def _list(self) -> list[Instance]:
        return parse_instances(await self._call("GET", "/instances"), self.name)

    async def _live_with_label(self, label: str) -> Instance | None:
        """An instance already launched for this label (Lambda has no client tokens)."""
        for instance in await self._list():
            tags = instance.tags
            if tags is not None and tags.label == label and instance.state not in _NOT_LIVE:
                return instance
        return None

    async def _ssh_key_name(self, public_key: str | None) -> str:
        """The configured key name, or the name under which the request's public key is
        registered (registering it as `gp4u-<hash>` when it is not)."""
        configured = self.config.options.get("ssh_key_name")
        if configured:
            return configured
        if not public_key or len(public_key.split()) < 2:
            raise ProviderRejected(self.name, NO_SSH_KEY)
        known = await self._registered_key(public_key)
        if known:
            return known
        name = key_name(public_key)
        try:
            await self._call("POST", "/ssh-keys", json={"name": name, "public_key": public_key})
        except (ProviderRejected, OutcomeUnknown):
            # A concurrent launch may have registered it first, or our create took effect
            # without an answer: the list says which.
            if await self._registered_key(public_key) is None:
                raise
        return name

    async def _registered_key(self, public_key: str) -> str | None:
        wanted = public_key.split()[:2]
        keys = unwrap(await self._call("GET", "/ssh-keys"), self.name, "ssh-keys")
        for key in keys if isinstance(keys, list) else []:
            stored = key.get("public_key") if isinstance(key, dict) else None
            if isinstance(stored, str) and stored.split()[:2] == wanted:
                name = key.get("name")
                if isinstance(name, str):
                    return name
        return None


def key_name(public_key: str) -> str:
    """A stable Lambda key name for a public key (type and blob; the comment is ignored)."""
    digest = hashlib.sha256(" ".join(public_key.split()[:2]).encode()).hexdigest()
    return f"gp4u-{digest[:12]}"


def launch_body(request: LaunchRequest, ssh_key_name: str) -> dict[str, Any]:
    """The `POST /instance-operations/launch` body. Lambda boots VM images, not containers:
    `image` is not used; a startup command runs as cloud-init user data."""
    body: dict[str, Any] = {
        "region_name": request.region,
        "instance_type_name": request.offer_ref,
        "ssh_key_names": [ssh_key_name],
        "file_system_names": [],
        "quantity": 1,
        "name": request.tags.label,
        "tags": [{"key": k, "value": v} for k, v in request.tags.as_labels().items()],
    }
    if request.startup_command:
        exports = "".join(
            f"export {k}={shlex.quote(v)}\n" for k, v in request.env.items() if _ENV_NAME.match(k)
        )
        body["user_data"] = f"#!/bin/bash\n{exports}{request.startup_command}\n"
    return body

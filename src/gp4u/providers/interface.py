"""The one interface every provider adapter implements, and the plain records it exchanges.

An adapter lists offers, launches an instance from an offer (idempotent on a client token, tagged
with our deployment and session ids), reports instance status, lists the instances that carry our
deployment tag, terminates (already gone is success) and checks credentials. What it cannot do it
declares in `Capabilities`, with a human reason. Adapters raise only `ProviderError`s, never touch
the database, and make every HTTP call through the gateway client they are given.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Literal, Self

from gp4u.providers.base import NotSupported, ParseReport
from gp4u.providers.gateway import CallPolicy, Gateway, ProviderClient

ProviderKind = Literal["marketplace", "cloud", "catalog", "local", "host"]


class Capability(StrEnum):
    OFFERS = "offers"  # list offers
    LIVE_AVAILABILITY = "live_availability"  # offers say what can be had right now
    LAUNCH = "launch"  # launch, status, list tagged, terminate
    SPOT = "spot"  # interruptible / bid instances
    CREDENTIALS = "credentials"  # a key is configured and can be checked


@dataclass(frozen=True)
class Capabilities:
    """What an adapter can do. `missing` maps each capability it lacks to the human reason."""

    supported: frozenset[Capability]
    missing: Mapping[Capability, str] = field(default_factory=dict)

    @classmethod
    def of(cls, *supported: Capability, **missing: str) -> Capabilities:
        lacking = {Capability(name): reason for name, reason in missing.items()}
        return cls(frozenset(supported) - set(lacking), lacking)

    def __contains__(self, capability: object) -> bool:
        return capability in self.supported

    def reason(self, capability: Capability | str) -> str | None:
        """Why the capability is missing, or None when it is supported."""
        capability = Capability(capability)
        if capability in self.supported:
            return None
        return self.missing.get(capability, "not supported")

    def without(self, capability: Capability, reason: str) -> Capabilities:
        return Capabilities(self.supported - {capability}, {**self.missing, capability: reason})


class InstanceState(StrEnum):
    PENDING = "pending"  # accepted, no machine yet
    BOOTING = "booting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"  # halted but still billed for storage; not gone
    TERMINATED = "terminated"  # gone; billing stopped
    FAILED = "failed"
    UNKNOWN = "unknown"

    @property
    def is_gone(self) -> bool:
        return self is InstanceState.TERMINATED


_TAG = re.compile(r"^gp4u-(?P<deployment>[a-z0-9]{1,16})-(?P<session>[A-Za-z0-9]{1,40})$")


@dataclass(frozen=True)
class Tags:
    """Our marks on every instance: which GP4U deployment made it, for which session and owner.

    Providers that cannot store labels get the `label` as the instance name, and `parse` reads
    it back; providers with labels get `as_labels()` as well."""

    deployment: str
    session: str
    owner: str | None = None
    cluster: str | None = None  # a cluster member's cluster (labels only: not in `label`)

    @property
    def label(self) -> str:
        return f"gp4u-{self.deployment}-{self.session}"

    def as_labels(self) -> dict[str, str]:
        labels = {"gp4u-deployment": self.deployment, "gp4u-session": self.session}
        if self.owner:
            labels["gp4u-owner"] = self.owner
        if self.cluster:
            labels["gp4u-cluster"] = self.cluster
        return labels

    @classmethod
    def parse(cls, label: str | None, owner: str | None = None) -> Tags | None:
        """The tags in a label; `owner` where the provider keeps it apart from the label."""
        match = _TAG.match(label or "")
        if not match:
            return None
        return cls(match["deployment"], match["session"], owner or None)

    @classmethod
    def from_labels(cls, labels: Mapping[str, str] | None) -> Tags | None:
        if not labels or "gp4u-deployment" not in labels or "gp4u-session" not in labels:
            return None
        return cls(
            labels["gp4u-deployment"],
            labels["gp4u-session"],
            labels.get("gp4u-owner"),
            labels.get("gp4u-cluster"),
        )


@dataclass(frozen=True)
class LaunchRequest:
    """Launch one instance of an offer, idempotently per session: a session has at most one live
    instance, and launching again for a session whose tagged instance is alive returns that
    instance, never a second one. Providers without client tokens are made idempotent by the
    session's tag label; `client_token` is passed on where the provider takes one."""

    offer_ref: str  # ProviderOffer.offer_ref of the chosen offer
    client_token: str
    tags: Tags
    instance_type: str | None = None
    region: str | None = None
    gpu_count: int = 1
    spot: bool = False
    bid_per_hour: int | None = None  # micro-USD, for bid/interruptible launches
    image: str = "nvidia/cuda:12.4.1-runtime-ubuntu22.04"
    startup_command: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    ssh_public_key: str | None = None
    disk_gb: int = 50


@dataclass
class Instance:
    """An instance as the provider reports it."""

    provider: str
    instance_id: str
    state: InstanceState
    provider_status: str  # the provider's own word, for people
    tags: Tags | None = None
    instance_type: str | None = None
    region: str | None = None
    public_ip: str | None = None
    ssh_host: str | None = None
    ssh_port: int | None = None
    ssh_user: str | None = None
    price_per_hour: int | None = None  # micro-USD
    created_at: datetime | None = None


def tagged_alive(instances: Sequence[Instance], deployment: str) -> list[Instance]:
    """The instances that carry this deployment's tag and are not gone (`list_tagged`)."""
    return [
        i
        for i in instances
        if i.tags is not None and i.tags.deployment == deployment and not i.state.is_gone
    ]


@dataclass(frozen=True)
class CredentialCheck:
    ok: bool
    detail: str


@dataclass(frozen=True)
class AdapterConfig:
    """What an adapter is built with: its name, its gateway client, its credentials."""

    name: str
    client: ProviderClient
    api_key: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)


class ProviderAdapter(ABC):
    """Base class of every adapter. Override what the provider supports; the defaults raise
    `NotSupported` with the reason from `capabilities()`."""

    kind: ClassVar[ProviderKind] = "marketplace"
    source: ClassVar[str] = "live"  # the market source its offers are imported as
    live: ClassVar[bool] = True  # live marketplaces sync every 30 s, catalogs hourly
    min_sync_seconds: ClassVar[float] = 0.0  # a source that changes slower is polled no faster
    # Its source's offers come from syncing `list_offers`, so they turn stale when syncs stop.
    synced: ClassVar[bool] = True
    # The launch's startup command runs on the machine, so the GP4U node agent can check in.
    # Where it cannot, a session turns running when the provider reports the machine reachable.
    runs_agent: ClassVar[bool] = True
    # The instance is a GP4U workload process that starts the node agent itself (`local`, host
    # machines), so the launch needs no agent bootstrap in its startup command.
    agent_in_workload: ClassVar[bool] = False
    default_base_url: ClassVar[str] = ""
    call_policy: ClassVar[CallPolicy] = CallPolicy()

    def __init__(self, config: AdapterConfig) -> None:
        self.config = config
        self.name = config.name
        self.provider = config.options.get("provider", config.name)  # the market's provider id
        self.client = config.client
        self.api_key = config.api_key

    @classmethod
    def create(
        cls,
        name: str,
        gateway: Gateway,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        options: Mapping[str, str] | None = None,
    ) -> Self:
        """Build the adapter with its own gateway client (base URL, auth, call policy)."""
        client = gateway.client(
            name,
            base_url=base_url or cls.default_base_url,
            headers=cls.auth_headers(api_key),
            policy=cls.call_policy,
            api_key=api_key,
        )
        return cls(AdapterConfig(name, client, api_key, options or {}))

    @classmethod
    def auth_headers(cls, api_key: str | None) -> dict[str, str]:
        """Headers that authenticate every call; the default is a bearer token."""
        return {"Authorization": f"Bearer {api_key}"} if api_key else {}

    @abstractmethod
    def capabilities(self) -> Capabilities:
        """What this adapter can do with the configuration it has (a missing key disables what
        needs it, with the reason)."""

    @abstractmethod
    async def list_offers(self) -> ParseReport:
        """Every offer the provider has now; malformed records are skipped and counted."""

    async def launch(self, request: LaunchRequest) -> Instance:
        raise self._unsupported(Capability.LAUNCH)

    async def status(self, instance_ids: Sequence[str]) -> list[Instance]:
        """The instances asked for; one the provider no longer knows comes back TERMINATED."""
        raise self._unsupported(Capability.LAUNCH)

    async def list_tagged(self, deployment: str) -> list[Instance]:
        """Every live instance carrying our deployment tag, including ones we never recorded."""
        raise self._unsupported(Capability.LAUNCH)

    async def terminate(self, instance_id: str) -> None:
        """Destroy the instance; an instance that is already gone is success."""
        raise self._unsupported(Capability.LAUNCH)

    async def check_credentials(self) -> CredentialCheck:
        return CredentialCheck(False, self.capabilities().reason(Capability.CREDENTIALS) or "")

    def _unsupported(self, capability: Capability) -> NotSupported:
        return NotSupported(self.name, self.capabilities().reason(capability) or "not supported")

    def _require(self, capability: Capability) -> None:
        if capability not in self.capabilities():
            raise self._unsupported(capability)

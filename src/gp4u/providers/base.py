"""The plain records every source produces, before GP4U normalises them into market offers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class ProviderOffer:
    """An offer as a source states it: GPU spelled the provider's way, price in micro-USD per
    hour for the whole instance, on-demand or spot as `spot` says."""

    provider: str
    instance_type: str
    gpu_name: str
    gpu_count: int
    price_per_hour: int
    spot: bool = False
    region: str | None = None
    zone: str | None = None
    country: str | None = None
    gpu_memory_gb: float | None = None  # as reported; per GPU or total, the normaliser decides
    vcpus: float | None = None
    memory_gb: float | None = None
    disk_gb: float | None = None
    available: bool = True
    reliability: float | None = None  # 0..1, as the provider measures it
    offer_ref: str | None = None  # the provider's handle to launch this offer (ask id, type id…)
    available_count: int | None = None  # how many such instances can be had now, when known
    dlperf: float | None = None  # Vast.ai's DLPerf score, when the provider publishes one
    inet_down_mbps: float | None = None
    inet_up_mbps: float | None = None
    # Dense GEMM TFLOPS of the whole instance by precision (bf16/fp16/fp32), where its own node
    # agent measured them (GP4U hosts' machines)
    measured_tflops: dict[str, float] | None = None


@dataclass
class ParseReport:
    """What reading one source produced: the offers, and every row that was skipped and why."""

    offers: list[ProviderOffer] = field(default_factory=list)
    rows_read: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[int]] = field(default_factory=dict)  # reason -> first line numbers
    fixed: Counter[str] = field(default_factory=Counter)  # known source errors corrected

    def skip(self, reason: str, line: int) -> None:
        self.skipped[reason] += 1
        lines = self.examples.setdefault(reason, [])
        if len(lines) < 5:
            lines.append(line)

    def merge(self, other: ParseReport) -> None:
        self.offers.extend(other.offers)
        self.rows_read += other.rows_read
        self.skipped.update(other.skipped)
        self.fixed.update(other.fixed)
        for reason, lines in other.examples.items():
            mine = self.examples.setdefault(reason, [])
            mine.extend(lines[: max(0, 5 - len(mine))])


class ProviderError(Exception):
    """A provider could not do what was asked. Subclasses say why; `kind` names the reason in
    counters, metrics and sync records."""

    kind = "error"

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message


class ProviderUnavailable(ProviderError):
    """Unreachable, timed out, 5xx or rate limited after the allowed retries, or the circuit
    breaker is open. The truth is unknown: never read it as "no offers" or "no instances"."""

    kind = "unavailable"


class BreakerOpen(ProviderUnavailable):
    """Failing fast: the provider's circuit breaker is open."""

    kind = "breaker_open"


class OutcomeUnknown(ProviderUnavailable):
    """A non-idempotent request (a create) may or may not have taken effect: the connection broke
    after it was sent, or the provider answered 5xx. Never repeat it blindly; reconcile by tag."""

    kind = "outcome_unknown"


class ProviderAuthError(ProviderError):
    """Missing, wrong or insufficient credentials (HTTP 401/403 or the provider's equivalent)."""

    kind = "auth"


class ProviderRejected(ProviderError):
    """The provider understood the request and refused it (4xx, GraphQL error, bad parameters)."""

    kind = "rejected"

    def __init__(self, provider: str, message: str, status: int | None = None) -> None:
        super().__init__(provider, message)
        self.status = status


class NoCapacity(ProviderRejected):
    """The offer is gone or has no capacity now; another offer may work (failover)."""

    kind = "no_capacity"


class InstanceNotFound(ProviderRejected):
    """The provider does not know this instance (for terminate: already gone)."""

    kind = "not_found"


class InvalidResponse(ProviderError):
    """The provider answered something unusable: malformed JSON or a missing envelope."""

    kind = "invalid_response"


class NotSupported(ProviderError):
    """The adapter cannot do this at all; `message` is the human reason ("catalog only")."""

    kind = "not_supported"

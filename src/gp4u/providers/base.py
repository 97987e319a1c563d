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
    reliability: float | None = None


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
    """A source could not be read: unreachable, refused, or answered with something unusable."""

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message

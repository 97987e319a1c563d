"""The job registry. A job is a named async function `fn(ctx, **args)` taking JSON-serialisable
arguments (ids, names), loading its own state, and safe to run twice (delivery is at least
once). Periodic schedules are declared with the job: a fixed `every`, or a function of the
context that lists schedules (one per provider, say)."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gp4u.jobs.context import JobContext

JobFn = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Schedule:
    """Run `job` with `args` every `every` seconds. `key` names the schedule uniquely."""

    key: str
    job: str
    every: float
    args: Mapping[str, Any] = field(default_factory=dict)


ScheduleSource = Callable[["JobContext"], list[Schedule]]


@dataclass(frozen=True)
class JobSpec:
    name: str
    fn: JobFn
    every: float | None = None
    schedules: ScheduleSource | None = None
    max_attempts: int = 5
    timeout_seconds: float = 600.0

    def schedules_for(self, ctx: JobContext) -> list[Schedule]:
        found = [] if self.every is None else [Schedule(self.name, self.name, self.every)]
        if self.schedules is not None:
            found.extend(self.schedules(ctx))
        return found


JOBS: dict[str, JobSpec] = {}
# Every module that registers jobs; importing them fills the registry.
JOB_MODULES = (
    "gp4u.offers.jobs",
    "gp4u.sources.jobs",
    "gp4u.alerts.jobs",
    "gp4u.wallet.jobs",
    "gp4u.provisioning.jobs",
    "gp4u.hosts.jobs",
    "gp4u.reservations.jobs",
    "gp4u.clusters.jobs",
)


def load_jobs() -> None:
    """Import every job module (by name: the registry sits below the domains)."""
    for module in JOB_MODULES:
        importlib.import_module(module)


def job(
    name: str,
    *,
    every: float | None = None,
    schedules: ScheduleSource | None = None,
    max_attempts: int = 5,
    timeout_seconds: float = 600.0,
) -> Callable[[JobFn], JobFn]:
    """Register a job function under `name`."""

    def register(fn: JobFn) -> JobFn:
        existing = JOBS.get(name)
        if existing is not None and existing.fn is not fn:
            raise ValueError(f"job {name!r} is registered twice")
        JOBS[name] = JobSpec(name, fn, every, schedules, max_attempts, timeout_seconds)
        return fn

    return register


def spec(name: str) -> JobSpec:
    try:
        return JOBS[name]
    except KeyError:
        raise LookupError(f"unknown job {name!r}") from None


def all_schedules(ctx: JobContext) -> list[Schedule]:
    return [s for j in JOBS.values() for s in j.schedules_for(ctx)]

"""Prometheus metrics of sessions (served at `/metrics`): what the lifecycle manager and the
reconciliation find and do, so an operator sees leaks and stuck destructions at once."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SESSIONS = Gauge("gp4u_sessions", "Sessions by state (set by the lifecycle manager).", ["state"])
ATTENTION = Gauge(
    "gp4u_sessions_needing_attention",
    "Sessions whose machine could not be confirmed destroyed after repeated attempts.",
)
LAUNCH_ATTEMPTS = Counter(
    "gp4u_session_launch_attempts_total",
    "Launch attempts by outcome (ok, no_capacity, rejected, unknown…); more than one per "
    "session means failover.",
    ["provider", "outcome"],
)
ENDED = Counter("gp4u_sessions_ended_total", "Sessions ended, by reason.", ["reason"])
DESTROY_RETRIES = Counter(
    "gp4u_session_destroy_retries_total",
    "Destroy attempts that did not (yet) confirm the machine gone.",
    ["provider"],
)
ORPHANS_FOUND = Counter(
    "gp4u_orphans_found_total",
    "Tagged instances at a provider with no live session (destroyed by reconciliation).",
    ["provider"],
)
ORPHANS_DESTROYED = Counter(
    "gp4u_orphans_destroyed_total", "Orphan instances whose termination was accepted.", ["provider"]
)
GHOSTS_FOUND = Counter(
    "gp4u_ghosts_found_total",
    "Running sessions whose instance was gone at the provider.",
    ["provider"],
)
RECONCILE_UNKNOWN = Counter(
    "gp4u_reconcile_unknown_total",
    "Reconciliation cycles in which a provider could not be listed (its sessions unknown).",
    ["provider"],
)

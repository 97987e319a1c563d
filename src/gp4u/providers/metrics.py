"""Prometheus metrics of the provider layer (served at `/metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "gp4u_provider_requests_total",
    "Outbound provider requests by outcome (ok, client_error, server_error, rate_limited, "
    "timeout, transport, breaker_open).",
    ["provider", "outcome"],
)
LATENCY = Histogram(
    "gp4u_provider_request_seconds",
    "Latency of outbound provider requests that reached the provider.",
    ["provider"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
BREAKER_TRANSITIONS = Counter(
    "gp4u_provider_breaker_transitions_total",
    "Circuit breaker state changes.",
    ["provider", "from_state", "to_state"],
)
RATE_LIMIT_WAIT = Counter(
    "gp4u_provider_rate_limit_wait_seconds_total",
    "Seconds spent waiting for the provider's rate limit.",
    ["provider"],
)
RATE_LIMIT_WAITS = Counter(
    "gp4u_provider_rate_limit_waits_total",
    "Requests that had to wait for the provider's rate limit.",
    ["provider"],
)
CACHE = Counter(
    "gp4u_provider_cache_total",
    "Offer cache lookups by result (fresh, stale, miss).",
    ["provider", "result"],
)
SYNC_SECONDS = Histogram(
    "gp4u_provider_sync_seconds",
    "Duration of provider sync runs.",
    ["provider", "status"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
OFFERS = Gauge(
    "gp4u_provider_offers",
    "Offers seen in the provider's last successful sync.",
    ["provider"],
)

"""Connecting to Redis the way every GP4U process should: a blocking pool, so a burst of
concurrent callers waits for a connection instead of failing at the pool's limit."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis


def connect_redis(url: str, max_connections: int = 64, wait_seconds: float = 20.0) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=wait_seconds
    )
    return Redis(connection_pool=pool)

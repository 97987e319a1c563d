"""API keys for the CLI and scripts: `gp4u_<prefix>_<secret>`, shown once, stored as a digest.

The prefix (12 hex characters) is not secret: it finds the key's row and names the key in
listings. The secret is 32 random bytes (256 bits), URL-safe base64. The stored digest is
HMAC-SHA256 over the whole key with a server-side pepper, so a leaked table alone cannot even
confirm a guess.

Why not argon2 as for passwords: a slow hash protects low-entropy secrets from offline guessing.
A 256-bit random secret cannot be guessed at any hash speed, while a key is checked on every API
request, where a deliberately slow hash would only add latency and a denial-of-service lever.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

SCHEME = "gp4u"
PREFIX_HEX_CHARS = 12
SECRET_BYTES = 32
MIN_PEPPER_BYTES = 32
KNOWN_SCOPES = frozenset({"read", "trade", "host", "admin"})

_SECRET_CHARS = len(secrets.token_urlsafe(SECRET_BYTES))  # 43
_KEY = re.compile(
    rf"{SCHEME}_(?P<prefix>[0-9a-f]{{{PREFIX_HEX_CHARS}}})_(?P<secret>[A-Za-z0-9_-]{{{_SECRET_CHARS}}})"
)


def generate(pepper: bytes) -> tuple[str, str, str]:
    """A new key: (full key to show once, prefix to store, digest to store)."""
    prefix = secrets.token_hex(PREFIX_HEX_CHARS // 2)
    full_key = f"{SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return full_key, prefix, digest(full_key, pepper)


def parse(full_key: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key, else None."""
    match = _KEY.fullmatch(full_key)
    if match is None:
        return None
    return match["prefix"], match["secret"]


def digest(full_key: str, pepper: bytes) -> str:
    """The stored form of a key: hex HMAC-SHA256 with the server's pepper."""
    if len(pepper) < MIN_PEPPER_BYTES:
        raise ValueError(f"the API key pepper must be at least {MIN_PEPPER_BYTES} bytes")
    return hmac.new(pepper, full_key.encode(), hashlib.sha256).hexdigest()


def verify(full_key: str, stored_digest: str, pepper: bytes) -> bool:
    """Whether `full_key` is the key `stored_digest` was made from (constant-time compare)."""
    if parse(full_key) is None:
        return False
    return hmac.compare_digest(digest(full_key, pepper).encode(), stored_digest.encode())


def display(prefix: str) -> str:
    """How a stored key is shown in listings: its prefix only."""
    return f"{SCHEME}_{prefix}_…"


def validate_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """The scopes as a frozenset; refuses unknown names and an empty set."""
    chosen = frozenset(scopes)
    unknown = chosen - KNOWN_SCOPES
    if unknown:
        raise ValueError(f"unknown API key scopes: {', '.join(sorted(unknown))}")
    if not chosen:
        raise ValueError("an API key needs at least one scope")
    return chosen

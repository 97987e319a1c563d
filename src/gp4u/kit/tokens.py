"""One-time tokens and agent secrets: 256 random bits, stored only as a SHA-256 digest (a
random secret of that size needs no salt or slow hash, unlike a password)."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

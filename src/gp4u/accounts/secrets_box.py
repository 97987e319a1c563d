"""Users' own provider API keys, encrypted at rest with AES-256-GCM (the `cryptography`
library): a random 96-bit nonce per value, the owner and provider bound in as associated data
(a value copied to another user's row does not decrypt), and a version byte so the scheme can
change. Keys are never returned in full: `mask` shows the last four characters."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = b"\x01"
NONCE_BYTES = 12


class UnreadableSecret(ValueError):
    """Wrong key, wrong owner or provider, or a damaged value."""


def _aead(key: bytes) -> AESGCM:
    if len(key) != 32:
        raise ValueError("the secrets key must be 32 bytes (AES-256)")
    return AESGCM(key)


def encrypt(plaintext: str, key: bytes, context: str) -> str:
    """`context` (e.g. "user:42/provider:vastai") must be given again to decrypt."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = _aead(key).encrypt(nonce, plaintext.encode(), context.encode())
    return base64.urlsafe_b64encode(VERSION + nonce + sealed).decode()


def decrypt(token: str, key: bytes, context: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token.encode())
    except ValueError as exc:
        raise UnreadableSecret("not an encrypted value") from exc
    if len(raw) < 1 + NONCE_BYTES + 16 or raw[:1] != VERSION:
        raise UnreadableSecret("not an encrypted value of a known version")
    nonce, sealed = raw[1 : 1 + NONCE_BYTES], raw[1 + NONCE_BYTES :]
    try:
        return _aead(key).decrypt(nonce, sealed, context.encode()).decode()
    except InvalidTag as exc:
        raise UnreadableSecret("wrong key or context, or a damaged value") from exc


def mask(plaintext: str) -> str:
    """`…abcd`: enough to tell keys apart, never enough to use one."""
    return "…" + plaintext[-4:] if len(plaintext) > 8 else "…"

"""Provider keys encrypted at rest: round trips, bound to their owner, never shown in full."""

from __future__ import annotations

import os

import pytest

from gp4u.accounts.secrets_box import UnreadableSecret, decrypt, encrypt, mask

KEY = os.urandom(32)


def test_a_round_trip_with_a_fresh_nonce_each_time() -> None:
    first = encrypt("vast-secret-123456", KEY, "user:1/provider:vastai")
    second = encrypt("vast-secret-123456", KEY, "user:1/provider:vastai")
    assert first != second and "vast-secret" not in first
    assert decrypt(first, KEY, "user:1/provider:vastai") == "vast-secret-123456"


@pytest.mark.parametrize(
    ("key", "context"),
    [(os.urandom(32), "user:1/provider:vastai"), (KEY, "user:2/provider:vastai")],
)
def test_another_key_or_owner_cannot_read_it(key: bytes, context: str) -> None:
    token = encrypt("secret-value-000", KEY, "user:1/provider:vastai")
    with pytest.raises(UnreadableSecret):
        decrypt(token, key, context)


def test_damaged_values_and_bad_keys_are_refused() -> None:
    token = encrypt("secret-value-000", KEY, "c")
    damaged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for bad in (damaged, "not base64 at all!", ""):
        with pytest.raises(UnreadableSecret):
            decrypt(bad, KEY, "c")
    with pytest.raises(ValueError, match="32 bytes"):
        encrypt("x", b"short", "c")


def test_keys_are_masked() -> None:
    assert mask("sk-live-abcdef123456") == "…3456"
    assert mask("short") == "…"

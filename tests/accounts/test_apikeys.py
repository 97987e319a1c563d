"""API keys: format, digest, verification and scopes."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from gp4u.accounts import apikeys
from gp4u.accounts.apikeys import (
    KNOWN_SCOPES,
    digest,
    display,
    generate,
    parse,
    validate_scopes,
    verify,
)

PEPPER = b"p" * 32


def test_generated_key_has_the_documented_shape() -> None:
    full_key, prefix, stored = generate(PEPPER)
    scheme, key_prefix, secret = full_key.split("_", 2)
    assert scheme == "gp4u"
    assert key_prefix == prefix
    assert len(prefix) == 12 and int(prefix, 16) >= 0
    # at least 32 bytes of entropy, URL-safe
    assert len(base64.urlsafe_b64decode(secret + "=")) == 32
    assert parse(full_key) == (prefix, secret)
    assert stored == hmac.new(PEPPER, full_key.encode(), hashlib.sha256).hexdigest()


def test_the_full_key_is_not_stored() -> None:
    full_key, _prefix, stored = generate(PEPPER)
    secret = full_key.rsplit("_", 1)[-1]
    assert full_key not in stored and secret not in stored


def test_keys_are_unique() -> None:
    keys = [generate(PEPPER) for _ in range(500)]
    assert len({key for key, _, _ in keys}) == 500
    assert len({prefix for _, prefix, _ in keys}) == 500


def test_verify_accepts_the_key_and_nothing_else() -> None:
    full_key, _prefix, stored = generate(PEPPER)
    other_key, _, other_stored = generate(PEPPER)
    assert verify(full_key, stored, PEPPER) is True
    assert verify(other_key, stored, PEPPER) is False
    assert verify(full_key, other_stored, PEPPER) is False
    assert verify(full_key, stored, b"q" * 32) is False


def test_verify_needs_the_whole_key() -> None:
    full_key, prefix, stored = generate(PEPPER)
    flipped = full_key[:-1] + ("A" if full_key[-1] != "A" else "B")
    for candidate in (flipped, full_key[:-1], full_key + "x", prefix, "", full_key.upper()):
        assert verify(candidate, stored, PEPPER) is False


def test_verify_never_raises_on_odd_stored_digests() -> None:
    full_key, _, _ = generate(PEPPER)
    for stored in ("", "ünïcode", "0" * 64):
        assert verify(full_key, stored, PEPPER) is False


def test_a_key_whose_secret_contains_underscores_parses() -> None:
    secret = "_-" + "a" * 41
    assert parse(f"gp4u_0123456789ab_{secret}") == ("0123456789ab", secret)


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "gp4u",
        "gp4u__",
        "sk-0123456789ab_" + "a" * 43,
        "gp4u_0123456789AB_" + "a" * 43,  # prefix is lower-case hex
        "gp4u_0123456789a_" + "a" * 43,  # prefix too short
        "gp4u_0123456789ab_" + "a" * 42,  # secret too short
        "gp4u_0123456789ab_" + "a" * 44,
        "gp4u_0123456789ab_" + "a" * 42 + "=",
        "gp4u_0123456789ab_" + "a" * 42 + "/",
        " gp4u_0123456789ab_" + "a" * 43,
        "gp4u_0123456789ab_" + "a" * 43 + "\n",
    ],
)
def test_malformed_keys_do_not_parse(malformed: str) -> None:
    assert parse(malformed) is None
    assert verify(malformed, digest(malformed, PEPPER), PEPPER) is False


def test_short_peppers_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        generate(b"short")


def test_display_shows_only_the_prefix() -> None:
    full_key, prefix, _ = generate(PEPPER)
    shown = display(prefix)
    assert shown == f"gp4u_{prefix}_…"
    assert full_key.rsplit("_", 1)[-1] not in shown


def test_known_scopes() -> None:
    assert frozenset({"read", "trade", "host", "admin"}) == KNOWN_SCOPES


def test_valid_scopes_become_a_frozenset() -> None:
    assert validate_scopes(["read", "trade", "read"]) == frozenset({"read", "trade"})
    assert validate_scopes(KNOWN_SCOPES) == KNOWN_SCOPES


@pytest.mark.parametrize("scopes", [["write"], ["read", "ADMIN"], ["read", ""], []])
def test_invalid_scopes_are_refused(scopes: list[str]) -> None:
    with pytest.raises(ValueError):
        validate_scopes(scopes)


def test_unknown_scopes_are_named() -> None:
    with pytest.raises(ValueError, match="root, write"):
        apikeys.validate_scopes(["read", "write", "root"])

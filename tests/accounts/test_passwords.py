"""Password hashing and policy."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from gp4u.accounts import passwords
from gp4u.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)

GOOD = "correct horse battery staple"


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password(GOOD)


def test_hash_is_argon2id_at_or_above_owasp_minimum(stored: str) -> None:
    # OWASP Password Storage Cheat Sheet: argon2id, m >= 19 MiB, t >= 2, p >= 1
    variant, version, params, _salt, _tag = stored.split("$")[1:]
    values = dict(pair.split("=") for pair in params.split(","))
    assert variant == "argon2id"
    assert version == "v=19"
    assert int(values["m"]) >= 19 * 1024
    assert int(values["t"]) >= 2
    assert int(values["p"]) >= 1


def test_round_trip_and_wrong_password(stored: str) -> None:
    assert verify_password(stored, GOOD) is True
    assert verify_password(stored, GOOD + " ") is False
    assert verify_password(stored, "") is False


def test_each_hash_is_salted() -> None:
    assert hash_password(GOOD) != hash_password(GOOD)


def test_unicode_is_normalised_before_hashing() -> None:
    composed, decomposed = (
        "caf\u00e9 au lait, s'il vous pla\u00eet",
        "cafe\u0301 au lait, s'il vous plai\u0302t",
    )
    assert verify_password(hash_password(composed), decomposed) is True


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=65536,t=3,p=4$",
        "$argon2id$v=19$garbage$x$y",
        "$2b$12$abc",
        "$argon2id$ünïcode",
    ],
)
def test_malformed_hash_is_false_never_an_exception(malformed: str) -> None:
    assert verify_password(malformed, GOOD) is False
    assert needs_rehash(malformed) is True


def test_overlong_password_is_refused_without_hashing(stored: str) -> None:
    with pytest.raises(ValueError, match="longer than"):
        hash_password("x" * (MAX_PASSWORD_LENGTH + 1))
    assert verify_password(stored, "x" * (MAX_PASSWORD_LENGTH + 1)) is False


def test_needs_rehash_only_for_other_parameters(stored: str) -> None:
    assert needs_rehash(stored) is False
    weaker = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1).hash(GOOD)
    assert needs_rehash(weaker) is True
    # an old hash still verifies, so the login can succeed and rehash it
    assert verify_password(weaker, GOOD) is True


def test_dummy_verification_is_always_false() -> None:
    assert passwords.verify_dummy("gp4u dummy password for timing equalisation") is False


def test_policy_accepts_a_long_passphrase() -> None:
    assert check_password_policy(GOOD, email="alice@example.com") == []
    assert check_password_policy("x" * MIN_PASSWORD_LENGTH) == []
    assert check_password_policy("x" * MAX_PASSWORD_LENGTH) == []


def test_policy_length_bounds() -> None:
    assert check_password_policy("x" * (MIN_PASSWORD_LENGTH - 1)) == [
        f"must be at least {MIN_PASSWORD_LENGTH} characters long"
    ]
    assert check_password_policy("x" * (MAX_PASSWORD_LENGTH + 1)) == [
        f"must be at most {MAX_PASSWORD_LENGTH} characters long"
    ]


def test_policy_counts_code_points_not_bytes() -> None:
    assert check_password_policy("é" * MIN_PASSWORD_LENGTH) == []
    assert check_password_policy("é" * (MIN_PASSWORD_LENGTH - 1)) != []


@pytest.mark.parametrize(
    "password",
    [
        "alexandra.smith@example.com",
        "Alexandra.Smith@Example.com",
        "alexandra.smith",
        "ALEXANDRA.SMITH",
        "my name is alexandra.smith!!",
    ],
)
def test_policy_refuses_the_email_or_its_local_part(password: str) -> None:
    problems = check_password_policy(password, email="Alexandra.Smith@example.com")
    assert "must not contain your e-mail address or its name part" in problems


def test_a_very_short_local_part_is_only_refused_whole() -> None:
    assert check_password_policy("an abundant banana bread", email="an@example.com") == []
    assert check_password_policy("an", email="an@example.com") == [
        f"must be at least {MIN_PASSWORD_LENGTH} characters long",
        "must not contain your e-mail address or its name part",
    ]

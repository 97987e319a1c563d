"""Password hashing (argon2id, argon2-cffi) and the password policy.

Parameters: argon2-cffi's RFC 9106 "low memory" profile, m=64 MiB, t=3, p=4, 16-byte salt,
32-byte tag. That is above OWASP's Password Storage Cheat Sheet minimum for argon2id (m=19 MiB,
t=2, p=1; cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html) on every
axis, and is RFC 9106 §4's second recommended option. About 0.1 s per hash on one core here.

Policy (NIST SP 800-63B Rev. 4, §3.1.1.2): at least 15 characters, the minimum for a password that
is the only factor (GP4U has no second factor yet); at most 128, well above NIST's "permit at
least 64", to bound the work an anonymous caller can ask for; no composition rules; not the
e-mail address or its local part. Length counts Unicode code points after NFKC normalisation,
and the same normalisation is applied before hashing, so the same password typed on another
keyboard still matches.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import Argon2Error

MIN_PASSWORD_LENGTH = 15
MAX_PASSWORD_LENGTH = 128
# Local parts shorter than this are only refused as the whole password, not as a substring.
MIN_LOCAL_PART_SUBSTRING = 3

_HASHER = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


@cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so an unknown e-mail costs the same."""
    return _HASHER.hash("gp4u dummy password for timing equalisation")


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """The PHC-encoded argon2id hash of `password`. Refuses passwords over the maximum length."""
    normalised = _normalise(password)
    if len(normalised) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"password longer than {MAX_PASSWORD_LENGTH} characters")
    return _HASHER.hash(normalised)


def verify_password(encoded: str, password: str) -> bool:
    """Whether `password` matches `encoded`. Never raises: a malformed hash is simply False.

    The comparison of the derived tag is constant-time (libargon2's `argon2_verify`)."""
    normalised = _normalise(password)
    if len(normalised) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _HASHER.verify(encoded, normalised)
    except (Argon2Error, ValueError, TypeError):
        return False


def verify_dummy(password: str) -> bool:
    """Spend the time of one verification and return False: call it when the account is unknown,
    so response times do not reveal which e-mail addresses have accounts."""
    verify_password(_dummy_hash(), password)
    return False


def needs_rehash(encoded: str) -> bool:
    """Whether `encoded` was made with other parameters than today's (rehash after a login).
    A hash that cannot be parsed needs replacing too."""
    try:
        return _HASHER.check_needs_rehash(encoded)
    except (Argon2Error, ValueError, TypeError):
        return True


def check_password_policy(password: str, email: str | None = None) -> list[str]:
    """The problems with `password` as a new password, for the user to read; empty when fine."""
    normalised = _normalise(password)
    problems: list[str] = []
    if len(normalised) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(normalised) > MAX_PASSWORD_LENGTH:
        problems.append(f"must be at most {MAX_PASSWORD_LENGTH} characters long")
    if email is not None and _resembles_email(normalised, email):
        problems.append("must not contain your e-mail address or its name part")
    return problems


def _resembles_email(password: str, email: str) -> bool:
    folded = password.casefold()
    address = _normalise(email).strip().casefold()
    local = address.partition("@")[0]
    if folded in (address, local):
        return True
    return len(local) >= MIN_LOCAL_PART_SUBSTRING and local in folded

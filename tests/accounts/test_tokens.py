"""JWT access and refresh tokens: round trips and every way a token must be refused."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from gp4u.accounts.tokens import (
    AccessClaims,
    InvalidToken,
    RefreshClaims,
    TokenConfig,
    decode_access,
    decode_refresh,
    issue_access,
    issue_refresh,
    new_token_id,
)
from gp4u.kit.clock import FrozenClock
from tests.conftest import T0

SECRET = "s" * 32
CONFIG = TokenConfig(secret=SECRET, issuer="https://gp4u.test", audience="gp4u-api")


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(kind: str = "access", /, **overrides: Any) -> dict[str, Any]:
    now = int(T0.timestamp())
    base: dict[str, Any] = {
        "iss": CONFIG.issuer,
        "aud": CONFIG.audience,
        "sub": "user-1",
        "typ": kind,
        "iat": now,
        "exp": now + 900,
    }
    base.update({"roles": ["renter"], "ver": 0} if kind == "access" else {"jti": "t1", "fam": "f1"})
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def forge(payload: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, secret, algorithm=algorithm)


def reason_of(token: str, decode: Any = decode_access, now: datetime = T0) -> str:
    with pytest.raises(InvalidToken) as caught:
        decode(CONFIG, token, now)
    if token:
        assert token not in str(caught.value)
        assert all(token not in str(arg) for arg in caught.value.args)
    assert caught.value.status_code == 401
    return caught.value.reason


# --- round trips


def test_access_round_trip() -> None:
    token = issue_access(CONFIG, "user-1", ["host", "renter", "host"], T0)
    assert decode_access(CONFIG, token, T0) == AccessClaims(
        subject="user-1",
        roles=frozenset({"renter", "host"}),
        issued_at=T0,
        expires_at=T0 + timedelta(seconds=900),
        key_id=None,
        version=0,
    )
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    assert jwt.decode(token, options={"verify_signature": False})["typ"] == "access"


def test_access_for_an_api_key_carries_its_id() -> None:
    token = issue_access(CONFIG, "user-1", ["renter"], T0, key_id="k-7")
    assert decode_access(CONFIG, token, T0).key_id == "k-7"


def test_refresh_round_trip() -> None:
    family, token_id = new_token_id(), new_token_id()
    token = issue_refresh(CONFIG, "user-1", family, token_id, T0)
    assert decode_refresh(CONFIG, token, T0) == RefreshClaims(
        subject="user-1",
        family_id=family,
        token_id=token_id,
        issued_at=T0,
        expires_at=T0 + timedelta(days=30),
    )
    assert jwt.decode(token, options={"verify_signature": False})["typ"] == "refresh"


def test_token_ids_are_unique() -> None:
    assert len({new_token_id() for _ in range(1000)}) == 1000


def test_a_hand_forged_token_with_the_right_secret_is_accepted() -> None:
    # the forging helpers below are sound: only the deliberate change makes a token fail
    assert decode_access(CONFIG, forge(claims()), T0).subject == "user-1"
    assert decode_refresh(CONFIG, forge(claims("refresh")), T0).token_id == "t1"


# --- signature and algorithm


def test_alg_none_is_refused() -> None:
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}."
    assert reason_of(unsigned) == "algorithm not allowed"
    assert reason_of(unsigned + "c2ln") == "algorithm not allowed"


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_any_other_algorithm_is_refused_even_with_the_right_secret(alg: str) -> None:
    assert reason_of(forge(claims(), secret=SECRET * 2, algorithm=alg)) == "algorithm not allowed"


def test_wrong_signature_is_refused() -> None:
    assert reason_of(forge(claims(), secret="x" * 32)) == "bad signature"


def test_tampered_payload_is_refused() -> None:
    header, _payload, signature = issue_access(CONFIG, "user-1", ["renter"], T0).split(".")
    tampered = f"{header}.{b64(claims(roles=['admin']))}.{signature}"
    assert reason_of(tampered) == "bad signature"


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.e30"])
def test_garbage_is_refused(garbage: str) -> None:
    assert reason_of(garbage) in {"malformed token", "algorithm not allowed"}


def test_payload_that_is_not_an_object_is_refused() -> None:
    signed = jwt.api_jws.encode(b"[1, 2]", SECRET, algorithm="HS256")
    assert jwt.api_jws.decode(signed, SECRET, algorithms=["HS256"]) == b"[1, 2]"
    assert reason_of(signed) == "malformed token"


# --- time, moved on a clock rather than slept


def test_access_expires_after_its_ttl_exactly() -> None:
    clock = FrozenClock(T0)
    token = issue_access(CONFIG, "user-1", ["renter"], clock.now())
    clock.advance(timedelta(seconds=899))
    assert decode_access(CONFIG, token, clock.now()).subject == "user-1"
    clock.advance(timedelta(seconds=1))
    assert reason_of(token, now=clock.now()) == "expired"


def test_refresh_expires_after_thirty_days() -> None:
    clock = FrozenClock(T0)
    token = issue_refresh(CONFIG, "user-1", "f1", "t1", clock.now())
    clock.advance(timedelta(days=30) - timedelta(seconds=1))
    assert decode_refresh(CONFIG, token, clock.now()).family_id == "f1"
    clock.advance(timedelta(seconds=1))
    assert reason_of(token, decode_refresh, clock.now()) == "expired"


def test_expiry_is_checked_against_the_given_now_not_the_wall_clock() -> None:
    # issued long ago by the wall clock, still valid at the moment we are told it is
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    token = issue_access(CONFIG, "user-1", [], long_ago)
    assert decode_access(CONFIG, token, long_ago + timedelta(minutes=5)).roles == frozenset()


def test_token_issued_in_the_future_is_refused() -> None:
    token = issue_access(CONFIG, "user-1", ["renter"], T0 + timedelta(minutes=2))
    assert reason_of(token, now=T0) == "issued in the future"
    # a little clock drift between servers is tolerated
    drifted = issue_access(CONFIG, "user-1", ["renter"], T0 + timedelta(seconds=30))
    assert decode_access(CONFIG, drifted, T0).subject == "user-1"


@pytest.mark.parametrize("claim", ["exp", "iat"])
@pytest.mark.parametrize("value", ["soon", 1.5e9, True, [1]])
def test_non_integer_times_are_refused(claim: str, value: Any) -> None:
    assert reason_of(forge(claims(**{claim: value}))) == f"malformed claim: {claim}"


# --- issuer, audience, claims


def test_wrong_audience_is_refused() -> None:
    other = replace(CONFIG, audience="someone-else")
    assert reason_of(issue_access(other, "user-1", ["renter"], T0)) == "wrong audience"
    assert reason_of(forge(claims(aud=["gp4u-api", "other"]))) == "wrong audience"


def test_wrong_issuer_is_refused() -> None:
    other = replace(CONFIG, issuer="https://evil.test")
    assert reason_of(issue_access(other, "user-1", ["renter"], T0)) == "wrong issuer"
    assert reason_of(issue_refresh(other, "u", "f", "t", T0), decode_refresh) == "wrong issuer"


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub", "typ", "roles", "ver"])
def test_access_missing_a_required_claim_is_refused(claim: str) -> None:
    assert reason_of(forge(claims(**{claim: None}))) == f"missing claim: {claim}"


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub", "typ", "jti", "fam"])
def test_refresh_missing_a_required_claim_is_refused(claim: str) -> None:
    token = forge(claims("refresh", **{claim: None}))
    assert reason_of(token, decode_refresh) == f"missing claim: {claim}"


@pytest.mark.parametrize(
    ("claim", "value", "decode"),
    [
        ("sub", 42, decode_access),
        ("roles", "admin", decode_access),
        ("roles", ["admin", 1], decode_access),
        ("ver", "1", decode_access),
        ("ver", True, decode_access),
        ("key_id", 7, decode_access),
        ("jti", 7, decode_refresh),
        ("fam", ["f"], decode_refresh),
    ],
)
def test_claims_of_the_wrong_shape_are_refused(claim: str, value: Any, decode: Any) -> None:
    kind = "access" if decode is decode_access else "refresh"
    assert reason_of(forge(claims(kind, **{claim: value})), decode) == f"malformed claim: {claim}"


# --- one kind of token is never the other


def test_refresh_token_used_as_access_is_refused() -> None:
    token = issue_refresh(CONFIG, "user-1", "f1", "t1", T0)
    assert reason_of(token, decode_access) == "wrong token type"
    # even with a roles claim added, typ decides
    assert reason_of(forge(claims("refresh", roles=["admin"])), decode_access) == "wrong token type"


def test_access_token_used_as_refresh_is_refused() -> None:
    token = issue_access(CONFIG, "user-1", ["renter"], T0)
    assert reason_of(token, decode_refresh) == "wrong token type"
    forged = forge(claims("access", jti="t1", fam="f1"))
    assert reason_of(forged, decode_refresh) == "wrong token type"


def test_unknown_type_is_refused() -> None:
    assert reason_of(forge(claims(typ="id"))) == "wrong token type"


# --- configuration


@pytest.mark.parametrize(("alg", "minimum"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_short_secrets_are_refused(alg: str, minimum: int) -> None:
    with pytest.raises(ValueError, match=f"at least {minimum} bytes"):
        TokenConfig(secret="k" * (minimum - 1), issuer="i", audience="a", algorithm=alg)
    TokenConfig(secret="k" * minimum, issuer="i", audience="a", algorithm=alg)


def test_secret_length_is_counted_in_bytes() -> None:
    TokenConfig(secret="é" * 16, issuer="i", audience="a")  # 32 bytes in UTF-8


@pytest.mark.parametrize("alg", ["none", "RS256", "hs256", ""])
def test_only_hmac_algorithms_can_be_configured(alg: str) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        TokenConfig(secret=SECRET * 4, issuer="i", audience="a", algorithm=alg)


@pytest.mark.parametrize(
    "changes",
    [{"issuer": ""}, {"audience": ""}, {"access_ttl_seconds": 0}, {"refresh_ttl_seconds": -1}],
)
def test_incoherent_configs_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        replace(CONFIG, **changes)


def test_the_secret_is_not_in_the_config_repr() -> None:
    assert SECRET not in repr(CONFIG)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        issue_access(CONFIG, "user-1", [], datetime(2026, 1, 1))
    token = issue_access(CONFIG, "user-1", [], T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        decode_access(CONFIG, token, datetime(2026, 1, 1))

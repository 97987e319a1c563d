"""JWT access and refresh tokens (PyJWT, HMAC-SHA2).

Access tokens are short-lived (15 minutes) and carry the user's roles; refresh tokens live 30 days,
carry a token id (`jti`) and a family id (`fam`) so the service can rotate them and revoke a whole
family when one is replayed. The claim `typ` ("access" or "refresh") keeps one kind from being
accepted as the other.

Decoding pins the configured algorithm (so `alg: none` and algorithm confusion are refused),
requires exp, iat, iss, aud, sub and typ, checks issuer and audience exactly, and checks expiry
against the caller's `now` with no leeway (PyJWT's own time checks read the wall clock, so they are
off and done here: tests move a clock instead of sleeping). Every failure is one `InvalidToken`
whose reason names the failed check and never repeats the token.

Secrets must be at least as long as the hash output (RFC 7518 §3.2): 32 bytes for HS256.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import jwt

from gp4u.kit.errors import AppError

ACCESS = "access"
REFRESH = "refresh"
# The shortest secret per algorithm: the digest size (RFC 7518 §3.2). Other algorithms are refused.
MIN_SECRET_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
# How far a token's `iat` may lie ahead of `now` (clocks of several servers drift a little).
MAX_CLOCK_SKEW_SECONDS = 60
_REQUIRED = ("exp", "iat", "iss", "aud", "sub", "typ")


class InvalidToken(AppError):
    """A token that must not be accepted. `reason` names the check that failed."""

    status_code: ClassVar[int] = 401

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid token: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class TokenConfig:
    secret: str = field(repr=False)
    issuer: str
    audience: str
    access_ttl_seconds: int = 15 * 60
    refresh_ttl_seconds: int = 30 * 24 * 3600
    algorithm: str = "HS256"

    def __post_init__(self) -> None:
        minimum = MIN_SECRET_BYTES.get(self.algorithm)
        if minimum is None:
            raise ValueError(f"unsupported token algorithm {self.algorithm!r}")
        if len(self.secret.encode()) < minimum:
            raise ValueError(f"the token secret must be at least {minimum} bytes")
        if not self.issuer or not self.audience:
            raise ValueError("the token issuer and audience must not be empty")
        if self.access_ttl_seconds <= 0 or self.refresh_ttl_seconds <= 0:
            raise ValueError("token lifetimes must be positive")


@dataclass(frozen=True)
class AccessClaims:
    subject: str
    roles: frozenset[str]
    issued_at: datetime
    expires_at: datetime
    key_id: str | None  # the API key this token acts for, if any (per-key scopes and budgets)
    version: int  # the user's token version when issued: bumping it revokes every older token


@dataclass(frozen=True)
class RefreshClaims:
    subject: str
    family_id: str
    token_id: str
    issued_at: datetime
    expires_at: datetime


def new_token_id() -> str:
    """A random id for a refresh token or a refresh-token family (128 bits)."""
    return secrets.token_urlsafe(16)


def issue_access(
    config: TokenConfig,
    subject: str,
    roles: Iterable[str],
    now: datetime,
    key_id: str | None = None,
    version: int = 0,
) -> str:
    claims = _claims(config, subject, ACCESS, now, config.access_ttl_seconds)
    claims["roles"] = sorted(set(roles))
    claims["ver"] = version
    if key_id is not None:
        claims["key_id"] = key_id
    return _encode(config, claims)


def issue_refresh(
    config: TokenConfig, subject: str, family_id: str, token_id: str, now: datetime
) -> str:
    claims = _claims(config, subject, REFRESH, now, config.refresh_ttl_seconds)
    claims["fam"] = family_id
    claims["jti"] = token_id
    return _encode(config, claims)


def decode_access(config: TokenConfig, token: str, now: datetime) -> AccessClaims:
    claims = _decode(config, token, now, ACCESS, ("roles", "ver"))
    roles = claims["roles"]
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise InvalidToken("malformed claim: roles")
    key_id = claims.get("key_id")
    if key_id is not None and not isinstance(key_id, str):
        raise InvalidToken("malformed claim: key_id")
    version = claims["ver"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidToken("malformed claim: ver")
    return AccessClaims(
        subject=claims["sub"],
        roles=frozenset(roles),
        issued_at=_datetime(claims["iat"]),
        expires_at=_datetime(claims["exp"]),
        key_id=key_id,
        version=version,
    )


def decode_refresh(config: TokenConfig, token: str, now: datetime) -> RefreshClaims:
    claims = _decode(config, token, now, REFRESH, ("jti", "fam"))
    if not isinstance(claims["fam"], str):
        raise InvalidToken("malformed claim: fam")
    return RefreshClaims(
        subject=claims["sub"],
        family_id=claims["fam"],
        token_id=claims["jti"],
        issued_at=_datetime(claims["iat"]),
        expires_at=_datetime(claims["exp"]),
    )


def _claims(config: TokenConfig, subject: str, typ: str, now: datetime, ttl: int) -> dict[str, Any]:
    if not subject:
        raise ValueError("a token needs a subject")
    issued = int(_timestamp(now))
    return {
        "iss": config.issuer,
        "aud": config.audience,
        "sub": subject,
        "typ": typ,
        "iat": issued,
        "exp": issued + ttl,
    }


def _encode(config: TokenConfig, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, config.secret, algorithm=config.algorithm)


def _decode(
    config: TokenConfig, token: str, now: datetime, typ: str, extra: tuple[str, ...]
) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            config.secret,
            algorithms=[config.algorithm],
            audience=config.audience,
            issuer=config.issuer,
            leeway=0,
            options={
                "require": list(_REQUIRED),
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "strict_aud": True,
            },
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(_reason(error)) from None
    if claims["typ"] != typ:
        raise InvalidToken("wrong token type")
    for claim in extra:  # after the type, so the wrong kind of token is named as such
        if claims.get(claim) is None:
            raise InvalidToken(f"missing claim: {claim}")
    _check_times(claims, _timestamp(now))
    return claims


def _check_times(claims: dict[str, Any], now: float) -> None:
    issued, expires = claims["iat"], claims["exp"]
    for name, value in (("iat", issued), ("exp", expires)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidToken(f"malformed claim: {name}")
    if expires <= now:
        raise InvalidToken("expired")
    if issued > now + MAX_CLOCK_SKEW_SECONDS:
        raise InvalidToken("issued in the future")


def _reason(error: jwt.PyJWTError) -> str:
    """The failed check, in words; PyJWT's messages are not shown (some quote the header)."""
    match error:
        case jwt.InvalidSignatureError():
            return "bad signature"
        case jwt.InvalidAlgorithmError():
            return "algorithm not allowed"
        case jwt.MissingRequiredClaimError():
            return f"missing claim: {error.claim}"
        case jwt.InvalidAudienceError():
            return "wrong audience"
        case jwt.InvalidIssuerError():
            return "wrong issuer"
        case jwt.exceptions.InvalidSubjectError():
            return "malformed claim: sub"
        case jwt.exceptions.InvalidJTIError():
            return "malformed claim: jti"
        case jwt.DecodeError():
            return "malformed token"
    return "not acceptable"


def _timestamp(moment: datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError("token times must be timezone-aware")
    return moment.timestamp()


def _datetime(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)

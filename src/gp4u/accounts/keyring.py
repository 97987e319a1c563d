"""The server's keys, derived from one master secret with HKDF-SHA256 (RFC 5869): the token
signing key, the API-key pepper and the provider-credential encryption key. One secret to set
and rotate; a leak of one derived key reveals neither the others nor the master.

Development without GP4U_SECRET_KEY: a random master is created once in the data directory
(mode 0600) and reused, so a restart keeps everyone logged in. Production refuses to start
without an explicit secret (see Settings)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gp4u.accounts.tokens import TokenConfig
from gp4u.settings import Settings

SECRET_FILE = "secret.key"  # noqa: S105 (a file name, not a secret)
ISSUER = "gp4u"
AUDIENCE = "gp4u-api"


@dataclass(frozen=True)
class Keyring:
    tokens: TokenConfig = field(repr=False)
    pepper: bytes = field(repr=False)
    box_key: bytes = field(repr=False)


def derive(master: bytes, purpose: str, length: int = 32) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=None, info=f"gp4u {purpose}".encode()
    ).derive(master)


def master_secret(settings: Settings) -> bytes:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = settings.data_dir / SECRET_FILE
    if not path.exists():
        _create_secret_file(path)
    return path.read_bytes().strip()


def _create_secret_file(path: Path) -> None:
    """Written whole to a private temporary file, then linked into place: two processes
    starting together agree on one secret and never read a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


def keyring(settings: Settings) -> Keyring:
    master = master_secret(settings)
    return Keyring(
        tokens=TokenConfig(
            secret=derive(master, "access tokens").hex(),
            issuer=ISSUER,
            audience=AUDIENCE,
            access_ttl_seconds=settings.access_token_minutes * 60,
            refresh_ttl_seconds=settings.refresh_token_days * 24 * 3600,
        ),
        pepper=derive(master, "api key pepper"),
        box_key=derive(master, "provider credentials"),
    )

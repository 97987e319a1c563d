"""SSH keys for sessions: a fresh ed25519 pair when the user asks GP4U to generate one (the
private half is returned once and never stored), and checking keys users bring."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gp4u.kit.errors import InvalidInput

_PUBLIC = re.compile(
    r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|"
    r"sk-ssh-ed25519@openssh\.com) ([A-Za-z0-9+/]+={0,3})( [^\r\n]{0,200})?$"
)


@dataclass(frozen=True)
class KeyPair:
    public: str
    private: str  # OpenSSH PEM; shown to the user once
    fingerprint: str


def generate(comment: str) -> KeyPair:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    public = f"{public} {comment}"
    return KeyPair(public, private, fingerprint(public))


def check_public(key: str) -> str:
    """A user's public key in one line, or InvalidInput naming the field."""
    key = key.strip()
    match = _PUBLIC.match(key)
    if match is None:
        raise InvalidInput(
            "ssh_public_key must be an OpenSSH public key (ssh-ed25519 AAAA… comment) or "
            '"generate"',
            field="ssh_public_key",
        )
    try:
        base64.b64decode(match[2], validate=True)
    except ValueError:
        raise InvalidInput("ssh_public_key is not valid base64", field="ssh_public_key") from None
    return key


def fingerprint(public: str) -> str:
    """The SHA256 fingerprint `ssh-keygen -l` shows."""
    blob = base64.b64decode(public.split()[1])
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"

"""The API keys `gp4u login` stored, one per GP4U server: a JSON file readable by its owner
only (mode 0600, written atomically), at $GP4U_CREDENTIALS_FILE, else
$XDG_CONFIG_HOME/gp4u/credentials.json, else ~/.config/gp4u/credentials.json.

    {"servers": {"https://gp4u.example.com": {"key": "gp4u_…", "key_id": "…", "email": "…",
                                              "scopes": ["read", "trade"], "created_at": "…"}}}

GP4U_API_KEY, when set, is used for every server instead (scripts and CI). Standard library
only: every remote command reads this file, and the CLI must start fast."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ENV_FILE = "GP4U_CREDENTIALS_FILE"
ENV_KEY = "GP4U_API_KEY"


def credentials_path() -> Path:
    override = os.environ.get(ENV_FILE)
    if override:
        return Path(override).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "gp4u" / "credentials.json"


def server_id(api_url: str) -> str:
    """One spelling per server: scheme and host in lower case, no trailing slash."""
    parts = urlsplit(api_url.strip())
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, "")
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"servers": {}}
    if os.name == "posix" and path.stat().st_mode & 0o077:
        print(f"warning: {path} is readable by other users; run: chmod 600 {path}", file=sys.stderr)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); delete it and log in again") from exc
    if not isinstance(data, dict) or not isinstance(data.get("servers"), dict):
        raise ValueError(f"{path} is not a GP4U credentials file; delete it and log in again")
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    """Replace the file atomically; the new file is 0600 from its first byte."""
    import tempfile

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".credentials.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp creates it 0600
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(temporary).unlink()
        raise


def stored(api_url: str) -> dict[str, Any] | None:
    """What `gp4u login` stored for this server, if anything."""
    entry = _read(credentials_path())["servers"].get(server_id(api_url))
    return entry if isinstance(entry, dict) and entry.get("key") else None


def api_key(api_url: str) -> str | None:
    """The key to send to this server: GP4U_API_KEY, else the stored one."""
    from_env = os.environ.get(ENV_KEY)
    if from_env:
        return from_env
    entry = stored(api_url)
    return str(entry["key"]) if entry else None


def store(api_url: str, entry: dict[str, Any]) -> Path:
    path = credentials_path()
    data = _read(path)
    data["servers"][server_id(api_url)] = entry
    _write(path, data)
    return path


def forget(api_url: str) -> dict[str, Any] | None:
    """Remove this server's entry; returns it (None when there was none)."""
    path = credentials_path()
    data = _read(path)
    entry = data["servers"].pop(server_id(api_url), None)
    if entry is not None:
        _write(path, data)
    return entry if isinstance(entry, dict) else None

"""`agent.json` in the state dir: how `gp4u agent done/status` (and the workload process) find a
running agent's status endpoint. It holds the pid, the status URL and the session id, no secret."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from gp4u.agent.config import STATE_FILE


def write_state(state_dir: Path, data: dict[str, Any]) -> None:
    """Replace agent.json atomically, so a reader never sees half a file."""
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = state_dir / f".{STATE_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(state_dir / STATE_FILE)


def read_state(state_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((state_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def remove_state(state_dir: Path) -> None:
    """Remove agent.json if this process wrote it (a newer agent may have replaced it)."""
    data = read_state(state_dir)
    if data is not None and data.get("pid") == os.getpid():
        (state_dir / STATE_FILE).unlink(missing_ok=True)

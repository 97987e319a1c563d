"""Talking to a running agent's local status endpoint: what `gp4u agent status/done` and the
workload process (`gp4u.agent.workload`) use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from gp4u.agent.config import STATE_FILE
from gp4u.agent.state import read_state


class AgentError(Exception):
    """No running agent could be reached, or it refused the request."""


def status_url(state_dir: Path) -> str:
    """The status URL a running agent wrote into its state dir."""
    data = read_state(state_dir)
    url = data.get("status_url") if data else None
    if not isinstance(url, str):
        raise AgentError(f"no running agent: {state_dir / STATE_FILE} is missing or unreadable")
    return url


def _call(method: str, url: str, body: dict[str, Any] | None, timeout: float) -> dict[str, Any]:
    try:
        response = httpx.request(method, url, json=body, timeout=timeout)
    except httpx.HTTPError as exc:
        raise AgentError(f"no agent answers at {url}: {exc}") from None
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code >= 400 or not isinstance(data, dict):
        detail = data.get("detail") if isinstance(data, dict) else response.text[:200]
        raise AgentError(f"the agent at {url} answered {response.status_code}: {detail}")
    return data


def get_status(url: str, timeout: float = 5.0) -> dict[str, Any]:
    return _call("GET", url.rstrip("/") + "/status", None, timeout)


def send_done(
    url: str, exit_code: int | None, message: str | None, timeout: float = 5.0
) -> dict[str, Any]:
    body = {"exit_code": exit_code, "message": message}
    return _call("POST", url.rstrip("/") + "/done", body, timeout)

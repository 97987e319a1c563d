"""The agent's configuration (options with `GP4U_AGENT_*` environment fallbacks; the host mode's
token comes from `GP4U_HOST_TOKEN`) and the timestamp parsing shared with the broker's answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

ENV_BROKER = "GP4U_AGENT_BROKER"
ENV_TOKEN = "GP4U_AGENT_TOKEN"  # noqa: S105 - the variable's name, not a token
ENV_HARD_DEADLINE = "GP4U_AGENT_HARD_DEADLINE"
ENV_HEARTBEAT_SECONDS = "GP4U_AGENT_HEARTBEAT_SECONDS"
ENV_BROKER_TIMEOUT_SECONDS = "GP4U_AGENT_BROKER_TIMEOUT_SECONDS"
ENV_STATUS_PORT = "GP4U_AGENT_STATUS_PORT"
ENV_STATE_DIR = "GP4U_AGENT_STATE_DIR"
ENV_ON_SHUTDOWN = "GP4U_AGENT_ON_SHUTDOWN"
ENV_SHUTDOWN_COMMAND = "GP4U_AGENT_SHUTDOWN_COMMAND"
ENV_LOG_FORMAT = "GP4U_AGENT_LOG_FORMAT"
ENV_HOST_TOKEN = "GP4U_HOST_TOKEN"  # noqa: S105 - the variable's name, not a token

DEFAULT_STATE_DIR = "~/.gp4u-agent"
STATE_FILE = "agent.json"
HOST_STATE_FILE = "host-agent.json"
HOST_RUNS_DIR = "runs"  # host mode: one folder per run the broker handed this machine
OnShutdown = Literal["poweroff", "exit"]


@dataclass(frozen=True)
class AgentConfig:
    broker: str
    token: str = field(repr=False)
    hard_deadline: datetime | None = None
    heartbeat_seconds: float = 30.0
    broker_timeout_seconds: float = 600.0
    status_host: str = "127.0.0.1"
    status_port: int = 8585
    state_dir: Path = field(default_factory=lambda: Path(DEFAULT_STATE_DIR).expanduser())
    on_shutdown: OnShutdown = "poweroff"
    shutdown_command: str = "shutdown -h now"
    # Facts go with the registration and every Nth heartbeat (nvidia-smi costs ~0.1 s a call).
    facts_every: int = 10
    request_timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not self.broker.startswith(("http://", "https://")):
            raise ValueError(f"broker URL must start with http:// or https://: {self.broker!r}")
        if not self.token:
            raise ValueError("the registration token is empty")
        if self.heartbeat_seconds <= 0 or self.broker_timeout_seconds <= 0:
            raise ValueError("heartbeat and broker timeout must be positive")
        if self.facts_every < 1:
            raise ValueError("facts_every must be at least 1")

    @property
    def broker_url(self) -> str:
        return self.broker.rstrip("/")


@dataclass(frozen=True)
class HostConfig:
    """Host mode: a host's own machine, listed on the marketplace. `token` may be None when
    the state dir holds a saved registration for this broker."""

    broker: str
    token: str | None = field(default=None, repr=False)
    heartbeat_seconds: float = 15.0
    state_dir: Path = field(default_factory=lambda: Path(DEFAULT_STATE_DIR).expanduser())
    facts_every: int = 10
    request_timeout_seconds: float = 10.0
    benchmark: bool = True  # measure the GPUs' throughput once per start

    def __post_init__(self) -> None:
        if not self.broker.startswith(("http://", "https://")):
            raise ValueError(f"broker URL must start with http:// or https://: {self.broker!r}")
        if self.token is not None and not self.token:
            raise ValueError("the machine token is empty")
        if self.heartbeat_seconds <= 0 or self.request_timeout_seconds <= 0:
            raise ValueError("heartbeat and request timeout must be positive")
        if self.facts_every < 1:
            raise ValueError("facts_every must be at least 1")

    @property
    def broker_url(self) -> str:
        return self.broker.rstrip("/")

    @property
    def state_file(self) -> Path:
        return self.state_dir / HOST_STATE_FILE

    @property
    def runs_dir(self) -> Path:
        return self.state_dir / HOST_RUNS_DIR


def parse_time(value: str) -> datetime:
    """An ISO 8601 timestamp as aware UTC; one without a zone is read as UTC."""
    parsed = datetime.fromisoformat(value.strip())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()

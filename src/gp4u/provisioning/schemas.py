"""Request and response shapes of the sessions and node agent APIs. Prices are USD per hour for
the whole machine; requests never carry server-set fields."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from gp4u.db.base import MAX_ID
from gp4u.provisioning.states import State
from gp4u.web.schemas import RequestModel

EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
EnvValue = Annotated[str, StringConstraints(max_length=4096)]


class LaunchIn(RequestModel):
    offer_id: int = Field(ge=1, le=MAX_ID, description="The offer to launch (see /api/v1/offers).")
    hours: float = Field(
        gt=0,
        le=24 * 14,
        description="How long to run. The estimate (price × hours) is held on your wallet; you "
        "pay per minute of running time and the rest is released.",
    )
    image: str | None = Field(None, max_length=255, description="Container or machine image.")
    startup_command: str | None = Field(
        None, max_length=16_000, description="Run on the machine once it is up."
    )
    env: dict[EnvName, EnvValue] = Field(
        default_factory=dict,
        max_length=64,
        description="Environment variables for the machine. Values are stored encrypted and "
        "never shown again; names starting with GP4U_AGENT_ are reserved.",
    )
    ssh_public_key: str | None = Field(
        None,
        max_length=4096,
        description='Your OpenSSH public key, or "generate" for a new ed25519 key pair whose '
        "private key is returned once, in this response only.",
    )
    max_price_per_hour: Decimal | None = Field(
        None,
        gt=0,
        le=10_000,
        max_digits=10,
        decimal_places=4,
        description="If the offer cannot be launched, try matching offers up to this price "
        "(default: the offer's current price). The hold covers it.",
    )


class ExtendIn(RequestModel):
    hours: float = Field(gt=0, le=24 * 14, description="Hours to add (held on your wallet).")


class ConnectionOut(BaseModel):
    host: str
    port: int | None
    user: str | None
    command: str


class AttemptOut(BaseModel):
    n: int
    offer_id: int
    provider: str
    gpu: str
    price_per_hour: float | None
    outcome: str = Field(description="ok, pending, no_capacity, rejected, unknown, price_rose…")
    reason: str | None = None
    at: str


class AgentOut(BaseModel):
    registered_at: datetime | None
    last_heartbeat_at: datetime | None
    facts: dict[str, Any] | None


class SessionOut(BaseModel):
    id: int
    state: State
    offer_id: int
    provider: str
    gpu: str
    gpu_count: int
    instance_type: str
    region: str | None
    spot: bool
    price_per_hour: float
    max_price_per_hour: float
    paid_hours: float
    image: str
    env_keys: list[str]
    ssh_fingerprint: str | None
    connection: ConnectionOut | None
    instance_id: str | None
    attempts: list[AttemptOut]
    launch_summary: str | None = Field(description='e.g. "tried 2 of 12 offers: …"')
    agent: AgentOut
    created_at: datetime
    running_at: datetime | None = Field(description="Billing starts here (agent checked in).")
    expires_at: datetime = Field(description="End of the paid time.")
    hard_deadline: datetime = Field(description="Destroyed by then whatever happens.")
    ending_at: datetime | None = Field(description="Billing stopped here.")
    destroyed_at: datetime | None = Field(description="The provider confirmed the machine gone.")
    end_reason: str | None
    end_detail: str | None
    cost_so_far: float
    held: float | None = Field(description="Held by this request (create and extend only).")
    needs_attention: bool


class SessionCreatedOut(SessionOut):
    ssh_private_key: str | None = Field(
        None, description="Only when you asked GP4U to generate a key: shown this once."
    )


class SessionsOut(BaseModel):
    items: list[SessionOut]
    next_before: int | None


SessionState = Literal["provisioning", "starting", "running", "ending", "terminated", "failed"]


# --- the node agent --------------------------------------------------------------------------


class AgentRegisterIn(RequestModel):
    token: str = Field(min_length=16, max_length=200)
    facts: dict[str, Any] | None = None


class AgentBeatIn(RequestModel):
    facts: dict[str, Any] | None = None


class AgentDoneIn(RequestModel):
    exit_code: int | None = Field(None, ge=-(2**31), le=2**31 - 1)
    message: str | None = Field(None, max_length=1000)


class AgentTermsOut(BaseModel):
    session_id: int
    state: str
    hard_deadline: datetime
    ends_at: datetime
    heartbeat_seconds: float
    broker_timeout_seconds: float


class AgentRegisteredOut(AgentTermsOut):
    agent_secret: str = Field(description="Authenticates the agent's heartbeats from now on.")


class AgentBeatOut(AgentTermsOut):
    action: Literal["continue", "shutdown"]


class AgentDoneOut(BaseModel):
    action: Literal["shutdown"]
    state: str

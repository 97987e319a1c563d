"""Settings: one pydantic-settings class, environment prefix GP4U_, passed into create_app()."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CATALOG_URL = (
    "https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/catalogs/v8"
)
DEFAULT_CATALOG_PROVIDERS = (
    "lambda,vast,runpod,cudo,nebius,hyperbolic,shadeform,primeintellect,fluidstack,"
    "paperspace,do,oci,azure,aws,gcp"
)

MIN_SECRET_CHARS = 32
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class Settings(BaseSettings):
    """Every knob of GP4U. Read from the environment (GP4U_*) or a `.env` file."""

    model_config = SettingsConfigDict(env_prefix="GP4U_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Field(Path("./var"), description="Where the embedded SQLite database lives.")
    web_dist: Path | None = Field(
        None, description="The built web UI to serve at / (default: the repository's web/dist)."
    )
    database_url: str | None = Field(
        None, description="Overrides the embedded database, e.g. postgresql+asyncpg://host/db."
    )
    database_pool_size: int | None = Field(
        None,
        ge=1,
        description="PostgreSQL connections each process keeps open (SQLite ignores it). Unset: "
        "twice the CPU cores, at least 4; size it to the database server's cores, not the "
        "number of clients.",
    )
    redis_url: str | None = Field(
        None,
        description="Redis for distributed mode: Celery broker, and shared rate limits, circuit "
        "breakers and offer cache. Unset: all of these live in process memory.",
    )
    jobs_backend: Literal["inprocess", "celery"] = Field(
        "inprocess",
        description="inprocess: `gp4u serve` runs background jobs itself; celery: `gp4u worker` "
        "and `gp4u scheduler` run them through Redis.",
    )
    deployment_id: str = Field(
        "local",
        pattern=r"^[a-z0-9]{1,16}$",
        description="Tags every instance GP4U launches, so it can find (and reap) its own.",
    )

    auth: Literal["local", "accounts"] = Field(
        "local",
        description="local: one user, no sign-up; requests without credentials act as the local "
        "owner of everything (only allowed on a loopback address). accounts: multi-user; every "
        "request except public market data must carry a token or an API key.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Master secret (at least 32 characters) from which the token signing key, the "
        "API-key pepper and the provider-credential encryption key are derived. Unset in "
        "development: a random one is created in GP4U_DATA_DIR/secret.key. Required in "
        "production and with Celery.",
    )
    access_token_minutes: int = Field(15, ge=1, le=60, description="Access token lifetime.")
    refresh_token_days: int = Field(30, ge=1, le=90, description="Refresh token lifetime.")
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="Request bodies larger than this get 413."
    )
    platform_fee_bps: int = Field(
        1000,
        ge=0,
        le=5000,
        description="Platform fee on host earnings, in basis points (1000 = 10 %), taken when a "
        "hold is captured for a host.",
    )

    payment_rails: str = Field(
        "test-instant,test-async",
        description="Payment rails offered for deposits and withdrawals (comma-separated). The "
        "test rails settle by source token (tok_ok, tok_decline) and are refused in production.",
    )
    test_rail_settle_seconds: float = Field(
        60.0, ge=0, description="How long the test-async rail keeps a transfer pending."
    )

    public_url: str | None = Field(
        None,
        description="The URL machines GP4U launches use to reach this server (the node agent "
        "checks in there); default http://HOST:PORT.",
    )
    session_max_hours: float = Field(
        12.0,
        gt=0,
        le=24 * 14,
        description="Hard maximum lifetime of a session (the platform cap): a machine is destroyed "
        "this long after its launch whatever happens. Users may set a lower limit for themselves.",
    )
    session_grace_seconds: float = Field(
        60.0, ge=0, le=3600, description="How long past its paid time a session may run unbilled."
    )
    launch_max_attempts: int = Field(
        3, ge=1, le=20, description="Offers tried when launches fail for capacity (failover)."
    )
    agent_heartbeat_seconds: float = Field(
        30.0, gt=0, description="How often the node agent on a machine heartbeats."
    )
    agent_heartbeat_timeout_seconds: float = Field(
        180.0, gt=0, description="A running session whose agent is silent this long is ended."
    )
    agent_checkin_timeout_seconds: float = Field(
        900.0, gt=0, description="A launched machine whose agent never checks in is destroyed."
    )
    agent_broker_timeout_seconds: float = Field(
        600.0,
        gt=0,
        description="The agent shuts its machine down when it cannot reach GP4U for this long.",
    )
    lifecycle_seconds: float = Field(
        15.0, gt=0, description="Interval of the session lifecycle manager (expiry, destruction)."
    )
    reconcile_seconds: float = Field(
        300.0, gt=0, description="Interval of the reconciliation of tagged provider instances."
    )
    destroy_attention_after: int = Field(
        5, ge=1, description="Failed destroy attempts before a session is flagged for attention."
    )
    host_heartbeat_seconds: float = Field(
        30.0, gt=0, description="How often a host machine's agent (host mode) heartbeats."
    )
    host_offline_after_seconds: float = Field(
        120.0,
        gt=0,
        description="A host machine whose agent is silent this long is offline: not bookable, "
        "and unavailable in the market.",
    )
    host_gpu_check: bool = Field(
        True,
        description="A host machine is bookable only when its agent sees the GPUs it is listed "
        "with (nvidia-smi).",
    )
    host_sessions_provider: str = Field(
        "gp4u",
        description="The provider adapter that starts a reservation's session on the booked "
        "machine. `gp4u`: the machine's own host agent starts it, wherever the machine is; "
        "`local`: a process on the server's own host (a one-box demo).",
    )
    reservation_tick_seconds: float = Field(
        15.0, gt=0, description="Interval of the reservation manager (activation, capture, end)."
    )
    reservation_capture_minutes: int = Field(
        60, ge=1, description="An active reservation pays its host for elapsed time this often."
    )
    reservation_max_days: int = Field(
        31, ge=1, le=366, description="How long one reservation may be, in days."
    )
    reservation_horizon_days: int = Field(
        180, ge=1, le=730, description="How far ahead a reservation may start, in days."
    )

    host: str = "127.0.0.1"
    port: int = 8000
    migrate_on_start: bool = Field(
        True, description="`gp4u serve` upgrades the schema on start; turn off when distributed."
    )
    log_format: Literal["json", "console"] = "json"
    log_level: str = "INFO"

    api_url: str | None = Field(
        None, description="CLI: talk to this GP4U server, not the local DB."
    )

    search_default_limit: int = Field(50, ge=1)
    search_max_limit: int = Field(1000, ge=1)

    catalog_url: str | None = Field(
        DEFAULT_CATALOG_URL,
        description="Base URL of published SkyPilot catalogs (<url>/<provider>/vms.csv); "
        "empty disables downloads.",
    )
    catalog_providers: str = Field(
        DEFAULT_CATALOG_PROVIDERS, description="Comma-separated providers to download."
    )

    simulated_market: bool = Field(
        True, description="Load the simulated market when no other source has offers."
    )
    simulated_tick_seconds: float = Field(
        300.0, description="How often the simulated market moves while it is the active source."
    )

    providers: str = Field(
        "vastai,runpod,lambda,tensordock,akash,local",
        description="Live provider adapters to sync (comma-separated); catalogs come from "
        "catalog_providers.",
    )
    vastai_api_key: SecretStr | None = None
    runpod_api_key: SecretStr | None = None
    lambda_api_key: SecretStr | None = None
    tensordock_api_key: SecretStr | None = None
    lambda_ssh_key_name: str | None = Field(
        None, description="Lambda Cloud SSH key to launch with (else the session's key is added)."
    )
    vastai_url: str | None = Field(None, description="Overrides the Vast.ai API base URL.")
    runpod_url: str | None = Field(None, description="Overrides the RunPod API base URL.")
    lambda_url: str | None = Field(None, description="Overrides the Lambda Cloud API base URL.")
    tensordock_url: str | None = Field(
        None, description="Overrides the TensorDock host (root URL, without /api/v2)."
    )
    akash_url: str | None = Field(None, description="Overrides the Akash Console API base URL.")

    live_sync_seconds: float = Field(30.0, gt=0, description="Sync interval of live providers.")
    catalog_sync_seconds: float = Field(3600.0, gt=0, description="Sync interval of catalogs.")
    sync_timeout_seconds: float = Field(
        60.0, gt=0, description="One provider's sync run is abandoned after this long."
    )
    stale_after_intervals: float = Field(
        3.0,
        gt=0,
        description="A provider's offers are marked stale when its last successful sync is older "
        "than this many sync intervals.",
    )
    sync_history_days: float = Field(
        7.0, gt=0, description="Sync run records older than this are pruned (latest kept)."
    )
    live_hard_stale_seconds: float = Field(
        900.0, gt=0, description="Live offers not confirmed for this long drop out of results."
    )
    catalog_hard_stale_seconds: float = Field(
        172800.0, gt=0, description="Catalog offers not confirmed for this long drop out."
    )

    gscore_performance_weight: float = Field(
        0.5, ge=0, description="G-Score weight of performance per dollar."
    )
    gscore_reliability_weight: float = Field(
        0.3, ge=0, description="G-Score weight of reliability."
    )
    gscore_efficiency_weight: float = Field(
        0.2, ge=0, description="G-Score weight of VRAM and bandwidth per dollar."
    )

    @model_validator(mode="after")
    def _coherent(self) -> Settings:
        if self.search_default_limit > self.search_max_limit:
            raise ValueError("search_default_limit must not exceed search_max_limit")
        if self.database_url and not self.database_url.startswith(
            ("sqlite+aiosqlite://", "postgresql+asyncpg://")
        ):
            raise ValueError(
                "GP4U_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        weights = (
            self.gscore_performance_weight
            + self.gscore_reliability_weight
            + self.gscore_efficiency_weight
        )
        if abs(weights - 1.0) > 1e-9:
            raise ValueError(
                f"the three GP4U_GSCORE_*_WEIGHT settings must sum to 1, not {weights:g}"
            )
        if self.jobs_backend == "celery" and not self.redis_url:
            raise ValueError("GP4U_JOBS_BACKEND=celery needs GP4U_REDIS_URL (the Celery broker)")
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("GP4U_REDIS_URL must start with redis://, rediss:// or unix://")
        self.check_auth()
        return self

    def check_auth(self) -> None:
        """Refuses an unsafe authentication setup (also called by create_app: copies made with
        model_copy, such as `gp4u serve --host`, skip validators)."""
        secret = self.secret_key.get_secret_value() if self.secret_key else None
        if secret is not None and len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"GP4U_SECRET_KEY must be at least {MIN_SECRET_CHARS} characters")
        if self.env == "production":
            if self.auth != "accounts":
                raise ValueError("production needs GP4U_AUTH=accounts (local mode has no login)")
            if secret is None:
                raise ValueError("production needs GP4U_SECRET_KEY (no generated default)")
        if self.env == "production" and any(r.startswith("test-") for r in self.rail_list):
            raise ValueError("production cannot offer the test payment rails (free money)")
        if self.jobs_backend == "celery" and secret is None:
            raise ValueError(
                "GP4U_JOBS_BACKEND=celery needs GP4U_SECRET_KEY: every process must share it"
            )
        if self.auth == "local" and self.host not in LOOPBACK_HOSTS:
            raise ValueError(
                f"GP4U_AUTH=local serves every request as the local owner, so it only binds to a "
                f"loopback address, not {self.host!r}; use GP4U_AUTH=accounts to serve a network"
            )

    @property
    def rail_list(self) -> list[str]:
        return [r.strip() for r in self.payment_rails.split(",") if r.strip()]

    @property
    def provider_list(self) -> list[str]:
        return [p.strip() for p in self.providers.split(",") if p.strip()]

    def api_key(self, provider: str) -> str | None:
        """The configured API key of a provider, if any (never logged or returned)."""
        secret = getattr(self, f"{provider}_api_key", None)
        return secret.get_secret_value() if isinstance(secret, SecretStr) else None

    def base_url(self, provider: str) -> str | None:
        value = getattr(self, f"{provider}_url", None)
        return value if isinstance(value, str) and value else None

    @property
    def broker_url(self) -> str:
        """Where launched machines reach this server."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "gp4u.sqlite3"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.sqlite_path.resolve()}"

    @property
    def is_embedded_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def catalog_provider_list(self) -> list[str]:
        return [p.strip() for p in self.catalog_providers.split(",") if p.strip()]

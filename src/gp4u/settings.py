"""Settings: one pydantic-settings class, environment prefix GP4U_, passed into create_app()."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CATALOG_URL = (
    "https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/catalogs/v8"
)
DEFAULT_CATALOG_PROVIDERS = (
    "lambda,vast,runpod,cudo,nebius,hyperbolic,shadeform,primeintellect,fluidstack,"
    "paperspace,do,oci,azure,aws,gcp"
)


class Settings(BaseSettings):
    """Every knob of GP4U. Read from the environment (GP4U_*) or a `.env` file."""

    model_config = SettingsConfigDict(env_prefix="GP4U_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Field(Path("./var"), description="Where the embedded SQLite database lives.")
    database_url: str | None = Field(
        None, description="Overrides the embedded database, e.g. postgresql+asyncpg://host/db."
    )
    redis_url: str | None = Field(None, description="Optional; unused until distributed jobs.")

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
    catalog_sync_on_start: bool = Field(
        True, description="Try to download the published catalogs in the background at start."
    )
    catalog_timeout_seconds: float = 20.0

    simulated_market: bool = Field(
        True, description="Load the simulated market when no other source has offers."
    )
    simulated_tick_seconds: float = Field(
        300.0, description="How often the simulated market moves while it is the active source."
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
        return self

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

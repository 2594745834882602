"""One typed settings object, read from ``HUB_*`` environment variables."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the hub. Built by the app factory, never at import time."""

    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = ""
    broker_url: str = ""
    result_backend: str = ""
    secret_key: str = "dev-only-secret-key-change-me"
    base_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    # ``hub smtp --processes N`` sets this: N processes share the SMTP port (SO_REUSEPORT).
    smtp_processes: int = Field(default=1, ge=1, le=64)
    attachment_max_bytes: int = 10 * 1024 * 1024
    attachment_types: list[str] = Field(default_factory=list)
    clamd_socket: str = ""
    outbox_max_attempts: int = 8
    outbox_batch: int = 100
    load_plugins: str = ""
    disable_plugin_autoload: bool = False
    trace_plugins: bool = False
    db_pool_size: int = 10
    cookie_secure: bool = False

    @model_validator(mode="after")
    def _default_base_url(self) -> Settings:
        if not self.base_url:
            self.base_url = f"http://{self.host}:{self.port}"
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hub.sqlite3').resolve()}"

    @cached_property
    def resolved_broker_url(self) -> str:
        if self.broker_url:
            return self.broker_url
        # Embedded broker: kombu's SQLAlchemy transport on a SQLite file, no server needed.
        return f"sqla+sqlite:///{(self.data_dir / 'broker.sqlite3').resolve()}"

    @cached_property
    def blob_dir(self) -> Path:
        return (self.data_dir / "attachments").resolve()

"""One typed settings object, read from ``HUB_*`` environment variables."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.egress import parse_allow

# The public development key: anyone can read it here, so nothing signed with it proves anything.
# ``hub serve`` refuses it beyond loopback or with HUB_ENV=production (``hub.serve.check_secret_key``).
DEV_SECRET_KEY = "dev-only-secret-key-change-me"


def default_data_dir() -> Path:
    """Where the hub keeps its files unless ``HUB_DATA_DIR`` says otherwise: one place per
    user, never the working folder (``$XDG_DATA_HOME/teleops-hub``, by default
    ``~/.local/share/teleops-hub``)."""
    import os

    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "teleops-hub"


class Settings(BaseSettings):
    """Every knob of the hub. Built by the app factory, never at import time."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_", env_file=".env", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""
    broker_url: str = ""
    result_backend: str = ""
    secret_key: str = DEV_SECRET_KEY
    # "production" makes the public development key a start-up error even on loopback.
    env: str = "development"
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
    # Delivery holds one row at a time under a lease, renewed every third of it while it works;
    # a row whose holder died is taken over once the lease runs out.
    outbox_lease_seconds: float = Field(default=120.0, gt=0)
    # Fairness between tenants: a batch takes at most this many rows of one tenant, tenants in
    # turn, and at most ``outbox_tenant_concurrency`` of a tenant's rows are in flight at once.
    outbox_tenant_batch: int = Field(default=10, ge=1)
    outbox_tenant_concurrency: int = Field(default=1, ge=1)
    load_plugins: str = ""
    disable_plugin_autoload: bool = False
    trace_plugins: bool = False
    db_pool_size: int = 10
    cookie_secure: bool = False
    # Where failed sign-ins are counted (``limits`` storage URI). Left unset: in memory, or in
    # the broker's Redis when the broker is Redis (so all processes count together).
    # HUB_RATELIMIT_STORAGE (the documented name) or HUB_RATE_LIMIT_STORAGE; it also holds the
    # API's per-token counters (hub.api.rate_limit).
    rate_limit_storage: str = Field(
        default="memory://",
        validation_alias=AliasChoices("HUB_RATELIMIT_STORAGE", "HUB_RATE_LIMIT_STORAGE"),
    )
    # API calls per token (a tenant admin may set their own rate), and per client address for
    # calls without a valid token ("limits" notation: N/second, N/minute, N/hour).
    api_rate_limit: str = "600/minute"
    api_rate_limit_anonymous: str = "120/minute"
    # Egress: tenants' outbound connections never reach loopback, private, link-local or
    # metadata addresses, except those this comma list of CIDRs and host[:port] names.
    egress_allow: str = ""
    # Let tenants point vendor endpoints (Slack's API, Teams' login and metadata) elsewhere.
    egress_allow_vendor_override: bool = False

    @field_validator("egress_allow")
    @classmethod
    def _egress_allow(cls, value: str) -> str:
        parse_allow(value)  # a bad entry stops the start, not the first connection
        return value

    # The operator's own relay, for mail the hub sends in its own name (the verification of a
    # support address): never a tenant's relay, which the claiming tenant could read.
    system_relay_host: str = ""
    system_relay_port: int = Field(default=587, ge=1, le=65535)
    system_relay_tls: str = Field(default="starttls", pattern="^(starttls|tls|none)$")
    system_relay_user: str = ""
    system_relay_password: str = ""
    system_mail_from: str = ""
    # Signed links (a tenant's ``Tenant.settings`` may set ``invitation_ttl_hours`` and
    # ``signin_link_ttl_days`` for itself).
    invitation_ttl_hours: int = Field(default=72, ge=1, le=24 * 30)
    password_reset_ttl_minutes: int = Field(default=60, ge=5, le=24 * 60)
    signin_link_ttl_days: int = Field(default=30, ge=1, le=365)
    # Requests for reset and sign-in links, per address and per client (``limits`` syntax).
    link_requests_per_address: str = "5/hour"
    link_requests_per_ip: str = "20/hour"

    # Operations (hub.log_config, hub.metrics, hub.health): log shape and level; the bearer
    # token /metrics wants (unset: /metrics is a 404); older secret keys, newest first, that
    # still decrypt (HUB_SECRET_KEY, or the first of HUB_SECRET_KEYS, encrypts).
    log_format: str = Field(default="", pattern="^(|json|console)$")
    log_level: str = Field(default="INFO", pattern="(?i)^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")
    metrics_token: str = ""
    # A port of its own for /metrics (no token: bind it to the monitoring network), started by
    # `hub serve`, `hub worker` and `hub smtp`, so that workers and SMTP hosts are scraped too.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    secret_keys: str = ""
    # Optional tracing and error reporting (hub.tracing; the otel and sentry extras).
    otel_endpoint: str = ""
    sentry_dsn: str = ""

    @property
    def keyring_secrets(self) -> list[str]:
        """Every secret key, the one that encrypts first: HUB_SECRET_KEYS (comma separated,
        newest first), else HUB_SECRET_KEY alone."""
        keys = [k.strip() for k in self.secret_keys.split(",") if k.strip()]
        return keys or [self.secret_key]

    @model_validator(mode="after")
    def _default_base_url(self) -> Settings:
        if not self.base_url:
            self.base_url = f"http://{self.host}:{self.port}"
        return self

    @property
    def uses_dev_key(self) -> bool:
        return self.keyring_secrets[0] == DEV_SECRET_KEY

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

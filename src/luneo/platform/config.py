"""Settings: one object, read once from `LUNEO_*` environment variables (and `.env`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration. Unset provider keys mean the embedded default is used."""

    model_config = SettingsConfigDict(env_prefix="LUNEO_", env_file=".env", extra="ignore")

    env: str = Field(default="development", description="development | test | production")
    data_dir: Path = Path("./var")
    database_url: str | None = None
    redis_url: str | None = None
    storage_url: str | None = None  # s3://bucket/prefix ; None ⇒ local disk under data_dir/storage
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr = SecretStr("dev-insecure-change-me-0123456789abcdef")
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19456
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 30 * 24 * 3600
    signed_url_ttl_s: int = 3600
    # External identity provider (e.g. Supabase): HS256 shared secret or a JWKS URL.
    idp_jwt_secret: SecretStr | None = None
    idp_jwks_url: str | None = None
    idp_issuer: str | None = None
    idp_audience: str | None = "authenticated"
    # Limits
    max_body_bytes: int = 25 * 1024 * 1024
    max_json_body_bytes: int = 1024 * 1024
    rate_limit_key: str = "600/minute"
    rate_limit_ip: str = "300/minute"
    idempotency_ttl_s: int = 24 * 3600
    # Jobs
    worker_threads: int = 2
    job_sweep_interval_s: float = 15.0
    run_worker_in_process: bool = True
    # Providers (secrets are SecretStr so they never print)
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = None
    paypal_client_id: str | None = None
    paypal_client_secret: SecretStr | None = None
    paypal_webhook_id: str | None = None
    paypal_api_base: str = "https://api-m.sandbox.paypal.com"
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    google_api_key: SecretStr | None = None
    groq_api_key: SecretStr | None = None
    cloudinary_url: SecretStr | None = None
    sendgrid_api_key: SecretStr | None = None
    sendgrid_api_base: str = "https://api.sendgrid.com"
    smtp_url: str | None = None  # smtp://user:pass@host:port
    email_from: str = "Luneo <no-reply@luneo.local>"
    dev_webhook_secret: SecretStr = SecretStr("whsec_dev_local_only")
    sentry_dsn: SecretStr | None = None
    log_level: str = "INFO"
    log_json: bool = True

    @property
    def resolved_database_url(self) -> str:
        """The database URL; the embedded default is a SQLite file under the data directory."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{(self.data_dir / 'luneo.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "storage"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    def provider_status(self) -> dict[str, bool]:
        """Which optional providers are configured (never the secrets themselves)."""
        return {
            "stripe": self.stripe_secret_key is not None,
            "paypal": bool(self.paypal_client_id and self.paypal_client_secret),
            "openai": self.openai_api_key is not None,
            "anthropic": self.anthropic_api_key is not None,
            "google": self.google_api_key is not None,
            "groq": self.groq_api_key is not None,
            "cloudinary": self.cloudinary_url is not None,
            "sendgrid": self.sendgrid_api_key is not None,
            "smtp": self.smtp_url is not None,
            "s3": bool(self.storage_url and self.storage_url.startswith("s3://")),
            "redis": self.redis_url is not None,
            "postgresql": not self.is_sqlite,
        }


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings object (tests may call `get_settings.cache_clear()`)."""
    return Settings()

"""Settings: one object, read once from `LUNEO_*` environment variables (and `.env`)."""

from __future__ import annotations

import contextlib
import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Public development defaults: never trusted when LUNEO_ENV=production (see `check_production_settings`).
DEFAULT_SECRET_KEY = "dev-insecure-change-me-0123456789abcdef"
DEFAULT_DEV_WEBHOOK_SECRET = "whsec_dev_local_only"
MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    """Runtime configuration. Unset provider keys mean the embedded default is used."""

    model_config = SettingsConfigDict(env_prefix="LUNEO_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        default="development", description="development (default) | test | production"
    )
    data_dir: Path = Path("./var")
    database_url: str | None = None
    # PostgreSQL: `SET ROLE` on every pooled connection to a role subject to row-level
    # security (created by the migrations); empty disables the switch. Ignored on SQLite.
    database_role: str = "luneo_app"
    redis_url: str | None = None
    storage_url: str | None = None  # s3://bucket/prefix ; None ⇒ local disk under data_dir/storage
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19456
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 30 * 24 * 3600
    signed_url_ttl_s: int = 3600
    # Dashboard: the support chat (Crisp website id; without it the help link is a mailto).
    crisp_website_id: str | None = None
    support_email: str = "support@luneo.app"
    # External identity provider (e.g. Supabase): HS256 shared secret or a JWKS URL.
    idp_jwt_secret: SecretStr | None = None
    idp_jwks_url: str | None = None
    idp_issuer: str | None = None
    idp_audience: str | None = "authenticated"
    # Limits
    max_body_bytes: int = 25 * 1024 * 1024
    max_json_body_bytes: int = 1024 * 1024
    rate_limit_key: str = "600/minute"
    rate_limit_ip: str = "1200/minute"  # every request, whatever its credential
    rate_limit_login: str = "10/minute"  # POST /auth/login per account (email)
    rate_limit_upload_ip: str = "30/minute"  # upload routes (photos, assets, fonts) per client IP
    # Proxies whose X-Forwarded-For is believed: comma-separated IPs / CIDRs (default: none).
    trusted_proxies: str = ""
    # When set, GET /metrics needs `Authorization: Bearer <token>`.
    metrics_token: SecretStr | None = None
    idempotency_ttl_s: int = 24 * 3600
    # An in-flight idempotency record older than this (its request died) may be taken over by a retry.
    idempotency_lock_timeout_s: int = 60
    # In-process caches, bounded in MiB per process: stored brand files (fonts, images) used
    # by renders and exports, and finished preview images.
    resource_cache_mb: int = Field(default=256, ge=0)
    preview_cache_mb: int = Field(default=64, ge=0)
    # Jobs
    # The Dramatiq broker of the job runtime: `amqp://…` (RabbitMQ) or `redis://…`; unset ⇒
    # `redis_url`; neither ⇒ the embedded runtime (Dramatiq's StubBroker in this process).
    broker_url: str | None = None
    # `luneo worker` serves its job metrics on this port (`/metrics`); 0 disables it.
    worker_metrics_port: int = Field(default=9191, ge=0, le=65535)
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
    dev_webhook_secret: SecretStr = SecretStr(DEFAULT_DEV_WEBHOOK_SECRET)
    sentry_dsn: SecretStr | None = None
    # Shopify app (integrations.shopify): the partner app's client id and secret, the scopes it
    # asks for, the Admin API version every call and webhook is pinned to, and (tests only) a
    # base URL that replaces `https://{shop}` for token exchange, refresh and Admin API calls.
    shopify_api_key: str | None = None
    shopify_api_secret: SecretStr | None = None
    shopify_scopes: str = (
        "read_products,write_products,read_orders,write_orders,write_cart_transforms,write_validations"
    )
    shopify_api_version: str = "2026-10"
    shopify_admin_base_url: str | None = None
    # Outgoing webhooks (luneo.webhooks): endpoints must resolve to public addresses; this lets them
    # point at loopback or private networks for local development only (refused in production).
    webhooks_allow_private: bool = False
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxies(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"LUNEO_TRUSTED_PROXIES: {part!r} is not an IP address or CIDR") from None
        return value

    @property
    def is_production(self) -> bool:
        """`LUNEO_ENV=production`: public defaults and development conveniences are refused."""
        return self.env == "production"

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """`LUNEO_TRUSTED_PROXIES` parsed (empty: X-Forwarded-For is never believed)."""
        return tuple(
            ipaddress.ip_network(p, strict=False)
            for p in (part.strip() for part in self.trusted_proxies.split(","))
            if p
        )

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


class InsecureConfiguration(RuntimeError):
    """The process refuses to start: a production setting is unsafe (the message says which)."""


def production_problems(settings: Settings, *, seeding_demo: bool = False) -> list[str]:
    """What makes `settings` unsafe for production, one line per setting to fix (empty: fine)."""
    if not settings.is_production:
        return []
    problems: list[str] = []
    secret = settings.secret_key.get_secret_value()
    if secret == DEFAULT_SECRET_KEY:
        problems.append(
            "LUNEO_SECRET_KEY is the public development default: set a long random value "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
        )
    elif len(secret.encode()) < MIN_SECRET_BYTES:
        problems.append(f"LUNEO_SECRET_KEY is shorter than {MIN_SECRET_BYTES} bytes: set a long random value")
    stripe = settings.stripe_secret_key is not None
    paypal = bool(settings.paypal_client_id and settings.paypal_client_secret)
    if not stripe and not paypal:
        problems.append(
            "the dev payment provider would be used: configure LUNEO_STRIPE_SECRET_KEY "
            "(+ LUNEO_STRIPE_WEBHOOK_SECRET) or LUNEO_PAYPAL_CLIENT_ID / LUNEO_PAYPAL_CLIENT_SECRET"
        )
        if settings.dev_webhook_secret.get_secret_value() == DEFAULT_DEV_WEBHOOK_SECRET:
            problems.append("LUNEO_DEV_WEBHOOK_SECRET is the public development default")
    if stripe and settings.stripe_webhook_secret is None:
        problems.append("LUNEO_STRIPE_WEBHOOK_SECRET is not set: Stripe events could not be verified")
    host = (urlsplit(settings.public_base_url).hostname or "").lower()
    loopback = host in ("", "localhost") or host.endswith(".localhost")
    with contextlib.suppress(ValueError):
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    if loopback:
        problems.append(
            f"LUNEO_PUBLIC_BASE_URL is {settings.public_base_url!r} (loopback): set the public https URL "
            "(signed links and payment redirects use it)"
        )
    if settings.webhooks_allow_private:
        problems.append(
            "LUNEO_WEBHOOKS_ALLOW_PRIVATE=true lets webhook endpoints reach loopback and private "
            "networks (SSRF): it is for local development only"
        )
    if seeding_demo:
        problems.append(
            "demo seeding (public demo password and keys) is development-only: "
            "run `luneo serve` without --seed (the production default is --no-seed)"
        )
    return problems


def check_production_settings(settings: Settings, *, seeding_demo: bool = False) -> None:
    """Refuse to start (raise `InsecureConfiguration`) with a public default or development
    convenience when `LUNEO_ENV=production`; called by `create_app` and the CLI (serve, worker)."""
    problems = production_problems(settings, seeding_demo=seeding_demo)
    if problems:
        raise InsecureConfiguration(
            "LUNEO_ENV=production refuses to start:\n" + "\n".join(f"  - {p}" for p in problems)
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings object (tests may call `get_settings.cache_clear()`)."""
    return Settings()

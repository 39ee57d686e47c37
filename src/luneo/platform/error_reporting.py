"""Sentry: initialised when `LUNEO_SENTRY_DSN` is set (API and workers), and the context every
event carries — the caller's brand and user (tagged where a request is authenticated), the
`spec_hash` a request or job works on, and, in workers, the job actor, job and request ids
(`job_observability.RequestIdPropagation`). Without a DSN every helper here is a no-op."""

from __future__ import annotations

import sys
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

import sentry_sdk

if TYPE_CHECKING:
    from luneo.platform.config import Settings


def init_sentry(settings: Settings, **options: Any) -> bool:
    """Start Sentry when a DSN is configured (no personal data sent); True when started."""
    if settings.sentry_dsn is None:
        return False
    from luneo import __version__

    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        send_default_pii=False,
        environment=settings.env,
        release=f"luneo@{__version__}",
        **options,
    )
    return True


def tag_caller(*, brand_id: str | None, user_id: str | None, api_key_id: str | None = None) -> None:
    """Brand and user (or API key) of the authenticated caller, on this request's events."""
    if not sentry_sdk.is_initialized():
        return
    scope = sentry_sdk.get_isolation_scope()
    if brand_id:
        scope.set_tag("brand_id", brand_id)
    if user_id:
        scope.set_user({"id": user_id})
    if api_key_id:
        scope.set_tag("api_key_id", api_key_id)


def tag_spec_hash(spec_hash: str | None) -> None:
    """The DesignSpec hash this request or job works on."""
    if spec_hash and sentry_sdk.is_initialized():
        sentry_sdk.get_isolation_scope().set_tag("spec_hash", spec_hash)


def _exc_info(value: Any) -> Any:
    if value is True:
        return sys.exc_info()
    if isinstance(value, BaseException):
        return (type(value), value, value.__traceback__)
    return value if isinstance(value, tuple) else None


def send_errors_to_sentry(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: an `error`/`critical` line of ours becomes a Sentry event (with its
    exception when it has one), in the current scope — so a job that fails without raising, or a
    request that logs an error, is reported with its brand, user, spec_hash and job tags.
    (Stdlib loggers' errors reach Sentry through its own logging integration.)"""
    if event.get("level") not in ("error", "critical") or not sentry_sdk.is_initialized():
        return event
    exc_info = _exc_info(event.get("exc_info"))
    with sentry_sdk.new_scope() as scope:
        scope.set_context("log", {k: v for k, v in event.items() if k not in ("event", "exc_info")})
        scope.set_tag("log_event", str(event.get("event")))
        if exc_info is not None and exc_info[0] is not None:
            sentry_sdk.capture_exception(exc_info)
        else:
            sentry_sdk.capture_message(str(event.get("event")), level="error")
    return event

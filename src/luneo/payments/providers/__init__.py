"""Payment providers behind one interface; `get_provider()` picks the configured one."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from luneo.payments.providers.base import (
    CheckoutRequest,
    CheckoutSession,
    LineItem,
    PaymentProvider,
    ProviderError,
    ProviderEvent,
    SignatureError,
)
from luneo.platform.config import Settings, get_settings

__all__ = [
    "CheckoutRequest",
    "CheckoutSession",
    "LineItem",
    "PaymentProvider",
    "ProviderError",
    "ProviderEvent",
    "SignatureError",
    "active_provider_name",
    "dev_provider_allowed",
    "get_provider",
]

_cache: dict[tuple[Any, ...], Any] = {}


def active_provider_name(settings: Settings | None = None) -> str:
    """`stripe` when its secret key is set, else `paypal` when its client id + secret are, else `dev`."""
    s = settings or get_settings()
    if s.stripe_secret_key is not None:
        return "stripe"
    if s.paypal_client_id and s.paypal_client_secret:
        return "paypal"
    return "dev"


def dev_provider_allowed(settings: Settings | None = None) -> bool:
    """The embedded dev provider (its hosted checkout and its public webhook secret) exists only
    outside production (`LUNEO_ENV` is not `production`)."""
    s = settings or get_settings()
    return str(s.env).strip().lower() != "production"


def get_provider(
    name: str | None = None, *, session: Session | None = None, settings: Settings | None = None
) -> PaymentProvider:
    """The provider called `name` (default: the configured one). The dev provider stores its
    hosted checkouts through `session`. Stripe / PayPal clients are reused per configuration."""
    s = settings or get_settings()
    name = name or active_provider_name(s)
    if name == "stripe":
        if s.stripe_secret_key is None:
            raise ProviderError(
                "Stripe is not configured (LUNEO_STRIPE_SECRET_KEY)", code="provider_not_configured"
            )
        from luneo.payments.providers.stripe import StripeProvider

        whsec = s.stripe_webhook_secret.get_secret_value() if s.stripe_webhook_secret else None
        skey: tuple[Any, ...] = ("stripe", s.stripe_secret_key.get_secret_value(), whsec, s.stripe_api_base)
        if skey not in _cache:
            _cache[skey] = StripeProvider(skey[1], whsec, api_base=s.stripe_api_base)
        return _cache[skey]  # type: ignore[no-any-return]
    if name == "paypal":
        if not (s.paypal_client_id and s.paypal_client_secret):
            raise ProviderError(
                "PayPal is not configured (LUNEO_PAYPAL_CLIENT_ID / _SECRET)", code="provider_not_configured"
            )
        from luneo.payments.providers.paypal import PayPalProvider

        pkey: tuple[Any, ...] = (
            "paypal",
            s.paypal_client_id,
            s.paypal_client_secret.get_secret_value(),
            s.paypal_api_base,
            s.paypal_webhook_id,
        )
        if pkey not in _cache:
            _cache[pkey] = PayPalProvider(
                pkey[1], pkey[2], api_base=s.paypal_api_base, webhook_id=s.paypal_webhook_id
            )
        return _cache[pkey]  # type: ignore[no-any-return]
    if name == "dev":
        if not dev_provider_allowed(s):
            raise ProviderError(
                "The dev payment provider does not exist in production: configure Stripe "
                "(LUNEO_STRIPE_SECRET_KEY) or PayPal (LUNEO_PAYPAL_CLIENT_ID / _SECRET)",
                code="provider_not_configured",
            )
        from luneo.payments.providers.dev import DevProvider

        return DevProvider(s.dev_webhook_secret.get_secret_value(), s.public_base_url, session=session)
    raise ProviderError(f"Unknown payment provider {name!r}", code="unknown_provider")

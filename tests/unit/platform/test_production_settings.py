"""The production start-up check: no public default secret, no dev provider, no demo seeding."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from luneo.platform.config import (
    DEFAULT_DEV_WEBHOOK_SECRET,
    DEFAULT_SECRET_KEY,
    InsecureConfiguration,
    Settings,
    check_production_settings,
)

STRONG = "k" * 48


def _prod(**kw):
    base = {
        "env": "production",
        "secret_key": STRONG,
        "stripe_secret_key": "sk_test_x",
        "stripe_webhook_secret": "whsec_real_stripe_secret",
        "public_base_url": "https://api.brand.example",
    }
    base.update(kw)
    return Settings(_env_file=None, **base)


def test_env_is_explicit_and_validated():
    assert Settings(_env_file=None).env == "development"
    assert not Settings(_env_file=None).is_production
    assert _prod().is_production
    with pytest.raises(ValidationError):
        Settings(_env_file=None, env="prod")


def test_development_accepts_the_defaults():
    s = Settings(_env_file=None)
    assert s.secret_key.get_secret_value() == DEFAULT_SECRET_KEY
    check_production_settings(s, seeding_demo=True)  # development: nothing refused


def test_a_good_production_configuration_starts():
    check_production_settings(_prod())
    check_production_settings(
        _prod(
            stripe_secret_key=None,
            stripe_webhook_secret=None,
            paypal_client_id="id",
            paypal_client_secret="sec",
        )
    )


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"secret_key": DEFAULT_SECRET_KEY}, "LUNEO_SECRET_KEY"),
        ({"secret_key": "short-but-not-default"}, "LUNEO_SECRET_KEY"),
        ({"secret_key": "é" * 15}, "LUNEO_SECRET_KEY"),  # 30 bytes
        ({"stripe_secret_key": None, "stripe_webhook_secret": None}, "LUNEO_STRIPE_SECRET_KEY"),
        ({"stripe_webhook_secret": None}, "LUNEO_STRIPE_WEBHOOK_SECRET"),
        ({"public_base_url": "http://127.0.0.1:8000"}, "LUNEO_PUBLIC_BASE_URL"),
    ],
)
def test_production_refuses_unsafe_settings_and_names_them(overrides, setting):
    with pytest.raises(InsecureConfiguration) as exc:
        check_production_settings(_prod(**overrides))
    assert setting in str(exc.value)
    assert "LUNEO_ENV=production" in str(exc.value)


def test_dev_provider_with_default_webhook_secret_names_both():
    s = _prod(stripe_secret_key=None, stripe_webhook_secret=None)
    assert s.dev_webhook_secret.get_secret_value() == DEFAULT_DEV_WEBHOOK_SECRET
    with pytest.raises(InsecureConfiguration) as exc:
        check_production_settings(s)
    assert "LUNEO_DEV_WEBHOOK_SECRET" in str(exc.value) and "dev payment provider" in str(exc.value)


def test_production_refuses_demo_seeding():
    with pytest.raises(InsecureConfiguration) as exc:
        check_production_settings(_prod(), seeding_demo=True)
    assert "--no-seed" in str(exc.value)


def test_trusted_proxies_parse_ips_and_cidrs():
    s = Settings(_env_file=None, trusted_proxies="10.0.0.0/8, 127.0.0.1 ,::1")
    nets = s.trusted_proxy_networks
    assert len(nets) == 3
    with pytest.raises(ValidationError):
        Settings(_env_file=None, trusted_proxies="not-an-ip")
    assert Settings(_env_file=None).trusted_proxy_networks == ()

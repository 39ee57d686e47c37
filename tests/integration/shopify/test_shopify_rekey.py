"""Shopify after an operator changed `LUNEO_SECRET_KEY`: the stored tokens and property secret can
no longer be decrypted; opening the embedded app again exchanges fresh tokens and replaces the
property secret, so the proxy signs (and orders verify) with the new one."""

from __future__ import annotations

import pytest

from tests.integration.factories.designs import make_snapshot
from tests.integration.shopify.test_shopify import _map, fake, install, integration, open_app, proxy_url

__all__ = ["fake"]

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


def test_opening_the_app_after_a_key_change_stores_new_tokens_and_secret(client, brand_a, fake, monkeypatch):
    from luneo.integrations.shopify import crypto, service
    from luneo.platform import config
    from luneo.platform.config import get_settings
    from luneo.platform.database import get_db
    from luneo.platform.domain_errors import DomainError
    from tests.integration.demo import seed_catalog

    before = install(client, brand_a)
    _map(brand_a, seed_catalog(brand_a)["DEMO-PENDANT"])
    snap = make_snapshot(client, brand_a)
    old_props = client.post(proxy_url("properties"), json={"snapshot_id": snap}).json()["properties"]
    old_token = crypto.decrypt(get_settings(), before.access_token_enc)

    monkeypatch.setenv("LUNEO_SECRET_KEY", "rotated-" + "k" * 56)
    config.get_settings.cache_clear()
    settings = get_settings()
    assert settings.secret_key.get_secret_value().startswith("rotated-")
    with pytest.raises(ValueError):  # the stored values are now unreadable
        crypto.decrypt(settings, before.access_token_enc)

    # Until the app is opened again: a clear 409, never a 500.
    r = client.post(proxy_url("properties"), json={"snapshot_id": snap})
    assert r.status_code == 409 and r.json()["code"] == "shopify_reinstall_required", r.text
    with pytest.raises(DomainError):
        service.access_token(get_db(), settings, brand_a.id, before.id)

    r = open_app(client)
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith("/dashboard?embedded=1")
    assert len(fake.grants(TOKEN_EXCHANGE)) == 2  # a fresh exchange
    after = integration()
    assert after.token_version > before.token_version and after.status == "active"
    new_token = crypto.decrypt(settings, after.access_token_enc)
    assert new_token in fake.access_tokens and new_token != old_token
    assert crypto.decrypt(settings, after.refresh_token_enc)
    assert service.access_token(get_db(), settings, brand_a.id, after.id) == new_token

    # The property secret was replaced: new properties verify, the ones signed before do not.
    secret = service.property_secret(settings, after)
    r = client.post(proxy_url("properties"), json={"snapshot_id": snap})
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert service.verify_properties(secret, props)
    assert not service.verify_properties(secret, old_props)

    # Opening it once more changes nothing: the new values are readable.
    assert open_app(client).status_code == 303
    assert len(fake.grants(TOKEN_EXCHANGE)) == 2
    assert service.property_secret(settings, integration()) == secret

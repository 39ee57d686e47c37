"""Fulfilment after an operator changed `LUNEO_SECRET_KEY`: a stored Printful token or SFTP
password can no longer be decrypted. The hand-off fails with a clear error on its row (never a
500, no endless retries); saving the configuration again and retrying sends it."""

from __future__ import annotations

from pydantic import SecretStr

from tests.integration.factories.manufacturing import run_jobs
from tests.integration.fulfilment.test_printful import configure as configure_printful
from tests.integration.fulfilment.test_printful import fake, handoffs, paid_order
from tests.integration.fulfilment.test_sftp import _uploaded, shop
from tests.integration.fulfilment.test_sftp import configure as configure_sftp

__all__ = ["fake", "shop"]

UNREADABLE = "stored secret unreadable: enter it again"


def _under_previous_key(model, column: str) -> None:
    """Make a stored secret what it is after a key change: a token of the previous key."""
    from sqlalchemy import select

    from luneo.fulfilment import crypto
    from luneo.platform.config import get_settings
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system

    old = get_settings().model_copy(update={"secret_key": SecretStr("the-previous-key-" + "x" * 48)})
    with get_db().transaction() as s:
        bind_system(s)
        for row in s.execute(select(model)).scalars():
            setattr(row, column, crypto.encrypt(old, "an old secret"))


def test_unreadable_printful_token_fails_clearly_until_entered_again(client, brand_a, cat_a, fake):
    from luneo.fulfilment.models import PrintfulConfig
    from tests.integration.fulfilment.fake_printful import TOKEN

    configure_printful(client, brand_a, cat_a["DEMO-TSHIRT"])
    _under_previous_key(PrintfulConfig, "api_token_enc")
    order_id = paid_order(client, brand_a, cat_a["DEMO-TSHIRT"])
    assert set(run_jobs("export_pack")) == {"success"}
    assert run_jobs("fulfilment.printful_submit") == ["success"]  # written on the row, not retried
    [h] = handoffs(client, brand_a, order_id)
    assert h["status"] == "failed" and UNREADABLE in h["error"] and not fake.orders
    r = client.post("/api/v1/fulfilment/printful/register-webhook", headers=brand_a.h())
    assert r.status_code == 409 and UNREADABLE in r.json()["detail"], r.text

    # Printful's webhooks signed with an unreadable secret: refused as unsigned (401), never a 500.
    cfg = client.put(
        "/api/v1/fulfilment/printful", headers=brand_a.h(), json={"webhook_secret": "ab" * 32}
    ).json()
    _under_previous_key(PrintfulConfig, "webhook_secret_enc")
    r = client.post(f"/hooks/printful/{cfg['id']}", content=b"{}", headers={"X-PF-Webhook-Signature": "ab"})
    assert r.status_code == 401 and r.json()["code"] == "printful_webhook_signature_invalid"

    r = client.put("/api/v1/fulfilment/printful", headers=brand_a.h(), json={"api_token": TOKEN})
    assert r.status_code == 200, r.text
    assert client.post(f"/api/v1/orders/{order_id}/fulfilment/retry", headers=brand_a.h()).status_code == 200
    assert run_jobs("fulfilment.printful_submit") == ["success"]
    [h] = handoffs(client, brand_a, order_id)
    assert h["status"] == "confirmed" and h["error"] is None and len(fake.orders) == 1


def test_unreadable_sftp_password_fails_clearly_until_entered_again(client, brand_a, cat_a, shop):
    from luneo.fulfilment.models import HandoffTarget

    assert configure_sftp(client, brand_a, shop).status_code == 200
    _under_previous_key(HandoffTarget, "sftp_password_enc")
    order_id = paid_order(client, brand_a, cat_a["DEMO-TSHIRT"])
    assert set(run_jobs("export_pack")) == {"success"}
    assert run_jobs("fulfilment.handoff_send") == ["success"]  # written on the row, not retried
    [h] = handoffs(client, brand_a, order_id)
    assert h["status"] == "failed" and UNREADABLE in h["error"]
    assert shop.auth_attempts == 0 and _uploaded(shop) == {}

    assert configure_sftp(client, brand_a, shop).status_code == 200  # the password entered again
    assert client.post(f"/api/v1/orders/{order_id}/fulfilment/retry", headers=brand_a.h()).status_code == 200
    assert run_jobs("fulfilment.handoff_send") == ["success"]
    [h] = handoffs(client, brand_a, order_id)
    assert h["status"] == "sent" and h["error"] is None and len(_uploaded(shop)) == 1


def test_unreadable_https_signing_secret_fails_clearly(client, brand_a, cat_a, monkeypatch):
    from luneo.fulfilment.models import HandoffTarget
    from luneo.platform import config

    monkeypatch.setenv("LUNEO_WEBHOOKS_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("LUNEO_ENV", "development")
    config.get_settings.cache_clear()
    r = client.put(
        "/api/v1/fulfilment/handoff",
        headers=brand_a.h(),
        json={"kind": "https", "url": "http://127.0.0.1:9/packs", "secret": "s" * 32},
    )
    assert r.status_code == 200, r.text
    _under_previous_key(HandoffTarget, "secret_enc")
    order_id = paid_order(client, brand_a, cat_a["DEMO-TSHIRT"])
    assert set(run_jobs("export_pack")) == {"success"}
    assert run_jobs("fulfilment.handoff_send") == ["success"]
    [h] = handoffs(client, brand_a, order_id)
    assert h["status"] == "failed" and UNREADABLE in h["error"]
    config.get_settings.cache_clear()

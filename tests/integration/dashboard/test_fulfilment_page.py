"""Dashboard: the fulfilment page (issue 17, item 7) — Printful settings (secrets write-only),
product mappings, the print shop hand-off (HTTPS or SFTP, secrets write-only), the latest
hand-offs with retry; validation errors next to their field; another brand's ids answer 404;
roles without `brand:manage` get 403."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from luneo.platform.database import get_db
from luneo.platform.tenancy import bind_system
from tests.integration.demo import seed_catalog

from .helpers import post, sign_in
from .orders_helpers import member

BASE = "/dashboard/fulfilment"
FP = "SHA256:" + "Q" * 43


def _row(model: Any) -> Any:
    with get_db().transaction(write=False) as s:
        bind_system(s)
        return s.execute(select(model)).scalar_one_or_none()


def test_printful_settings_are_saved_and_secrets_never_shown(client: Any, brand_a: Any) -> None:
    from luneo.fulfilment.models import PrintfulConfig

    csrf = sign_in(client, brand_a.owner_email)
    page = client.get(BASE)
    assert page.status_code == 200 and "Printful" in page.text
    assert 'href="/dashboard/fulfilment"' in page.text  # nav entry
    r = post(
        client,
        f"{BASE}/printful",
        csrf,
        {
            "api_token": "pf-secret-token-123",
            "store_id": "4242",
            "webhook_secret": "ab" * 16,
            "enabled": "on",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == f"{BASE}?saved=printful"
    cfg = _row(PrintfulConfig)
    assert cfg.store_id == "4242" and cfg.api_token_enc and "pf-secret" not in cfg.api_token_enc
    page = client.get(f"{BASE}?saved=printful")
    assert "The Printful settings were saved." in page.text
    assert "pf-secret-token-123" not in page.text and "ab" * 16 not in page.text
    assert f"/hooks/printful/{cfg.id}" in page.text
    # an empty token keeps the stored one
    token = cfg.api_token_enc
    assert post(client, f"{BASE}/printful", csrf, {"store_id": "4242"}).status_code == 303
    assert _row(PrintfulConfig).api_token_enc == token
    # a bad store id is shown next to its field, nothing written
    r = post(client, f"{BASE}/printful", csrf, {"store_id": "not-a-number"})
    assert r.status_code == 422 and 'id="f-store_id-error"' in r.text and 'aria-invalid="true"' in r.text
    assert _row(PrintfulConfig).store_id == "4242"
    fr = client.get(f"{BASE}?lang=fr")
    assert "Votre atelier d’impression" in fr.text and "Produits fabriqués par Printful" in fr.text


def test_mappings_are_added_validated_and_removed(client: Any, brand_a: Any, brand_b: Any) -> None:
    from luneo.fulfilment.models import PrintfulMapping

    product = seed_catalog(brand_a)["DEMO-TSHIRT"]
    theirs = seed_catalog(brand_b)["DEMO-TSHIRT"]
    csrf = sign_in(client, brand_a.owner_email)
    r = post(client, f"{BASE}/mappings", csrf, {"product": product, "catalog_variant_id": "abc"})
    assert r.status_code == 422 and 'id="f-catalog_variant_id-error"' in r.text
    r = post(client, f"{BASE}/mappings", csrf, {"product": "", "catalog_variant_id": "4012"})
    assert r.status_code == 422 and 'id="f-product-error"' in r.text
    r = post(client, f"{BASE}/mappings", csrf, {"product": theirs, "catalog_variant_id": "4012"})
    assert r.status_code == 422 and 'id="f-product-error"' in r.text  # another brand's product
    r = post(
        client,
        f"{BASE}/mappings",
        csrf,
        {"product": product, "catalog_variant_id": "4012", "placement": "front", "technique": "dtg"},
    )
    assert r.status_code == 303
    m = _row(PrintfulMapping)
    assert (m.product_id, m.catalog_variant_id, m.placement) == (product, 4012, "front")
    assert "4012" in client.get(BASE).text
    assert post(client, f"{BASE}/mappings/{theirs}/delete", csrf).status_code == 404
    assert post(client, f"{BASE}/mappings/{product}/delete", csrf).status_code == 303
    assert _row(PrintfulMapping) is None


def test_handoff_https_and_sftp_with_errors_next_to_fields(client: Any, brand_a: Any) -> None:
    from luneo.fulfilment.models import HandoffTarget

    csrf = sign_in(client, brand_a.owner_email)
    r = post(
        client,
        f"{BASE}/handoff",
        csrf,
        {"kind": "https", "url": "http://print.example/x", "secret": "s" * 20},
    )
    assert r.status_code == 422 and 'id="f-url-error"' in r.text and _row(HandoffTarget) is None
    r = post(client, f"{BASE}/handoff", csrf, {"kind": "https", "url": "https://print.example/x"})
    assert r.status_code == 422 and 'id="f-secret-error"' in r.text
    r = post(
        client,
        f"{BASE}/handoff",
        csrf,
        {
            "kind": "https",
            "url": "https://print.example/x",
            "method": "PUT",
            "secret": "shop-secret-0123456789",
            "enabled": "on",
        },
    )
    assert r.status_code == 303
    t = _row(HandoffTarget)
    assert (t.kind, t.url, t.method, t.enabled) == ("https", "https://print.example/x", "PUT", True)
    assert "shop-secret-0123456789" not in client.get(BASE).text
    sftp = {
        "kind": "sftp",
        "host": "files.example",
        "port": "2222",
        "username": "shop",
        "directory": "/in",
        "host_key": "nope",
        "password": "pw-123",
        "enabled": "on",
    }
    r = post(client, f"{BASE}/handoff", csrf, sftp)
    assert r.status_code == 422 and 'id="f-host_key-error"' in r.text
    r = post(client, f"{BASE}/handoff", csrf, {**sftp, "host_key": FP, "password": ""})
    assert r.status_code == 422 and 'id="f-password-error"' in r.text
    r = post(client, f"{BASE}/handoff", csrf, {**sftp, "host_key": FP, "port": "70000"})
    assert r.status_code == 422 and 'id="f-port-error"' in r.text
    r = post(client, f"{BASE}/handoff", csrf, {**sftp, "host": "10.0.0.7", "host_key": FP})
    assert r.status_code == 422 and 'id="f-host-error"' in r.text
    r = post(client, f"{BASE}/handoff", csrf, {**sftp, "host_key": FP})
    assert r.status_code == 303
    t = _row(HandoffTarget)
    assert (t.kind, t.sftp_host, t.sftp_port, t.sftp_dir, t.sftp_host_key) == (
        "sftp",
        "files.example",
        2222,
        "/in",
        FP,
    )
    assert t.sftp_password_enc and "pw-123" not in t.sftp_password_enc
    page = client.get(BASE)
    assert "pw-123" not in page.text and FP in page.text
    # the password is kept when left empty
    assert post(client, f"{BASE}/handoff", csrf, {**sftp, "host_key": FP, "password": ""}).status_code == 303
    assert _row(HandoffTarget).sftp_password_enc == t.sftp_password_enc
    assert post(client, f"{BASE}/handoff/delete", csrf).status_code == 303
    assert _row(HandoffTarget) is None


def test_handoff_status_list_and_retry(client: Any, brand_a: Any, brand_b: Any) -> None:
    from luneo.fulfilment.models import Handoff
    from luneo.platform.tenancy import bind_tenant

    from .orders_helpers import paid_order

    order, _ = paid_order(client, brand_a)
    theirs, _ = paid_order(client, brand_b)
    with get_db().transaction() as s:
        bind_tenant(s, brand_a.id)
        s.add(
            Handoff(
                brand_id=brand_a.id,
                key="sftp:wo:x",
                kind="sftp",
                order_id=order["id"],
                status="failed",
                attempts=3,
                error="authentication failed for shop",
            )
        )
    csrf = sign_in(client, brand_a.owner_email)
    page = client.get(BASE)
    assert (
        "authentication failed for shop" in page.text
        and f"/fulfilment/orders/{order['id']}/retry" in page.text
    )
    assert post(client, f"{BASE}/orders/{theirs['id']}/retry", csrf).status_code == 404
    r = post(client, f"{BASE}/orders/{order['id']}/retry", csrf)
    assert r.status_code == 303
    h = _row(Handoff)
    assert (h.status, h.error) == ("pending", None)


def test_roles_without_brand_manage_get_403(client: Any, brand_a: Any) -> None:
    for role in ("editor", "production", "viewer"):
        client.cookies.clear()
        csrf = sign_in(client, member(brand_a, role))
        assert client.get(BASE).status_code == 403, role
        assert post(client, f"{BASE}/printful", csrf, {"store_id": "1"}).status_code == 403, role
        assert 'href="/dashboard/fulfilment"' not in client.get("/dashboard").text
    client.cookies.clear()
    sign_in(client, member(brand_a, "admin"))
    assert client.get(BASE).status_code == 200

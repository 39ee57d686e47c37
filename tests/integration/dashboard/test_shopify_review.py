"""Dashboard: Shopify orders held for review (issue 15 item 7) are visible to the brand — a
"Needs review" list on the Shopify page (order name, reasons, link to the Luneo order), the
reasons on the Luneo order's page and "Approve and produce" (the offline mark-paid transition,
audited) for `payments:offline`; another brand's order answers 404, roles without it 403."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from luneo.platform.database import get_db
from luneo.platform.tenancy import bind_system, bind_tenant
from tests.integration.demo import seed_catalog
from tests.integration.shopify.test_shopify import webhook
from tests.integration.shopify.test_shopify_orders import (
    fake,
    line,
    luneo_orders,
    paid_order,
    personalized,
    run,
    setup_shop,
    shopify_orders,
    work_orders,
)

from .helpers import post, sign_in

__all__ = ["fake"]
PASSWORD = "correct horse battery"


def _held_order(client: Any, brand: Any) -> tuple[Any, dict[str, Any]]:
    """A Shopify order whose signature is forged: held for review."""
    product = setup_shop(client, brand)
    props, price = personalized(client, brand, product)
    props["_luneo_sig"] = "0" * 64
    body = paid_order([line(props, price)])
    body["name"] = "#1042"
    webhook(client, "orders/paid", body, event_id="ev-held")
    assert run("shopify.webhook") == ["success"]
    [order] = luneo_orders()
    assert order.payment_status == "mismatch" and work_orders() == []
    return order, body


def test_held_order_is_listed_with_its_reasons_and_approved_into_production(
    client: Any, brand_a: Any, fake: Any
) -> None:
    order, _ = _held_order(client, brand_a)
    csrf = sign_in(client, brand_a.owner_email)
    page = client.get("/dashboard/integrations/shopify")
    assert page.status_code == 200, page.text[:500]
    assert "Needs review" in page.text and "#1042" in page.text
    assert "The personalization signature is not valid" in page.text
    assert f'href="/dashboard/orders/{order.id}"' in page.text
    fr = client.get("/dashboard/integrations/shopify?lang=fr")
    assert "À vérifier" in fr.text
    detail = client.get(f"/dashboard/orders/{order.id}")
    assert detail.status_code == 200
    assert "Held for review in Shopify" in detail.text
    assert "The personalization signature is not valid" in detail.text
    approve = f"/dashboard/integrations/shopify/orders/{order.id}/approve"
    assert f'action="{approve}"' in detail.text
    r = post(client, approve, csrf, {"note": "Checked the design with the customer"})
    assert r.status_code == 303 and r.headers["location"].startswith(f"/dashboard/orders/{order.id}")
    [paid] = luneo_orders()
    assert paid.status == "paid" and paid.payment_status == "paid"
    assert len(work_orders(order.id)) == 1
    [rec] = shopify_orders()
    assert rec.status == "accepted"
    from luneo.platform.models import AuditEvent

    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        actions = [a.action for a in s.execute(select(AuditEvent)).scalars()]
    assert "payment.offline_recorded" in actions
    # Shopify emailed the buyer at checkout: approving sends no second confirmation.
    from luneo.notifications.models import EmailMessage

    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        templates = [m.template for m in s.execute(select(EmailMessage)).scalars()]
    assert "order_confirmation" not in templates
    # No longer listed; approving again is refused (409), not a second payment.
    assert "#1042" not in client.get("/dashboard/integrations/shopify").text
    again = post(client, approve, csrf, {"note": "again"})
    assert again.status_code == 409
    assert "Held for review in Shopify" not in client.get(f"/dashboard/orders/{order.id}").text


def test_another_brands_held_order_answers_404(client: Any, brand_a: Any, brand_b: Any, fake: Any) -> None:
    order, _ = _held_order(client, brand_b)
    csrf = sign_in(client, brand_a.owner_email)
    r = post(client, f"/dashboard/integrations/shopify/orders/{order.id}/approve", csrf, {"note": "x"})
    assert r.status_code == 404
    assert luneo_orders()[0].status == "pending"


def test_roles_without_offline_payments_get_403(client: Any, brand_a: Any, fake: Any) -> None:
    from luneo.tenancy import service

    order, _ = _held_order(client, brand_a)
    with get_db().transaction() as s:
        bind_system(s)
        user = service.create_user(s, email="ed@alpha.example", password=PASSWORD)
        bind_tenant(s, brand_a.id)
        service.add_member(s, brand_id=brand_a.id, user_id=user.id, role="editor")
    csrf = sign_in(client, "ed@alpha.example")
    detail = client.get(f"/dashboard/orders/{order.id}")
    assert detail.status_code == 200 and "Approve and produce" not in detail.text
    r = post(client, f"/dashboard/integrations/shopify/orders/{order.id}/approve", csrf, {"note": "x"})
    assert r.status_code == 403
    assert luneo_orders()[0].status == "pending"


def test_mapping_from_the_page_keeps_the_shopify_title(client: Any, brand_a: Any, fake: Any) -> None:
    from tests.integration.shopify.test_shopify import install

    row = install(client, brand_a)
    pendant = seed_catalog(brand_a)["DEMO-PENDANT"]
    fake.graphql.add_product(7001, "Gold pendant")
    csrf = sign_in(client, brand_a.owner_email)
    page = client.get("/dashboard/integrations/shopify")
    assert 'name="title" value="Gold pendant"' in page.text
    r = post(
        client,
        f"/dashboard/integrations/shopify/{row.id}/map",
        csrf,
        {"shopify_product": "7001", "product": pendant, "title": "Gold pendant"},
    )
    assert r.status_code == 303
    from luneo.integrations.shopify.models import ShopifyProductMapping

    with get_db().transaction(write=False) as s:
        bind_system(s)
        [m] = s.execute(select(ShopifyProductMapping)).scalars()
    assert m.title == "Gold pendant"
    assert "Gold pendant <code>7001</code>" in client.get("/dashboard/integrations/shopify").text

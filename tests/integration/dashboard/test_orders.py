"""Dashboard orders: list filters, search and cursor pages; an order's page (preview, approval,
spec_hash, payments, history); refunds full and partial; mark shipped; isolation and roles."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from luneo.commerce.models import Order
from luneo.notifications.models import EmailMessage
from luneo.platform.database import get_db
from luneo.platform.tenancy import bind_tenant
from tests.integration.commerce_helpers import priced_product

from .helpers import csrf_of, post, sign_in
from .orders_helpers import count_queries, member, paid_order, place_order


def _order(brand_id: str, order_id: str) -> Order:
    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return s.execute(select(Order).where(Order.id == order_id)).scalar_one()


def _emails(brand_id: str, template: str) -> list[EmailMessage]:
    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_id)
        rows = list(s.execute(select(EmailMessage).where(EmailMessage.template == template)).scalars())
        for r in rows:
            s.expunge(r)
        return rows


def _numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/dashboard/orders/ord_[^"]+">#(\d+)</a>', html)]


def test_list_filters_by_status_search_and_dates(client: Any, brand_a: Any) -> None:
    pid = priced_product(client, brand_a)
    paid, _ = paid_order(client, brand_a, pid, email="paid@example.com")
    pending = place_order(client, brand_a, pid, email="later@shop.example")
    sign_in(client, brand_a.owner_email)
    r = client.get("/dashboard/orders")
    assert r.status_code == 200 and sorted(_numbers(r.text)) == sorted([paid["number"], pending["number"]])
    assert _numbers(client.get("/dashboard/orders?status=paid").text) == [paid["number"]]
    assert _numbers(client.get("/dashboard/orders?status=pending").text) == [pending["number"]]
    assert _numbers(client.get(f"/dashboard/orders?q=%23{pending['number']}").text) == [pending["number"]]
    assert _numbers(client.get(f"/dashboard/orders?q={paid['number']}").text) == [paid["number"]]
    assert _numbers(client.get("/dashboard/orders?q=SHOP.example").text) == [pending["number"]]
    assert _numbers(client.get("/dashboard/orders?q=nobody").text) == []
    today = paid["created_at"][:10]
    assert len(_numbers(client.get(f"/dashboard/orders?date_from={today}&date_to={today}").text)) == 2
    assert _numbers(client.get("/dashboard/orders?date_to=2001-01-01").text) == []
    bad = client.get("/dashboard/orders?date_from=31/01/2026&status=lost")
    assert bad.status_code == 422 and "Use a date like" in bad.text and "Unknown status." in bad.text


def test_cursor_pages_and_query_count_does_not_grow_with_rows(client: Any, brand_a: Any) -> None:
    pid = priced_product(client, brand_a)
    for i in range(3):
        place_order(client, brand_a, pid, text=f"A{i}")
    sign_in(client, brand_a.owner_email)
    client.get("/dashboard/orders")  # warm caches
    with count_queries() as few:
        assert client.get("/dashboard/orders").status_code == 200
    for i in range(27):
        place_order(client, brand_a, pid, text=f"B{i}")
    with count_queries() as many:
        first = client.get("/dashboard/orders")
    assert first.status_code == 200 and len(_numbers(first.text)) == 25
    assert len(many) == len(few), (len(few), len(many))
    nxt = re.search(r'href="(/dashboard/orders\?cursor=[^"]+)" rel="next"', first.text)
    assert nxt
    second = client.get(nxt.group(1).replace("&amp;", "&"))
    assert len(_numbers(second.text)) == 5 and not set(_numbers(second.text)) & set(_numbers(first.text))
    assert client.get("/dashboard/orders?cursor=forged.cursor").status_code == 422


def test_detail_shows_items_spec_hash_approval_payments_work_orders_and_history(
    client: Any, brand_a: Any
) -> None:
    order, payment_id = paid_order(client, brand_a)
    item = order["items"][0]
    sign_in(client, brand_a.owner_email)
    r = client.get(f"/dashboard/orders/{order['id']}")
    assert r.status_code == 200
    html = r.text
    assert item["snapshot"]["spec_hash"] in html and item["snapshot"]["id"] in html
    assert payment_id in html and "Not approved" in html and "/preview" in html
    assert "/dashboard/production/wo_" in html  # the work order made from order.paid
    assert 'class="help-link"' in html and f"order_id%3A%20{order['id']}" in html
    assert "Order placed" in html and "Paid" in html
    # the buyer approves the design: the page says so, with the time
    r = client.post(f"/api/v1/snapshots/{item['snapshot']['id']}/approve", headers=brand_a.h())
    assert r.status_code == 200, r.text
    assert "Approved" in client.get(f"/dashboard/orders/{order['id']}").text


def test_an_item_without_a_rendered_preview_shows_a_fallback_then_its_mockup(
    client: Any, brand_a: Any
) -> None:
    """Never a blank box: until the item's mockup is rendered the page shows an image naming the
    product and saying so, and asks the render (once, by spec_hash); once rendered, the mockup."""
    from tests.integration.test_rendering import count_jobs, run_jobs

    order, _ = paid_order(client, brand_a)
    item = order["items"][0]
    sign_in(client, brand_a.owner_email)
    page_url = f"/dashboard/orders/{order['id']}"
    src = f"{page_url}/items/{item['id']}/preview"
    html = client.get(page_url).text
    assert f'src="{src}"' in html and "No preview rendered yet" not in html
    fallback = client.get(src, follow_redirects=False)
    assert fallback.status_code == 200, fallback.text
    assert fallback.headers["content-type"].startswith("image/svg+xml")
    assert fallback.headers["cache-control"] == "no-store"
    name = item["product"]["name"] or item["product"]["sku"]
    assert name in fallback.text and "Preview not rendered yet" in fallback.text
    client.get(src)  # asked again: still the one render job
    assert count_jobs(get_db(), "render_preview") == 1
    run_jobs(get_db())
    rendered = client.get(src, follow_redirects=False)
    assert rendered.status_code == 303 and "/dashboard/" not in rendered.headers["location"]
    html = client.get(page_url).text
    assert f'src="{src}"' not in html and rendered.headers["location"].split("?")[0] in html


def test_partial_then_full_refund_with_the_dev_provider(client: Any, brand_a: Any) -> None:
    order, payment_id = paid_order(client, brand_a)
    csrf = sign_in(client, brand_a.owner_email)
    url = f"/dashboard/orders/{order['id']}/refund"
    r = post(client, url, csrf, {"payment_id": payment_id, "amount": "1.00"})
    assert r.status_code == 422 and "Tick the box to confirm." in r.text
    r = post(client, url, csrf, {"payment_id": payment_id, "amount": "1.00", "confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=refund")
    row = _order(brand_a.id, order["id"])
    assert (row.status, row.payment_status) == ("paid", "partially_refunded")
    r = post(client, url, csrf, {"payment_id": payment_id, "amount": "", "confirm": "yes"})
    assert r.status_code == 303
    row = _order(brand_a.id, order["id"])
    assert (row.status, row.payment_status) == ("refunded", "refunded")


def test_refund_more_than_paid_is_a_422_shown_on_the_page(client: Any, brand_a: Any) -> None:
    order, payment_id = paid_order(client, brand_a)
    csrf = sign_in(client, brand_a.owner_email)
    url = f"/dashboard/orders/{order['id']}/refund"
    r = post(client, url, csrf, {"payment_id": payment_id, "amount": "100000", "confirm": "yes"})
    assert r.status_code == 422 and "Refund between 1 and" in r.text and "alert--error" in r.text
    r = post(client, url, csrf, {"payment_id": payment_id, "amount": "1.234", "confirm": "yes"})
    assert r.status_code == 422 and "Enter an amount like 12.50." in r.text
    assert _order(brand_a.id, order["id"]).payment_status == "paid"


def test_ship_queues_the_order_shipped_email(client: Any, brand_a: Any) -> None:
    order, _ = paid_order(client, brand_a)
    csrf = sign_in(client, brand_a.owner_email)
    base = f"/dashboard/orders/{order['id']}"
    early = post(
        client, f"{base}/ship", csrf, {"carrier": "La Poste", "tracking_number": "6A1", "confirm": "yes"}
    )
    assert early.status_code == 409 and "cannot go from paid to shipped" in early.text
    assert post(client, f"{base}/start-production", csrf).status_code == 303
    r = post(client, f"{base}/ship", csrf, {"carrier": "", "tracking_number": "", "confirm": "yes"})
    assert r.status_code == 422 and "Enter the carrier." in r.text and "Enter the tracking number." in r.text
    r = post(
        client, f"{base}/ship", csrf, {"carrier": "La Poste", "tracking_number": "6A123", "confirm": "yes"}
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?done=shipped")
    assert _order(brand_a.id, order["id"]).status == "shipped"
    mails = _emails(brand_a.id, "order_shipped")
    assert len(mails) == 1 and mails[0].to == "ada@example.com"
    assert mails[0].context["tracking_number"] == "6A123" and mails[0].context["carrier"] == "La Poste"
    page = client.get(base).text
    assert "La Poste 6A123" in page and "Order marked shipped" not in page


def test_another_brands_order_is_404_on_every_route(client: Any, brand_a: Any, brand_b: Any) -> None:
    order, payment_id = paid_order(client, brand_a)
    csrf = sign_in(client, brand_b.owner_email)
    base = f"/dashboard/orders/{order['id']}"
    assert client.get(base).status_code == 404
    form = {"payment_id": payment_id, "amount": "1", "confirm": "yes", "carrier": "x", "tracking_number": "y"}
    for path in (f"{base}/refund", f"{base}/ship", f"{base}/start-production"):
        assert post(client, path, csrf, form).status_code == 404, path
    assert client.get(f"{base}/items/{order['items'][0]['id']}/preview").status_code == 404
    assert f"#{order['number']}" not in client.get("/dashboard/orders").text
    assert _order(brand_a.id, order["id"]).payment_status == "paid"


def test_viewer_reads_but_cannot_refund_and_production_sees_no_refund(client: Any, brand_a: Any) -> None:
    order, payment_id = paid_order(client, brand_a)
    csrf = sign_in(client, member(brand_a, "viewer"))
    base = f"/dashboard/orders/{order['id']}"
    page = client.get(base)
    assert page.status_code == 200 and 'action="' + base + '/refund"' not in page.text
    r = post(client, f"{base}/refund", csrf, {"payment_id": payment_id, "confirm": "yes"})
    assert r.status_code == 403
    assert post(client, f"{base}/ship", csrf, {"carrier": "x"}).status_code == 403
    client.cookies.clear()
    csrf = sign_in(client, member(brand_a, "production"))
    page = client.get(base)
    assert page.status_code == 200 and "/refund" not in page.text
    nav = client.get("/dashboard/orders").text
    assert 'href="/dashboard/production"' in nav and 'href="/dashboard/billing"' not in nav
    assert (
        post(client, f"{base}/refund", csrf, {"payment_id": payment_id, "confirm": "yes"}).status_code == 403
    )
    assert _order(brand_a.id, order["id"]).payment_status == "paid"
    assert csrf_of(client, "/dashboard/orders")

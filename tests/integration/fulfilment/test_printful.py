"""Fulfilment hand-off to Printful (issue 17, item 7), against a local server speaking Printful's
API v2 (`fake_printful`): a paid Luneo order whose packs are built becomes one confirmed Printful
order (retried through 429 + Retry-After and 5xx, never duplicated), Printful's signed
`shipment_sent` webhook marks the Luneo order shipped with its tracking (`order.shipped`)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest
import uvicorn

from tests.integration.commerce_helpers import record
from tests.integration.factories.manufacturing import fetch, run_jobs
from tests.integration.fulfilment.fake_printful import STORE_ID, TOKEN, FakePrintful, problem

ACTOR = "fulfilment.printful_submit"
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
    "phone": "+44 20 7946 0000",
}


class Server:
    """An ASGI app on a free local port (optionally TLS), in a thread."""

    def __init__(self, app: Any, **ssl: Any) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.scheme = "https" if ssl else "http"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off", **ssl
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("local server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def fake(settings, monkeypatch):
    printful = FakePrintful()
    with Server(printful.app()) as server:
        monkeypatch.setenv("LUNEO_PRINTFUL_API_BASE", server.url)
        yield printful


def configure(client, brand, product_id: str, *, token: str = TOKEN) -> dict[str, Any]:
    r = client.put(
        "/api/v1/fulfilment/printful",
        headers=brand.h(),
        json={"api_token": token, "store_id": STORE_ID},
    )
    assert r.status_code == 200, r.text
    assert "api_token" not in r.json() and r.json()["has_api_token"] is True
    r = client.put(
        f"/api/v1/fulfilment/printful/mappings/{product_id}",
        headers=brand.h(),
        json={"catalog_variant_id": 4012, "placement": "front", "technique": "dtg"},
    )
    assert r.status_code == 200, r.text
    return client.get("/api/v1/fulfilment/printful", headers=brand.h()).json()


def paid_order(client, brand, product_id: str, text: str = "Hello") -> str:
    r = client.post(
        "/api/v1/snapshots",
        json={"product_id": product_id, "inputs": {"slogan": {"text": text}}},
        headers=brand.h(),
    )
    assert r.status_code in (200, 201), r.text
    r = client.post(
        "/api/v1/orders",
        headers=brand.h("sk"),
        json={
            "items": [{"product_id": product_id, "snapshot_id": r.json()["id"], "quantity": 2}],
            "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
            "shipping_address": ADDRESS,
        },
    )
    assert r.status_code == 201, r.text
    order = r.json()
    order_id = str(order["id"])
    pay = {
        "to": "paid",
        "amount": order["total_cents"],
        "currency": order["currency"],
        "note": "bank transfer",
    }
    r = client.post(f"/api/v1/orders/{order_id}/transition", headers=brand.h(), json=pay)
    assert r.status_code == 200, r.text
    return order_id


def handoffs(client, brand, order_id: str) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/orders/{order_id}/fulfilment", headers=brand.h())
    assert r.status_code == 200, r.text
    return list(r.json())


def shipment_event(pf_order: dict[str, Any], tracking: str = "1Z999AA10123456784") -> dict[str, Any]:
    return {
        "type": "shipment_sent",
        "occurred_at": "2026-11-30T10:00:00Z",
        "retries": 0,
        "store_id": int(STORE_ID),
        "data": {
            "shipment": {
                "id": 777001,
                "carrier": "UPS",
                "service": "UPS Standard",
                "tracking_number": tracking,
                "tracking_url": f"https://tracking.example/{tracking}",
                "shipped_at": "2026-11-30T09:58:00Z",
                "reshipment": False,
                "shipment_items": [{"order_item_id": 1, "quantity": 2}],
            },
            "order": {"id": pf_order["id"], "external_id": pf_order["external_id"], "status": "fulfilled"},
        },
    }


def test_paid_order_to_printful_and_back_shipped(client, brand_a, cat_a, fake, monkeypatch):
    rec = record(monkeypatch, "order.shipped")
    cfg = configure(client, brand_a, cat_a["DEMO-TSHIRT"])
    r = client.post("/api/v1/fulfilment/printful/register-webhook", headers=brand_a.h())
    assert r.status_code == 200 and r.json()["has_webhook_secret"] is True, r.text
    assert fake.webhook["default_url"].endswith(f"/hooks/printful/{cfg['id']}")
    assert {e["type"] for e in fake.webhook["events"]} >= {"shipment_sent"}

    fake.fail("create", problem(429, "Too Many Requests", "Slow down.", {"Retry-After": "1"}))
    fake.fail("confirm", problem(503, "Service Unavailable", "Try again."))
    order_id = paid_order(client, brand_a, cat_a["DEMO-TSHIRT"])
    assert run_jobs(ACTOR) == []  # nothing before the packs are built
    assert set(run_jobs("export_pack")) == {"success"}
    assert run_jobs(ACTOR) == ["success"]

    [pf] = fake.orders.values()
    assert pf["external_id"] == order_id and pf["status"] == "pending"  # confirmed
    assert pf["recipient"]["country_code"] == "GB" and pf["recipient"]["zip"] == "N1 9GU"
    [item] = pf["order_items"]
    assert (item["catalog_variant_id"], item["quantity"]) == (4012, 2)
    [placement] = item["placements"]
    assert (placement["placement"], placement["technique"]) == ("front", "dtg")
    printed = fetch(client, placement["layers"][0]["url"])  # the signed print file URL works
    assert printed.status_code == 200 and printed.content[:4] in (b"\x89PNG", b"%PDF")
    creates = [c for c in fake.calls if c == ("POST", "/v2/orders")]
    confirms = [c for c in fake.calls if c[1].endswith("/confirmation")]
    assert (len(creates), len(confirms)) == (2, 2)  # 429 then created; 503 then confirmed

    [h] = handoffs(client, brand_a, order_id)
    assert (h["kind"], h["status"], h["external_id"]) == ("printful", "confirmed", str(pf["id"]))

    # The same packs ready again (a re-delivered event): still one Printful order.
    from tests.integration.factories.manufacturing import publish

    wo = client.get("/api/v1/manufacturing/work-orders", params={"order_id": order_id}, headers=brand_a.h())
    [w] = wo.json()["data"]
    publish(
        "work_order.status_changed",
        {
            "brand_id": brand_a.id,
            "work_order_id": w["id"],
            "order_id": order_id,
            "to": "ready",
            "pack_sha256": None,
        },
    )
    run_jobs(ACTOR)
    assert len(fake.orders) == 1 and len([c for c in fake.calls if c == ("POST", "/v2/orders")]) == 2

    # Printful's webhook: a bad signature is refused, the signed one ships the order once.
    raw, headers = fake.signed_event(shipment_event(pf))
    bad = client.post(
        f"/hooks/printful/{cfg['id']}", content=raw, headers={**headers, "X-PF-Webhook-Signature": "0" * 64}
    )
    assert bad.status_code == 401
    assert client.post(f"/hooks/printful/{cfg['id']}", content=raw, headers=headers).json() == {
        "status": "shipped"
    }
    again = client.post(f"/hooks/printful/{cfg['id']}", content=raw, headers=headers)
    assert again.json() == {"status": "duplicate"}
    order = client.get(f"/api/v1/orders/{order_id}", headers=brand_a.h()).json()
    assert order["status"] == "shipped"
    [shipped] = rec.of("order.shipped")
    assert shipped == {
        "order_id": order_id,
        "brand_id": brand_a.id,
        "tracking_number": "1Z999AA10123456784",
        "carrier": "UPS",
    }
    [h] = handoffs(client, brand_a, order_id)
    assert (h["status"], h["tracking_number"], h["carrier"]) == ("shipped", "1Z999AA10123456784", "UPS")
    assert (
        client.post("/hooks/printful/pfc_unknown0000000000000", content=raw, headers=headers).status_code
        == 404
    )


def test_an_order_created_before_a_lost_commit_is_found_not_duplicated(client, brand_a, cat_a, fake):
    configure(client, brand_a, cat_a["DEMO-TSHIRT"])
    order_id = paid_order(client, brand_a, cat_a["DEMO-TSHIRT"])
    assert set(run_jobs("export_pack")) == {"success"}
    # Printful already has the draft (our earlier run crashed after its answer).
    fake.orders[555] = {"id": 555, "external_id": order_id, "status": "draft", "order_items": []}
    assert run_jobs(ACTOR) == ["success"]
    assert ("POST", "/v2/orders") not in fake.calls and ("GET", f"/v2/orders/@{order_id}") in fake.calls
    assert fake.orders[555]["status"] == "pending" and len(fake.orders) == 1
    [h] = handoffs(client, brand_a, order_id)
    assert (h["status"], h["external_id"]) == ("confirmed", "555")


def test_unmapped_products_and_refused_orders_are_shown_to_the_brand(client, brand_a, cat_a, fake):
    configure(client, brand_a, cat_a["DEMO-TSHIRT"], token="wrong-token")
    order_id = paid_order(client, brand_a, cat_a["DEMO-TSHIRT"])
    assert set(run_jobs("export_pack")) == {"success"}
    assert run_jobs(ACTOR) == ["failed"]  # 401 is permanent: no retry
    [h] = handoffs(client, brand_a, order_id)
    assert h["status"] == "failed" and "401" in h["error"] and not fake.orders

    assert (
        client.delete(
            f"/api/v1/fulfilment/printful/mappings/{cat_a['DEMO-TSHIRT']}", headers=brand_a.h()
        ).status_code
        == 204
    )
    configure_token = client.put(
        "/api/v1/fulfilment/printful", headers=brand_a.h(), json={"api_token": TOKEN}
    )
    assert configure_token.status_code == 200
    other = paid_order(client, brand_a, cat_a["DEMO-TSHIRT"], text="Again")
    assert set(run_jobs("export_pack")) == {"success"}
    assert run_jobs(ACTOR) == ["success"]
    [h] = handoffs(client, brand_a, other)
    assert h["status"] == "unmapped" and cat_a["DEMO-TSHIRT"] in h["error"] and not fake.orders

    # Fixed by the brand: map the product again and retry both orders.
    configure(client, brand_a, cat_a["DEMO-TSHIRT"])
    for oid in (order_id, other):
        r = client.post(f"/api/v1/orders/{oid}/fulfilment/retry", headers=brand_a.h())
        assert r.status_code == 200 and r.json()[0]["status"] == "pending", r.text
    assert run_jobs(ACTOR) == ["success", "success"]
    assert {h["status"] for oid in (order_id, other) for h in handoffs(client, brand_a, oid)} == {"confirmed"}
    assert sorted(o["external_id"] for o in fake.orders.values()) == sorted([order_id, other])


def test_a_429_that_lasts_is_retried_by_the_job_and_recorded(client, brand_a, cat_a, fake, monkeypatch):
    from luneo.fulfilment import printful

    monkeypatch.setattr(printful, "MAX_TRIES", 1)
    configure(client, brand_a, cat_a["DEMO-TSHIRT"])
    order_id = paid_order(client, brand_a, cat_a["DEMO-TSHIRT"])
    assert set(run_jobs("export_pack")) == {"success"}
    fake.fail("create", problem(429, "Too Many Requests", "Slow down.", {"Retry-After": "1"}))
    outcomes = run_jobs(ACTOR)
    assert outcomes[0] == "retry" and outcomes[-1] == "success", outcomes
    [h] = handoffs(client, brand_a, order_id)
    assert h["status"] == "confirmed" and h["error"] is None and len(fake.orders) == 1


def test_webhook_without_configured_secret_or_bad_json_is_refused(client, brand_a, cat_a, fake):
    cfg = configure(client, brand_a, cat_a["DEMO-TSHIRT"])
    r = client.post(f"/hooks/printful/{cfg['id']}", content=b"{}", headers={"X-PF-Webhook-Signature": "ab"})
    assert r.status_code == 401 and r.json()["code"] == "printful_webhook_signature_invalid"
    secret = "ab" * 32
    assert (
        client.put(
            "/api/v1/fulfilment/printful", headers=brand_a.h(), json={"webhook_secret": secret}
        ).status_code
        == 200
    )
    import hashlib
    import hmac

    raw = b"not json"
    sig = hmac.new(bytes.fromhex(secret), raw, hashlib.sha256).hexdigest()
    r = client.post(f"/hooks/printful/{cfg['id']}", content=raw, headers={"X-PF-Webhook-Signature": sig})
    assert r.status_code == 400 and r.json()["code"] == "printful_webhook_invalid"

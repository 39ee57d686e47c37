"""Every webhook event is emitted by the change that causes it, with the documented envelope."""

from __future__ import annotations

from urllib.parse import urlsplit

from luneo.platform.tenancy import bind_tenant
from luneo.webhooks.events import EVENT_TYPES
from tests.integration.factories.manufacturing import PENDANT, run_jobs, snapshot
from tests.integration.webhooks.conftest import create_endpoint, run_webhook_jobs

WO = "/api/v1/manufacturing/work-orders"


def _order(client, brand, pid: str, snap: str) -> dict:
    r = client.post(
        "/api/v1/orders",
        headers=brand.h("sk"),
        json={
            "items": [{"product_id": pid, "quantity": 1, "snapshot_id": snap}],
            "customer": {"email": "a@b.co"},
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def _events(receiver) -> list[dict]:
    out = [r.json for r in receiver.requests]
    for e in out:
        assert set(e) == {"type", "id", "timestamp", "data", "version"} and e["version"] == 1
        assert e["timestamp"].endswith("Z")
    return out


def _of(events: list[dict], type_: str) -> list[dict]:
    return [e["data"] for e in events if e["type"] == type_]


def test_order_lifecycle_events(client, db, brand_a, receiver, cat_a):
    create_endpoint(client, brand_a, receiver.url, list(EVENT_TYPES))
    pid = cat_a["DEMO-PENDANT"]
    snap = snapshot(client, brand_a, pid, PENDANT)
    order = _order(client, brand_a, pid, snap)
    url = f"/api/v1/orders/{order['id']}/transition"
    steps = [
        {"to": "paid", "amount": order["total_cents"], "currency": order["currency"], "note": "cash"},
        {"to": "in_production"},
        {"to": "shipped", "tracking_number": "TRK-9", "carrier": "La Poste"},
        {"to": "delivered"},
        {"to": "refunded"},
    ]
    for body in steps:
        assert client.post(url, headers=brand_a.h(), json=body).status_code == 200
    other = _order(client, brand_a, pid, snap)
    client.post(f"/api/v1/orders/{other['id']}/transition", headers=brand_a.h(), json={"to": "cancelled"})
    run_webhook_jobs(db, rounds=50)
    events = _events(receiver)

    def of_order(oid: str) -> list[str]:
        return [e["type"] for e in events if e["type"].startswith("order.") and e["data"]["order_id"] == oid]

    # per order, in the order of the changes (deliveries of one order's events are sequenced)
    assert of_order(order["id"]) == ["order.created", "order.paid", "order.shipped", "order.refunded"]
    assert of_order(other["id"]) == ["order.created", "order.cancelled"]
    [shipped] = _of(events, "order.shipped")
    assert (shipped["tracking_number"], shipped["carrier"], shipped["status"]) == (
        "TRK-9",
        "La Poste",
        "shipped",
    )
    [paid] = _of(events, "order.paid")
    assert paid["payment_status"] == "paid" and paid["items"][0]["snapshot_id"] == snap
    assert paid["total_cents"] == order["total_cents"] and paid["currency"] == order["currency"]
    # paying created work orders: their status changes are events too, in the same order chain
    changes = _of(events, "work_order.status_changed")
    assert changes and {c["order_id"] for c in changes} == {order["id"]}
    moves = [(c["from"], c["to"]) for c in changes]
    assert moves[0] == ("queued", "exporting") and moves[-1][1] == "cancelled"  # refunded: production stops


def test_snapshot_design_and_work_order_events(client, db, brand_a, receiver, cat_a):
    create_endpoint(client, brand_a, receiver.url, list(EVENT_TYPES))
    pid = cat_a["DEMO-PENDANT"]
    snap = snapshot(client, brand_a, pid, PENDANT)
    assert client.post(f"/api/v1/snapshots/{snap}/approve", headers=brand_a.h()).status_code in (200, 201)
    shopper = {"X-Shopper-Token": "shopper-token-webhooks1"}
    r = client.post(
        "/api/v1/designs",
        json={"name": "Gift", "source": "widget", "product_id": pid, "inputs": PENDANT},
        headers=brand_a.h("pk", **shopper),
    )
    assert r.status_code == 201, r.text
    design_id = r.json()["id"]
    # a work order: exporting → ready (pack.ready) → in_production → failed (work_order.failed)
    r = client.post(
        WO, json={"snapshot_id": snap, "order_id": "ext-7", "order_item_id": "ext-7-1"}, headers=brand_a.h()
    )
    wid = r.json()["id"]
    run_jobs()
    for to in ("in_production", "failed"):
        body = {"to": to, "note": "laser jammed"} if to == "failed" else {"to": to}
        assert client.post(f"{WO}/{wid}/transition", json=body, headers=brand_a.h()).status_code == 200
    run_webhook_jobs(db, rounds=50)
    events = _events(receiver)
    [created] = _of(events, "snapshot.created")
    assert created["snapshot_id"] == snap and created["product_id"] == pid and len(created["spec_hash"]) == 64
    [approved] = _of(events, "snapshot.approved")
    assert approved["snapshot_id"] == snap and approved["approved_by"] == brand_a.owner_id
    [saved] = _of(events, "design.saved")
    assert saved["design_id"] == design_id and saved["name"] == "Gift" and saved["product_id"] == pid
    changes = [
        (c["from"], c["to"]) for c in _of(events, "work_order.status_changed") if c["work_order_id"] == wid
    ]
    assert changes == [
        ("queued", "exporting"),
        ("exporting", "ready"),
        ("ready", "in_production"),
        ("in_production", "failed"),
    ]
    [failed] = _of(events, "work_order.failed")
    assert failed["work_order_id"] == wid and failed["order_id"] == "ext-7"
    [ready] = _of(events, "pack.ready")
    assert ready["work_order_id"] == wid and ready["pack"]["content_type"] == "application/zip"
    assert ready["pack"]["expires_at"].endswith("Z") and len(ready["pack"]["sha256"]) == 64
    parts = urlsplit(ready["pack"]["url"])
    pack = client.get(f"{parts.path}?{parts.query}")  # the signed URL downloads the pack
    assert (
        pack.status_code == 200
        and pack.content[:2] == b"PK"
        and len(pack.content) == ready["pack"]["size_bytes"]
    )
    forged = client.get(f"{parts.path}?{parts.query[:-2]}xx")
    assert forged.status_code in (403, 404)


def test_low_balance_event(client, db, brand_a, receiver):
    from luneo.credits import service as credits

    create_endpoint(client, brand_a, receiver.url, ["credits.low_balance"])
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        credits.debit(s, brand_a.id, 45, "ai.generate", "u1", "usr_x")  # 5 left of 50: crossing
    run_webhook_jobs(db)
    [event] = _events(receiver)
    assert event["type"] == "credits.low_balance"
    assert (event["data"]["balance"], event["data"]["threshold"]) == (5, 10)
    assert event["data"]["buy_url"].startswith("http")


def test_render_ready_event(client, db, brand_a, receiver, cat_a):
    from tests.integration.test_rendering import run_jobs as run_render_jobs

    create_endpoint(client, brand_a, receiver.url, ["render.ready"])
    snap = snapshot(client, brand_a, cat_a["DEMO-PENDANT"], PENDANT)
    r = client.post("/api/v1/renders/final", json={"snapshot_id": snap}, headers=brand_a.h())
    assert r.status_code == 202, r.text
    assert set(run_render_jobs(db).values()) == {"success"}
    run_webhook_jobs(db)
    [event] = _events(receiver)
    data = event["data"]
    assert event["type"] == "render.ready" and data["render_id"] == r.json()["render_id"]
    assert data["snapshot_id"] == snap and data["kind"] == "final" and {"png", "glb"} <= set(data["outputs"])

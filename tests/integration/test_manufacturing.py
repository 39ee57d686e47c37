"""Work orders: creation from order.paid (once), refund cancellation, status machine and history,
print checks blocking ready, the production role, production_error emails."""

from __future__ import annotations

from tests.integration.factories.manufacturing import (
    PENDANT,
    emails,
    paid_payload,
    publish,
    run_jobs,
    set_production_email,
    snapshot,
)

WO = "/api/v1/manufacturing/work-orders"


def _wo(client, brand, wo_id):
    r = client.get(f"{WO}/{wo_id}", headers=brand.h())
    assert r.status_code == 200, r.text
    return r.json()


def _by_item(client, brand, order_id):
    r = client.get(WO, params={"order_id": order_id}, headers=brand.h())
    assert r.status_code == 200, r.text
    return {w["order_item_id"]: w for w in r.json()["data"]}


def test_order_paid_twice_creates_one_work_order_per_item_and_refund_cancels(client, brand_a, brand_b, cat_a):
    s1 = snapshot(client, brand_a, cat_a["DEMO-PENDANT"], PENDANT)
    s2 = snapshot(
        client, brand_a, cat_a["DEMO-PENDANT"], {"arc_text": {"text": "Lou"}, "initial": {"text": "L"}}
    )
    payload = paid_payload(brand_a, "ord_paid1", [("oi_1", s1, 2), ("oi_2", s2, 1)])
    publish("order.paid", payload)
    publish("order.paid", payload)  # duplicated delivery
    items = _by_item(client, brand_a, "ord_paid1")
    assert set(items) == {"oi_1", "oi_2"}
    assert items["oi_1"]["quantity"] == 2 and items["oi_1"]["order_number"] == "N-aid1"
    assert items["oi_1"]["production_method"] == "engrave" and items["oi_1"]["product_sku"] == "DEMO-PENDANT"
    assert {w["status"] for w in items.values()} == {"exporting"}  # export enqueued at once
    assert client.get(WO, headers=brand_b.h()).json()["data"] == []
    assert set(run_jobs()) == {"success"}
    items = _by_item(client, brand_a, "ord_paid1")
    assert {w["status"] for w in items.values()} == {"ready"}
    first = items["oi_1"]["id"]
    for to in ("in_production", "done"):
        assert (
            client.post(f"{WO}/{first}/transition", json={"to": to}, headers=brand_a.h()).status_code == 200
        )
    publish("order.refunded", {"order_id": "ord_paid1", "brand_id": brand_a.id})
    items = _by_item(client, brand_a, "ord_paid1")
    assert items["oi_1"]["status"] == "done" and items["oi_2"]["status"] == "cancelled"
    assert items["oi_2"]["cancelled_at"]
    hist = _wo(client, brand_a, items["oi_2"]["id"])["history"]
    assert [(h["from_status"], h["to_status"]) for h in hist] == [
        (None, "queued"),
        ("queued", "exporting"),
        ("exporting", "ready"),
        ("ready", "cancelled"),
    ]
    assert hist[-1]["actor"] == "event:order" and hist[-1]["note"] == "order refunded"


def test_events_for_another_brand_do_not_leak(client, brand_a, brand_b, cat_a):
    s1 = snapshot(client, brand_a, cat_a["DEMO-PENDANT"], PENDANT)
    # brand B's payload naming brand A's snapshot: the publisher's transaction goes on, brand A sees
    # nothing, and brand B's paid item is a visible needs_attention work order without that snapshot
    publish("order.paid", paid_payload(brand_b, "ord_x", [("oi_x", s1, 1)]))
    assert client.get(WO, headers=brand_a.h()).json()["data"] == []
    [wo_b] = client.get(WO, headers=brand_b.h()).json()["data"]
    assert (wo_b["status"], wo_b["snapshot_id"], wo_b["spec_hash"]) == ("needs_attention", None, None)
    assert "not found in this brand" in wo_b["error"]


def test_api_creation_transitions_history_patch_and_filters(client, brand_a, cat_a):
    sid = snapshot(client, brand_a, cat_a["DEMO-PENDANT"], PENDANT)
    r = client.post(
        WO,
        json={"snapshot_id": sid, "quantity": 3, "order_id": "ext-42", "order_item_id": "ext-42-1"},
        headers=brand_a.h(),
    )
    assert r.status_code == 201, r.text
    wo = r.json()
    again = client.post(
        WO, json={"snapshot_id": sid, "quantity": 3, "order_item_id": "ext-42-1"}, headers=brand_a.h()
    )
    assert again.status_code == 200 and again.json()["id"] == wo["id"]
    assert client.post(WO, json={"snapshot_id": "snap_nope"}, headers=brand_a.h()).status_code == 404
    assert client.post(WO, json={"snapshot_id": sid, "bogus": 1}, headers=brand_a.h()).status_code == 422
    wid = wo["id"]
    assert wo["status"] == "exporting"
    bad = client.post(f"{WO}/{wid}/transition", json={"to": "done"}, headers=brand_a.h())
    assert bad.status_code == 409 and bad.json()["code"] == "invalid_transition"
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert set(bad.json()["allowed"]) == {"failed", "cancelled"}
    run_jobs()
    assert _wo(client, brand_a, wid)["status"] == "ready"
    assert (
        client.post(
            f"{WO}/{wid}/transition", json={"to": "in_production", "note": "on laser 2"}, headers=brand_a.h()
        ).json()["status"]
        == "in_production"
    )
    p = client.patch(
        f"{WO}/{wid}",
        json={"assignee": "Ana", "production_partner": "Atelier Nord", "notes": "rush"},
        headers=brand_a.h(),
    )
    assert p.status_code == 200 and p.json()["assignee"] == "Ana" and p.json()["notes"] == "rush"
    assert client.patch(f"{WO}/{wid}", json={"status": "done"}, headers=brand_a.h()).status_code == 422
    done = client.post(f"{WO}/{wid}/transition", json={"to": "done"}, headers=brand_a.h()).json()
    assert done["status"] == "done" and done["done_at"]
    hist = done["history"]
    assert [h["to_status"] for h in hist] == ["queued", "exporting", "ready", "in_production", "done"]
    assert hist[3]["actor"] == brand_a.owner_id and hist[3]["note"] == "on laser 2"
    assert (
        client.post(f"{WO}/{wid}/transition", json={"to": "cancelled"}, headers=brand_a.h()).status_code
        == 409
    )
    assert client.post(f"{WO}/{wid}/export", headers=brand_a.h()).status_code == 409
    # filters
    other = client.post(
        WO,
        json={
            "snapshot_id": snapshot(client, brand_a, cat_a["DEMO-CARD"], {"name": {"text": "Ada"}}),
            "quantity": 1,
        },
        headers=brand_a.h(),
    ).json()

    def ids(**params):
        r = client.get(WO, params=params, headers=brand_a.h())
        assert r.status_code == 200, r.text
        return {w["id"] for w in r.json()["data"]}

    assert ids(status="done") == {wid}
    assert ids(status=["done", "exporting"]) == {wid, other["id"]}
    assert ids(production_method="print") == {other["id"]}
    assert ids(product_id=cat_a["DEMO-PENDANT"]) == {wid}
    assert ids(created_from="2000-01-01T00:00:00Z", created_to="2001-01-01T00:00:00Z") == set()
    assert ids(created_from="2000-01-01T00:00:00Z") == {wid, other["id"]}
    assert ids(assignee="Ana") == {wid}
    page1 = client.get(WO, params={"limit": 1}, headers=brand_a.h()).json()
    page2 = client.get(WO, params={"limit": 1, "cursor": page1["next_cursor"]}, headers=brand_a.h()).json()
    assert {page1["data"][0]["id"], page2["data"][0]["id"]} == {wid, other["id"]}
    assert client.get(WO, params={"status": "bogus"}, headers=brand_a.h()).status_code == 422


def _hairline_product(client, brand) -> str:
    body = {
        "sku": "HAIRLINE-TAG",
        "name": "Hairline tag",
        "status": "active",
        "width_mm": 40,
        "height_mm": 20,
        "production_method": "engrave",
        "min_stroke_mm": 0.6,
        "output_dpi": 300,
        "zones": [
            {
                "key": "name",
                "kind": "text",
                "role": "engrave",
                "default_font": "fnt_serif",
                "geometry": {"shape": "rect", "x_mm": 2, "y_mm": 2, "width_mm": 36, "height_mm": 16},
                "rules": {
                    "max_chars": 20,
                    "max_lines": 1,
                    "min_font_pt": 5,
                    "max_font_pt": 6,
                    "auto_fit": True,
                },
            }
        ],
    }
    r = client.post("/api/v1/products", json=body, headers=brand.h())
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_print_checks_block_ready_until_override_and_email_production(client, brand_a, cat_a):
    set_production_email(brand_a)
    pid = _hairline_product(client, brand_a)
    sid = snapshot(client, brand_a, pid, {"name": {"text": "Hairline"}})
    wid = client.post(
        WO, json={"snapshot_id": sid, "order_id": "ord_h", "order_number": "H-1"}, headers=brand_a.h()
    ).json()["id"]
    run_jobs()
    wo = _wo(client, brand_a, wid)
    assert wo["status"] == "needs_review" and wo["checks_blocked"] is True
    codes = {(i["code"], i["severity"]) for i in wo["print_checks"]}
    assert ("stroke_too_thin", "error") in codes
    assert wo["pack_sha256"]  # the pack exists; only its release is blocked
    mails = emails()
    assert len(mails) == 1 and mails[0].to == "prod@example.com"
    assert mails[0].context["reason"] == "checks_blocked" and wid in mails[0].subject
    blocked = client.post(f"{WO}/{wid}/transition", json={"to": "ready"}, headers=brand_a.h())
    assert blocked.status_code == 409 and blocked.json()["code"] == "invalid_transition"
    assert (
        client.post(f"{WO}/{wid}/transition", json={"to": "in_production"}, headers=brand_a.h()).status_code
        == 409
    )
    assert (
        client.get("/api/v1/manufacturing/bundles/ord_h", headers=brand_a.h()).json()["code"]
        == "bundle_not_ready"
    )
    ok = client.post(f"{WO}/{wid}/override-checks", json={"note": "customer accepts"}, headers=brand_a.h())
    assert ok.status_code == 200, ok.text
    wo = ok.json()
    assert (
        wo["status"] == "ready"
        and wo["checks_overridden_by"] == brand_a.owner_id
        and wo["checks_overridden_at"]
    )
    assert wo["history"][-1] == {
        **wo["history"][-1],
        "from_status": "needs_review",
        "to_status": "ready",
        "note": "customer accepts",
    }
    assert client.post(f"{WO}/{wid}/override-checks", headers=brand_a.h()).status_code == 409
    # a re-export keeps the override: straight back to ready
    assert client.post(f"{WO}/{wid}/export", headers=brand_a.h()).json()["status"] in ("exporting", "ready")
    run_jobs()
    assert _wo(client, brand_a, wid)["status"] == "ready"


def test_failed_export_marks_failed_emails_and_can_be_retried(client, brand_a, cat_a, monkeypatch):
    set_production_email(brand_a)
    from luneo.manufacturing import tasks

    real = tasks.export_spec

    def broken(*a, **kw):
        raise ValueError("asset storage unreadable")

    monkeypatch.setattr(tasks, "export_spec", broken)
    sid = snapshot(client, brand_a, cat_a["DEMO-PENDANT"], PENDANT)
    wid = client.post(WO, json={"snapshot_id": sid}, headers=brand_a.h()).json()["id"]
    assert run_jobs() == ["failed"]
    wo = _wo(client, brand_a, wid)
    assert wo["status"] == "failed" and "asset storage unreadable" in wo["error"]
    mails = emails()
    assert len(mails) == 1 and mails[0].context["reason"] == "export_failed"
    assert "asset storage unreadable" in mails[0].context["error"]
    monkeypatch.setattr(tasks, "export_spec", real)
    r = client.post(f"{WO}/{wid}/transition", json={"to": "queued", "note": "retry"}, headers=brand_a.h())
    assert r.status_code == 200 and r.json()["status"] == "exporting"
    assert run_jobs() == ["success"]
    assert _wo(client, brand_a, wid)["status"] == "ready"


def _production_user(brand) -> dict[str, str]:
    from luneo.platform.config import get_settings
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.tenancy import service

    with get_db().transaction() as s:
        bind_system(s)
        user = service.create_user(s, email=f"prod@{brand.slug}.example", password="correct horse battery")
        bind_tenant(s, brand.id)
        service.add_member(s, brand_id=brand.id, user_id=user.id, role="production")
        bind_system(s)
        token, _ = service.login(s, get_settings(), user.email, "correct horse battery")
    return {"Authorization": f"Bearer {token}"}


def test_production_role_moves_work_orders_and_sees_no_billing(client, brand_a, cat_a, app):
    h = _production_user(brand_a)
    sid = snapshot(client, brand_a, cat_a["DEMO-PENDANT"], PENDANT)
    publish("order.paid", paid_payload(brand_a, "ord_role", [("oi_r", sid, 1)]))
    run_jobs()
    listed = client.get(WO, headers=h)
    assert listed.status_code == 200 and len(listed.json()["data"]) == 1
    wid = listed.json()["data"][0]["id"]
    r = client.post(f"{WO}/{wid}/transition", json={"to": "in_production"}, headers=h)
    assert r.status_code == 200 and r.json()["history"][-1]["actor"] != brand_a.owner_id
    pack = client.get(f"{WO}/{wid}/pack", headers=h)
    assert pack.status_code == 200 and pack.json()["sha256"]
    assert client.get("/api/v1/manufacturing/bundles/ord_role", headers=h).status_code == 200
    paths = app.openapi()["paths"]
    billing = [
        p
        for p in ("/api/v1/credits/balance", "/api/v1/billing/subscription", "/api/v1/credits/transactions")
        if p in paths
    ]
    assert billing, "billing routes are expected in this app"
    for path in billing:
        denied = client.get(path, headers=h)
        assert denied.status_code == 403, (path, denied.text)
        assert client.get(path, headers=brand_a.h()).status_code == 200
    assert client.post("/api/v1/credits/buy", json={"pack_id": "pack_100"}, headers=h).status_code in (
        403,
        422,
    )

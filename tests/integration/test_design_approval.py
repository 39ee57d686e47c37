"""Issue 13 item 8: the shopper's proof (texts as made, production's print checks before payment)
and approval, required by the brand before the design can be sold."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.demo import pk

SHOPPER_A = "shopper-aaaa-approval-0123456789"
SHOPPER_B = "shopper-bbbb-approval-0123456789"
CUSTOMER = {"email": "ada@example.com", "name": "Ada"}


@pytest.fixture(autouse=True)
def fresh_storage(settings):
    from luneo.platform.storage import set_storage

    set_storage(None)
    yield
    set_storage(None)


def require_approval(brand_id: str, on: bool = True) -> None:
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system
    from luneo.tenancy.models import Brand

    with get_db().transaction() as s:
        bind_system(s)
        brand = s.get(Brand, brand_id)
        assert brand is not None
        brand.settings = {**(brand.settings or {}), "require_design_approval": on}


def snapshot(client, brand, token: str, product_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
    r = client.post(
        "/api/v1/snapshots", json={"product_id": product_id, "inputs": inputs}, headers=pk(brand, token)
    )
    assert r.status_code in (200, 201), r.text
    return r.json()


def pendant(name: str = "Emma", initial: str = "E") -> dict[str, Any]:
    return {"arc_text": {"text": name, "font": "fnt_serif"}, "initial": {"text": initial}}


def add_to_cart(client, brand, token: str, product_id: str, snap_id: str):
    return client.post(
        "/api/v1/cart/add",
        headers=pk(brand, token),
        json={"product_id": product_id, "quantity": 1, "snapshot_id": snap_id},
    )


def test_unapproved_design_cannot_be_ordered_when_the_brand_requires_approval(client, brand_a, cat_a):
    """The defect: a brand requiring approval still sold designs the shopper never approved."""
    pid = cat_a["DEMO-PENDANT"]
    snap = snapshot(client, brand_a, SHOPPER_A, pid, pendant())
    # lines added before the brand turned the requirement on are checked at checkout
    assert add_to_cart(client, brand_a, SHOPPER_A, pid, snap["id"]).status_code == 201
    require_approval(brand_a.id)
    r = client.post("/api/v1/cart/checkout", headers=pk(brand_a, SHOPPER_A), json={"customer": CUSTOMER})
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "design_not_approved" and r.json()["snapshot_id"] == snap["id"]
    r = client.post("/api/v1/orders/from-cart", headers=pk(brand_a, SHOPPER_A), json={"customer": CUSTOMER})
    assert r.status_code in (403, 409), r.text
    client.delete("/api/v1/cart", headers=pk(brand_a, SHOPPER_A))

    other = snapshot(client, brand_a, SHOPPER_A, pid, pendant("Lucas", "L"))
    r = add_to_cart(client, brand_a, SHOPPER_A, pid, other["id"])
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "design_not_approved"
    assert r.headers["content-type"].startswith("application/problem+json")

    ok = client.post(f"/api/v1/snapshots/{other['id']}/approve", headers=pk(brand_a, SHOPPER_A))
    assert ok.status_code == 200, ok.text
    assert add_to_cart(client, brand_a, SHOPPER_A, pid, other["id"]).status_code == 201
    r = client.post("/api/v1/cart/checkout", headers=pk(brand_a, SHOPPER_A), json={"customer": CUSTOMER})
    assert r.status_code == 201, r.text


def test_without_the_brand_setting_no_approval_is_needed(client, brand_a, cat_a):
    pid = cat_a["DEMO-PENDANT"]
    snap = snapshot(client, brand_a, SHOPPER_A, pid, pendant("Noa", "N"))
    proof = client.get(f"/api/v1/snapshots/{snap['id']}/proof", headers=pk(brand_a, SHOPPER_A)).json()
    assert proof["approval_required"] is False and proof["approved"] is False
    assert add_to_cart(client, brand_a, SHOPPER_A, pid, snap["id"]).status_code == 201


def test_proof_shows_the_texts_as_they_will_be_made(client, brand_a, cat_a):
    pid = cat_a["DEMO-PENDANT"]
    long_name = "Zoe\u0301 Alexandrina M"  # decomposed é: made as NFC, auto-shrunk to fit the arc
    snap = snapshot(client, brand_a, SHOPPER_A, pid, pendant(long_name, "Z"))
    r = client.get(f"/api/v1/snapshots/{snap['id']}/proof", headers=pk(brand_a, SHOPPER_A))
    assert r.status_code == 200, r.text
    proof = r.json()
    assert proof["snapshot_id"] == snap["id"] and proof["spec_hash"] == snap["spec_hash"]
    assert proof["product_name"] and proof["preview_request"]["snapshot_id"] == snap["id"]
    zones = {z["zone"]: z for z in proof["zones"]}
    arc = zones["arc_text"]
    assert arc["text"] == "Zoé Alexandrina M" and arc["font"] == "fnt_serif"
    assert arc["auto_shrunk"] is True and arc["size_pt"] < arc["max_size_pt"]
    assert zones["initial"]["text"] == "Z"
    # the preview request it names is one the rendering API accepts for this shopper
    pr = client.post("/api/v1/renders/preview", json=proof["preview_request"], headers=pk(brand_a, SHOPPER_A))
    assert pr.status_code in (200, 202), pr.text


def test_blocking_print_findings_are_shown_before_payment_and_stop_approval(client, brand_a, cat_a):
    """Text too thin for the brand's engraver (its product asks 1 mm strokes) is an error
    production would stop on: the proof shows it, and the shopper cannot approve it."""
    pid = cat_a["DEMO-PENDANT"]
    r = client.patch(f"/api/v1/products/{pid}", json={"min_stroke_mm": 1.0}, headers=brand_a.h())
    assert r.status_code == 200, r.text
    snap = snapshot(client, brand_a, SHOPPER_A, pid, pendant("Emma", "E"))
    proof = client.get(f"/api/v1/snapshots/{snap['id']}/proof", headers=pk(brand_a, SHOPPER_A)).json()
    assert proof["blocking"] is True
    thin = [f for f in proof["findings"] if f["code"] == "stroke_too_thin"]
    assert thin and thin[0]["severity"] == "error"
    assert thin[0]["params"]["thinnest_mm"] < thin[0]["params"]["min_mm"] == 1.0
    # exactly the findings the production export of this snapshot reports
    assert proof["findings"] == _production_findings(brand_a, snap)

    r = client.post(f"/api/v1/snapshots/{snap['id']}/approve", headers=pk(brand_a, SHOPPER_A))
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["code"] == "proof_blocked" and any(f["code"] == "stroke_too_thin" for f in body["findings"])
    got = client.get(f"/api/v1/snapshots/{snap['id']}", headers=brand_a.h("sk")).json()
    assert got["approvals"] == []


def _production_findings(brand, snap: dict[str, Any]) -> list[dict[str, Any]]:
    from luneo.designs.resources import BrandResources
    from luneo.manufacturing.export import PackOptions, export_spec, issue_dict
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_tenant

    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand.id)
        result = export_spec(snap["spec"], snap["spec_hash"], BrandResources(s), PackOptions())
    return [issue_dict(i) for i in result.issues]


def test_approval_is_per_shopper_and_shown_to_the_brand(client, brand_a, cat_a):
    require_approval(brand_a.id)
    pid = cat_a["DEMO-PENDANT"]
    snap = snapshot(client, brand_a, SHOPPER_A, pid, pendant("Ines", "I"))
    r = client.post(f"/api/v1/snapshots/{snap['id']}/approve", headers=pk(brand_a, SHOPPER_A))
    assert r.status_code == 200, r.text
    approval = r.json()
    assert approval["spec_hash"] == snap["spec_hash"] and approval["approved_by"].startswith("shp_")
    assert SHOPPER_A not in r.text
    again = client.post(f"/api/v1/snapshots/{snap['id']}/approve", headers=pk(brand_a, SHOPPER_A)).json()
    assert again["approved_at"] == approval["approved_at"]  # idempotent

    # B makes the same design (same snapshot): A's approval does not stand for B's
    same = snapshot(client, brand_a, SHOPPER_B, pid, pendant("Ines", "I"))
    assert same["id"] == snap["id"] and same["approvals"] == []
    proof_b = client.get(f"/api/v1/snapshots/{snap['id']}/proof", headers=pk(brand_a, SHOPPER_B)).json()
    assert proof_b["approval_required"] is True and proof_b["approved"] is False
    assert add_to_cart(client, brand_a, SHOPPER_B, pid, snap["id"]).status_code == 409
    assert add_to_cart(client, brand_a, SHOPPER_A, pid, snap["id"]).status_code == 201

    # the brand sees who approved, when and which spec_hash
    brand_view = client.get(f"/api/v1/snapshots/{snap['id']}", headers=brand_a.h("sk")).json()
    assert [a["approved_by"] for a in brand_view["approvals"]] == [approval["approved_by"]]
    assert brand_view["approvals"][0]["spec_hash"] == snap["spec_hash"]
    assert brand_view["approvals"][0]["approved_at"].endswith(("Z", "+00:00"))


def test_proof_and_approval_of_another_brand_or_shopper_are_404(client, brand_a, brand_b, cat_a):
    pid = cat_a["DEMO-PENDANT"]
    snap = snapshot(client, brand_a, SHOPPER_A, pid, pendant("Mia", "M"))
    for path in (f"/api/v1/snapshots/{snap['id']}/proof",):
        assert client.get(path, headers=pk(brand_b, SHOPPER_A)).status_code == 404
        assert client.get(path, headers=pk(brand_a, SHOPPER_B)).status_code == 404
        assert client.get(path, headers=brand_b.h()).status_code == 404
    approve = f"/api/v1/snapshots/{snap['id']}/approve"
    assert client.post(approve, headers=pk(brand_b, SHOPPER_A)).status_code == 404
    assert client.post(approve, headers=pk(brand_a, SHOPPER_B)).status_code == 404
    assert client.post(approve, headers=brand_a.h("pk")).status_code == 422  # no shopper token

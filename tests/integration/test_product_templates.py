"""Issue 14 §2: product templates — preset designs a shopper can start from.

The brand API (`/products/{id}/templates`), its limits and its checks (the widget's own rules),
another brand's ids answering 404 on every route, the demo seed, and the widget's listing with
previews rendered by the preview pipeline.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.demo import seed_catalog

API = "/api/v1"
SIGN_OK = {"title": {"kind": "text", "text": "Open"}, "subtitle": {"kind": "text", "text": "Every day"}}


@pytest.fixture
def cat(brand_a):
    return seed_catalog(brand_a)


def _url(pid: str, tid: str | None = None) -> str:
    return f"{API}/products/{pid}/templates" + (f"/{tid}" if tid else "")


def _create(client, brand, pid: str, name: str = "Shop", inputs: dict[str, Any] | None = None, **kw: Any):
    return client.post(
        _url(pid), json={"name": name, "inputs": inputs or SIGN_OK, **kw}, headers=brand.h("sk")
    )


def test_create_list_update_delete(client, brand_a, cat):
    pid = cat["DEMO-SIGN"]
    r = _create(client, brand_a, pid, "Shop front")
    assert r.status_code == 201, r.text
    tpl = r.json()
    assert tpl["id"].startswith("tpl_") and tpl["position"] == 0 and tpl["active"] is True
    assert tpl["inputs"] == SIGN_OK
    second = _create(client, brand_a, pid, "Second").json()
    assert second["position"] == 1

    listed = client.get(_url(pid), headers=brand_a.h()).json()["data"]  # the owner's session
    assert [t["name"] for t in listed] == ["Shop front", "Second"]

    r = client.patch(
        _url(pid, second["id"]), json={"position": 0, "name": "First now"}, headers=brand_a.h("sk")
    )
    assert r.status_code == 200, r.text
    listed = client.get(_url(pid), headers=brand_a.h("sk")).json()["data"]
    assert [(t["name"], t["position"]) for t in listed] == [("First now", 0), ("Shop front", 1)]

    r = client.patch(_url(pid, tpl["id"]), json={"active": False}, headers=brand_a.h("sk"))
    assert r.json()["active"] is False

    assert client.delete(_url(pid, second["id"]), headers=brand_a.h("sk")).status_code == 204
    listed = client.get(_url(pid), headers=brand_a.h("sk")).json()["data"]
    assert [(t["id"], t["position"]) for t in listed] == [(tpl["id"], 0)]


def test_invalid_inputs_are_422_with_per_field_errors_and_no_write(client, brand_a, cat):
    pid = cat["DEMO-SIGN"]
    bad = {"title": {"kind": "text", "text": "x" * 60}}  # max 24 characters
    r = _create(client, brand_a, pid, "Too long", bad)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "invalid_template"
    assert "inputs.title" in {e["field"] for e in body["errors"]}
    # a required zone left empty is refused too (the pendant's initial)
    r = _create(
        client, brand_a, cat["DEMO-PENDANT"], "No initial", {"arc_text": {"kind": "text", "text": "Hi"}}
    )
    assert r.status_code == 422 and "inputs.initial" in {e["field"] for e in r.json()["errors"]}
    # a colour the zone does not allow (the card's name: navy or black)
    card = {"name": {"kind": "text", "text": "Ann", "color": "#ff0000"}}
    r = _create(client, brand_a, cat["DEMO-CARD"], "Red", card)
    assert r.status_code == 422 and "inputs.name" in {e["field"] for e in r.json()["errors"]}
    # photos are not part of templates
    r = _create(client, brand_a, cat["DEMO-MUG"], "Photo", {"photo": {"kind": "image", "asset_id": "ast_x"}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "inputs.photo"
    assert client.get(_url(pid), headers=brand_a.h("sk")).json()["data"] == []

    ok = _create(client, brand_a, pid).json()
    r = client.patch(_url(pid, ok["id"]), json={"inputs": bad, "name": "Renamed"}, headers=brand_a.h("sk"))
    assert r.status_code == 422
    again = client.get(_url(pid), headers=brand_a.h("sk")).json()["data"][0]
    assert again["name"] == "Shop" and again["inputs"] == SIGN_OK  # no partial write


def test_limits(client, brand_a, cat):
    pid = cat["DEMO-SIGN"]
    assert _create(client, brand_a, pid, "").status_code == 422
    assert _create(client, brand_a, pid, "n" * 81).status_code == 422
    assert _create(client, brand_a, pid, "n" * 80).status_code == 201
    for i in range(23):
        assert _create(client, brand_a, pid, f"T{i}").status_code == 201
    r = _create(client, brand_a, pid, "One too many")
    assert r.status_code == 409 and r.json()["code"] == "too_many_templates"


def test_another_brands_product_and_template_are_404_on_every_route(client, brand_a, brand_b, cat):
    pid = cat["DEMO-SIGN"]
    tid = _create(client, brand_a, pid).json()["id"]
    cat_b = seed_catalog(brand_b)
    own_b = cat_b["DEMO-SIGN"]
    h = brand_b.h("sk")
    assert client.get(_url(pid), headers=h).status_code == 404
    assert client.post(_url(pid), json={"name": "x", "inputs": SIGN_OK}, headers=h).status_code == 404
    assert client.patch(_url(pid, tid), json={"name": "x"}, headers=h).status_code == 404
    assert client.delete(_url(pid, tid), headers=h).status_code == 404
    # brand A's template through brand B's own product: still not found
    assert client.patch(_url(own_b, tid), json={"name": "x"}, headers=h).status_code == 404
    assert client.delete(_url(own_b, tid), headers=h).status_code == 404
    # and the widget route
    assert client.get(f"{API}/widget/products/{pid}/templates", headers=brand_b.h("pk")).status_code == 404
    assert client.get(_url(pid), headers=brand_a.h("sk")).json()["data"][0]["name"] == "Shop"


def test_publishable_key_cannot_manage_templates(client, brand_a, cat):
    pid = cat["DEMO-SIGN"]
    h = brand_a.h("pk")
    assert client.get(_url(pid), headers=h).status_code == 403
    assert client.post(_url(pid), json={"name": "x", "inputs": SIGN_OK}, headers=h).status_code == 403


def test_demo_seed_has_templates_and_is_idempotent(client, brand_a, cat):
    seed_catalog(brand_a)
    for sku in ("DEMO-PENDANT", "DEMO-CARD"):
        names = [t["name"] for t in client.get(_url(cat[sku]), headers=brand_a.h("sk")).json()["data"]]
        assert len(names) == 2 and len(set(names)) == 2


def test_openapi_describes_the_routes(app):
    paths = app.openapi()["paths"]
    assert {"get", "post"} <= set(paths[f"{API}/products/{{product_id}}/templates"])
    assert {"patch", "delete"} <= set(paths[f"{API}/products/{{product_id}}/templates/{{template_id}}"])
    assert "get" in paths[f"{API}/widget/products/{{product_id}}/templates"]


# --------------------------------------------------------------------------- widget


def test_widget_lists_active_templates_with_their_rendered_preview(client, brand_a, cat, db):
    from tests.integration.test_rendering import run_jobs

    pid = cat["DEMO-PENDANT"]
    off = client.get(_url(pid), headers=brand_a.h("sk")).json()["data"][1]
    client.patch(_url(pid, off["id"]), json={"active": False}, headers=brand_a.h("sk"))
    url = f"{API}/widget/products/{pid}/templates"
    first = client.get(url, headers=brand_a.h("pk"))
    assert first.status_code == 200, first.text
    data = first.json()["data"]
    assert [t["name"] for t in data] == ["Classic"]  # the inactive one is not offered
    assert data[0]["inputs"]["initial"] == {"kind": "text", "text": "L", "font": "fnt_script"}
    assert data[0]["preview"] is None  # asked for now, rendered by the preview job
    run_jobs(db)
    again = client.get(url, headers=brand_a.h("pk")).json()["data"][0]
    preview = again["preview"]
    assert preview and preview["url"] and preview["width_px"] > 0
    # the very render the widget's own preview of those inputs gives (same spec, same options)
    h = brand_a.h("pk", **{"X-Shopper-Token": "shopper-templates-0123456789"})
    spec = client.post(f"{API}/specs", json={"product_id": pid, "inputs": again["inputs"]}, headers=h)
    assert spec.status_code in (200, 201), spec.text
    assert spec.json()["spec_hash"] == preview["spec_hash"]
    image = client.get(preview["url"])
    assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_widget_templates_empty_and_inactive_product(client, brand_a, cat):
    r = client.get(f"{API}/widget/products/{cat['DEMO-SIGN']}/templates", headers=brand_a.h("pk"))
    assert r.status_code == 200 and r.json() == {"data": []}
    client.patch(f"{API}/products/{cat['DEMO-SIGN']}", json={"status": "draft"}, headers=brand_a.h("sk"))
    r = client.get(f"{API}/widget/products/{cat['DEMO-SIGN']}/templates", headers=brand_a.h("pk"))
    assert r.status_code == 404


def test_deleting_a_product_deletes_its_templates(client, brand_a, cat):
    pid = cat["DEMO-SIGN"]
    tid = _create(client, brand_a, pid).json()["id"]
    assert client.delete(f"{API}/products/{pid}", headers=brand_a.h("sk")).status_code == 204
    assert client.get(_url(pid), headers=brand_a.h("sk")).status_code == 404
    assert client.patch(_url(pid, tid), json={"name": "x"}, headers=brand_a.h("sk")).status_code == 404

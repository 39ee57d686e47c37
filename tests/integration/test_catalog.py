"""Catalog API: products, zones, definitions, fonts, permissions, demo seed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from luneo.design.model import ProductDef
from tests.integration.factories.catalog import png_bytes, product_body

API = "/api/v1"


@pytest.fixture(autouse=True)
def _fresh_storage(settings):
    from luneo.platform.storage import set_storage

    set_storage(None)
    yield
    set_storage(None)


def _create(client, brand, **overrides):
    body = {**product_body(overrides.pop("sku", "MUG-1")), **overrides}
    r = client.post(f"{API}/products", json=body, headers=brand.h())
    assert r.status_code == 201, r.text
    return r.json()


# --------------------------------------------------------------------------- products


def test_create_get_embeds_zones_and_rules(client, brand_a):
    p = _create(
        client,
        brand_a,
        zones=[
            {
                "key": "name",
                "label": "Name",
                "kind": "text",
                "geometry": {"x_mm": 10, "y_mm": 10, "width_mm": 100, "height_mm": 30},
                "rules": {
                    "max_chars": 12,
                    "allowed_fonts": ["fnt_sans", "fnt_serif"],
                    "blocked_words": ["nope"],
                },
                "default_font": "fnt_serif",
            }
        ],
    )
    assert p["id"].startswith("prd_") and p["version"] == 1 and p["status"] == "draft"
    r = client.get(f"{API}/products/{p['id']}", headers=brand_a.h())
    assert r.status_code == 200
    zone = r.json()["zones"][0]
    assert zone["id"].startswith("zon_") and zone["rules"]["max_chars"] == 12
    assert zone["rules"]["blocked_words"] == ["nope"] and zone["default_font"] == "fnt_serif"


def test_validation_errors_are_problems_with_fields(client, brand_a):
    r = client.post(f"{API}/products", json={**product_body(), "colour": "red"}, headers=brand_a.h())
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "validation_error"
    assert any(e["field"] == "colour" and e["type"] == "extra_forbidden" for e in r.json()["errors"])

    r = client.post(f"{API}/products", json={**product_body(), "price_cents": -1}, headers=brand_a.h())
    assert r.status_code == 422 and any(e["field"] == "price_cents" for e in r.json()["errors"])

    for bad in (
        {"currency": "euro"},
        {"width_mm": 0},
        {"output_dpi": 10},
        {"palette": ["red"]},
        {"sku": "has space"},
        {"status": "deleted"},
    ):
        r = client.post(f"{API}/products", json={**product_body(), **bad}, headers=brand_a.h())
        assert r.status_code == 422, bad


def test_semantic_validation(client, brand_a):
    body = {**product_body(), "shape": "rounded_rect", "corner_radius_mm": 60}
    r = client.post(f"{API}/products", json=body, headers=brand_a.h())
    assert r.status_code == 422 and r.json()["code"] == "invalid_product"
    assert r.json()["errors"][0]["field"] == "corner_radius_mm"

    body = product_body()
    body["zones"][0]["geometry"]["width_mm"] = 500
    r = client.post(f"{API}/products", json=body, headers=brand_a.h())
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "zone_out_of_bounds"

    body = product_body()
    body["zones"][0]["rules"] = {"allowed_fonts": ["fnt_nope"]}
    r = client.post(f"{API}/products", json=body, headers=brand_a.h())
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "unknown_font"

    body = product_body()
    body["zones"].append(dict(body["zones"][0]))
    assert client.post(f"{API}/products", json=body, headers=brand_a.h()).status_code == 422

    r = client.post(
        f"{API}/products", json={**product_body(), "model3d": {"kind": "procedural"}}, headers=brand_a.h()
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_model3d"


def test_duplicate_sku_is_409_but_other_brand_may_reuse(client, brand_a, brand_b):
    _create(client, brand_a, sku="DUP")
    r = client.post(f"{API}/products", json=product_body("DUP"), headers=brand_a.h())
    assert r.status_code == 409 and r.json()["code"] == "sku_taken"
    assert client.post(f"{API}/products", json=product_body("DUP"), headers=brand_b.h()).status_code == 201
    other = _create(client, brand_a, sku="OTHER")
    r = client.patch(f"{API}/products/{other['id']}", json={"sku": "DUP"}, headers=brand_a.h())
    assert r.status_code == 409 and r.json()["code"] == "sku_taken"


def test_patch_bumps_version_only_on_change(client, brand_a):
    p = _create(client, brand_a)
    r = client.patch(
        f"{API}/products/{p['id']}", json={"name": "New name", "price_cents": 2100}, headers=brand_a.h()
    )
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["price_cents"] == 2100
    r = client.patch(f"{API}/products/{p['id']}", json={"name": "New name"}, headers=brand_a.h())
    assert r.json()["version"] == 2
    r = client.patch(f"{API}/products/{p['id']}", json={"name": None}, headers=brand_a.h())
    assert r.status_code == 422
    r = client.patch(f"{API}/products/{p['id']}", json={"width_mm": 50}, headers=brand_a.h())
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "zone_out_of_bounds"
    assert client.get(f"{API}/products/{p['id']}", headers=brand_a.h()).json()["width_mm"] == 200


def test_pagination_walks_everything(client, brand_a):
    ids = {_create(client, brand_a, sku=f"P-{i}")["id"] for i in range(5)}
    seen, cursor = [], None
    while True:
        url = f"{API}/products?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=brand_a.h()).json()
        assert len(page["data"]) <= 2
        seen += [p["id"] for p in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5 and set(seen) == ids
    assert client.get(f"{API}/products?cursor=%%%", headers=brand_a.h()).status_code == 422


def test_filters(client, brand_a):
    _create(client, brand_a, sku="ENG-1", name="Gold pendant", production_method="engrave", status="active")
    _create(client, brand_a, sku="MUG-9", name="Big mug", status="active")
    _create(client, brand_a, sku="CARD_1", name="Card")

    def skus(query):
        r = client.get(f"{API}/products?{query}", headers=brand_a.h())
        assert r.status_code == 200, r.text
        return sorted(p["sku"] for p in r.json()["data"])

    assert skus("status=active") == ["ENG-1", "MUG-9"]
    assert skus("production_method=engrave") == ["ENG-1"]
    assert skus("q=MUG") == ["MUG-9"]
    assert skus("q=pendant") == ["ENG-1"]
    assert skus("q=_") == ["CARD_1"]  # LIKE wildcards are literal
    assert skus("status=draft&q=card") == ["CARD_1"]
    assert client.get(f"{API}/products?status=bogus", headers=brand_a.h()).status_code == 422


def test_definition_round_trip(client, brand_a, db):
    up = client.post(
        f"{API}/assets",
        headers=brand_a.h(),
        data={"kind": "mockup"},
        files={"file": ("m.png", png_bytes(400, 180), "image/png")},
    ).json()
    p = _create(
        client,
        brand_a,
        mockup={"asset_id": up["id"], "px_per_mm": 2},
        model3d={"kind": "procedural", "shape": "mug"},
        palette=["#c9a227", "#1f3a5f"],
    )
    assert p["mockup"] == {
        "asset_id": up["id"],
        "width_px": 400,
        "height_px": 180,
        "offset_x_px": 0.0,
        "offset_y_px": 0.0,
        "px_per_mm": 2.0,
        # placements and maps added with perspective/cylinder mockups (unset for an affine one)
        "corners": None,
        "wrap": None,
        "shading_asset_id": None,
        "displacement_asset_id": None,
        "displacement_px": 0.0,
        "effect": None,
        "engrave_tone": "darken",
    }
    r = client.get(f"{API}/products/{p['id']}/definition", headers=brand_a.h("pk"))
    assert r.status_code == 200
    d = ProductDef.model_validate(r.json())
    assert d.id == p["id"] and d.sku == "MUG-1" and d.mockup and d.mockup.asset_sha256 == up["sha256"]
    assert d.model3d and d.model3d.shape == "mug" and [z.key for z in d.zones] == ["name"]

    from luneo.catalog import service
    from luneo.platform.tenancy import bind_tenant

    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        assert service.product_def(s, p["id"]) == d
        assert service.get_product_by_sku(s, "MUG-1").id == p["id"]
        assert service.asset_lookup(s, up["id"]) == (up["sha256"], 400, 180)
        with pytest.raises(Exception) as exc:
            service.get_product_by_sku(s, "NOPE")
        assert getattr(exc.value, "code", None) == "not_found"  # answered 404 at the edge
    with db.transaction() as s:
        bind_tenant(s, brand_a.id + "x")
        with pytest.raises(Exception) as exc:
            service.product_def(s, p["id"])
        assert getattr(exc.value, "code", None) == "not_found"  # answered 404 at the edge


def test_mockup_asset_cannot_be_deleted_while_used(client, brand_a):
    up = client.post(
        f"{API}/assets", headers=brand_a.h(), files={"file": ("m.png", png_bytes(), "image/png")}
    ).json()
    p = _create(client, brand_a, mockup={"asset_id": up["id"], "px_per_mm": 1})
    r = client.delete(f"{API}/assets/{up['id']}", headers=brand_a.h())
    assert r.status_code == 409 and r.json()["code"] == "asset_in_use"
    assert (
        client.patch(f"{API}/products/{p['id']}", json={"mockup": None}, headers=brand_a.h()).status_code
        == 200
    )
    assert client.delete(f"{API}/assets/{up['id']}", headers=brand_a.h()).status_code == 204
    assert client.get(f"{API}/assets/{up['id']}", headers=brand_a.h()).status_code == 404


def test_reference_checker_registry(client, brand_a, db):
    from luneo.catalog import service

    up = client.post(
        f"{API}/assets", headers=brand_a.h(), files={"file": ("m.png", png_bytes(), "image/png")}
    ).json()
    held = {up["id"]}

    def checker(session, asset_id):
        return asset_id in held

    service.register_asset_reference_checker(checker)
    try:
        assert client.delete(f"{API}/assets/{up['id']}", headers=brand_a.h()).status_code == 409
        held.clear()
        assert client.delete(f"{API}/assets/{up['id']}", headers=brand_a.h()).status_code == 204
    finally:
        service._ASSET_REF_CHECKERS.remove(checker)


def test_external_ids_are_mapped_uniquely(client, brand_a, db):
    p = _create(client, brand_a, external_ids={"shopify": "123"})
    r = client.post(
        f"{API}/products",
        json={**product_body("X2"), "external_ids": {"shopify": "123"}},
        headers=brand_a.h(),
    )
    assert r.status_code == 409 and r.json()["code"] == "external_id_taken"
    from luneo.catalog import service
    from luneo.platform.tenancy import bind_tenant

    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        found = service.get_product_by_external_id(s, "shopify", "123")
        assert found is not None and found.id == p["id"]
    client.patch(f"{API}/products/{p['id']}", json={"external_ids": {"shopify": "456"}}, headers=brand_a.h())
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        assert service.get_product_by_external_id(s, "shopify", "123") is None
        assert service.get_product_by_external_id(s, "shopify", "456").id == p["id"]


def test_delete_product(client, brand_a):
    p = _create(client, brand_a)
    assert client.delete(f"{API}/products/{p['id']}", headers=brand_a.h()).status_code == 204
    assert client.get(f"{API}/products/{p['id']}", headers=brand_a.h()).status_code == 404
    assert client.get(f"{API}/products/{p['id']}/zones", headers=brand_a.h()).status_code == 404


# --------------------------------------------------------------------------- zones


def test_zone_crud_bumps_product_version(client, brand_a):
    p = _create(client, brand_a)
    base = f"{API}/products/{p['id']}/zones"
    z = {
        "key": "photo",
        "kind": "image",
        "sort_order": -1,
        "geometry": {"x_mm": 120, "y_mm": 5, "width_mm": 70, "height_mm": 80},
    }
    r = client.post(base, json=z, headers=brand_a.h())
    assert r.status_code == 201, r.text
    zid = r.json()["id"]
    assert client.post(base, json=z, headers=brand_a.h()).json()["code"] == "zone_key_taken"
    zones = client.get(base, headers=brand_a.h()).json()["data"]
    assert [x["key"] for x in zones] == ["photo", "name"]
    r = client.patch(
        f"{base}/{zid}", json={"label": "Your photo", "rules": {"required": True}}, headers=brand_a.h()
    )
    assert (
        r.status_code == 200 and r.json()["rules"]["required"] is True and r.json()["label"] == "Your photo"
    )
    r = client.patch(f"{base}/{zid}", json={"key": "name"}, headers=brand_a.h())
    assert r.status_code == 409
    r = client.patch(
        f"{base}/{zid}",
        json={"geometry": {"x_mm": 190, "y_mm": 0, "width_mm": 70, "height_mm": 10}},
        headers=brand_a.h(),
    )
    assert r.status_code == 422
    r = client.patch(f"{base}/{zid}", json={"bogus": 1}, headers=brand_a.h())
    assert r.status_code == 422
    assert client.get(f"{base}/{zid}", headers=brand_a.h()).json()["label"] == "Your photo"
    assert client.delete(f"{base}/{zid}", headers=brand_a.h()).status_code == 204
    assert client.get(f"{base}/{zid}", headers=brand_a.h()).status_code == 404
    final = client.get(f"{API}/products/{p['id']}", headers=brand_a.h()).json()
    assert final["version"] == 4 and [x["key"] for x in final["zones"]] == ["name"]


def test_zone_of_another_product_is_404(client, brand_a):
    p1, p2 = _create(client, brand_a, sku="A1"), _create(client, brand_a, sku="A2")
    zid = p2["zones"][0]["id"]
    assert client.get(f"{API}/products/{p1['id']}/zones/{zid}", headers=brand_a.h()).status_code == 404
    assert client.delete(f"{API}/products/{p1['id']}/zones/{zid}", headers=brand_a.h()).status_code == 404


# --------------------------------------------------------------------------- permissions


def test_publishable_key_reads_but_cannot_write(client, brand_a):
    p = _create(client, brand_a)
    assert client.get(f"{API}/products", headers=brand_a.h("pk")).status_code == 200
    assert client.get(f"{API}/products/{p['id']}", headers=brand_a.h("pk")).status_code == 200
    assert client.get(f"{API}/fonts", headers=brand_a.h("pk")).status_code == 200
    for method, url, kw in [
        ("POST", f"{API}/products", {"json": product_body("PK")}),
        ("PATCH", f"{API}/products/{p['id']}", {"json": {"name": "x"}}),
        ("DELETE", f"{API}/products/{p['id']}", {}),
        ("POST", f"{API}/assets", {"files": {"file": ("a.png", png_bytes(), "image/png")}}),
    ]:
        r = client.request(method, url, headers=brand_a.h("pk"), **kw)
        assert r.status_code == 403 and r.json()["code"] == "forbidden", (method, url)
    assert client.get(f"{API}/products", headers=brand_a.h("sk")).status_code == 200
    assert client.post(f"{API}/products", json=product_body("SK"), headers=brand_a.h("sk")).status_code == 201
    assert client.get(f"{API}/products").status_code == 401


# --------------------------------------------------------------------------- fonts


def _font_subset(flavor):
    from tests.unit.catalog.test_fonts import small_font

    return small_font(flavor)


def test_fonts_bundled_and_brand(client, brand_a, brand_b):
    page = client.get(f"{API}/fonts", headers=brand_a.h()).json()
    ids = [f["id"] for f in page["data"]]
    assert {"fnt_sans", "fnt_serif", "fnt_script", "fnt_display", "fnt_mono"} <= set(ids)
    assert client.get(f"{API}/fonts/fnt_sans", headers=brand_a.h()).json()["source"] == "bundled"

    from luneo.design.fonts import font_bytes

    r = client.post(
        f"{API}/fonts",
        headers=brand_a.h(),
        data={"licence_note": "OFL, bought 2026"},
        files={"file": ("Mono.ttf", font_bytes("fnt_mono"), "font/ttf")},
    )
    assert r.status_code == 201, r.text
    f = r.json()
    assert f["id"].startswith("fnt_") and f["source"] == "brand" and f["format"] == "ttf"
    assert f["family"] == "JetBrains Mono" and f["licence_note"] == "OFL, bought 2026" and f["url"]
    again = client.post(
        f"{API}/fonts", headers=brand_a.h(), files={"file": ("x.ttf", font_bytes("fnt_mono"))}
    )
    assert again.json()["id"] == f["id"]
    assert client.get(f["url"]).content == font_bytes("fnt_mono")

    w2 = client.post(
        f"{API}/fonts",
        headers=brand_a.h(),
        data={"family": "My Web Font"},
        files={"file": ("w.woff2", _font_subset("woff2"), "font/woff2")},
    )
    assert w2.status_code == 201, w2.text
    assert w2.json()["format"] == "ttf" and w2.json()["family"] == "My Web Font"
    assert client.get(w2.json()["url"]).content[:4] == b"\x00\x01\x00\x00"

    bad = client.post(
        f"{API}/fonts", headers=brand_a.h(), files={"file": ("x.ttf", b"\x00\x01\x00\x00" + b"1" * 99)}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "font_invalid"
    assert (
        client.post(f"{API}/fonts", headers=brand_a.h(), files={"file": ("x.ttf", b"hello")}).status_code
        == 415
    )

    listed = [x["id"] for x in client.get(f"{API}/fonts", headers=brand_a.h()).json()["data"]]
    assert f["id"] in listed and w2.json()["id"] in listed
    assert f["id"] not in client.get(f"{API}/fonts", headers=brand_b.h()).text
    assert client.get(f"{API}/fonts/{f['id']}", headers=brand_b.h()).status_code == 404

    # a brand font may be offered by zones; then it cannot be deleted
    body = product_body("FONTED")
    body["zones"][0]["rules"] = {"allowed_fonts": [f["id"], "fnt_sans"]}
    assert client.post(f"{API}/products", json=body, headers=brand_a.h()).status_code == 201
    assert (
        client.post(
            f"{API}/products", json=product_body("X") | {"zones": body["zones"]}, headers=brand_b.h()
        ).status_code
        == 422
    )  # not B's font
    r = client.delete(f"{API}/fonts/{f['id']}", headers=brand_a.h())
    assert r.status_code == 409 and r.json()["code"] == "font_in_use"
    assert client.delete(f"{API}/fonts/fnt_sans", headers=brand_a.h()).status_code == 409
    assert client.delete(f"{API}/fonts/{w2.json()['id']}", headers=brand_a.h()).status_code == 204
    assert client.get(f"{API}/fonts/{w2.json()['id']}", headers=brand_a.h()).status_code == 404


def test_font_data_lookup_for_rules_engine(client, brand_a, db):
    from luneo.catalog import service
    from luneo.design.fonts import font_bytes
    from luneo.platform.tenancy import bind_tenant

    fid = client.post(
        f"{API}/fonts", headers=brand_a.h(), files={"file": ("m.ttf", font_bytes("fnt_mono"))}
    ).json()["id"]
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        assert service.font_data(s, fid) == font_bytes("fnt_mono")
        assert service.font_data(s, "fnt_sans") is None
        assert service.font_data(s, "fnt_missing") is None


# --------------------------------------------------------------------------- seed


def test_seed_demo_is_idempotent(client, db, settings):
    from luneo.catalog.models import Product, ProductZone
    from luneo.catalog.seed import DEMO_PRODUCTS
    from luneo.platform.tenancy import bind_system
    from luneo.seed import seed_demo

    def counts():
        with db.transaction() as s:
            bind_system(s)
            return (
                s.execute(select(func.count()).select_from(Product)).scalar_one(),
                s.execute(select(func.count()).select_from(ProductZone)).scalar_one(),
            )

    seed_demo(db, settings)
    first = counts()
    seed_demo(db, settings)
    assert counts() == first and first[0] == len(DEMO_PRODUCTS) == 6

    from luneo.catalog import service
    from luneo.catalog.models import Product as P
    from luneo.platform.tenancy import bind_tenant

    with db.transaction() as s:
        bind_system(s)
        brand_id = s.execute(select(P.brand_id).limit(1)).scalar_one()
        bind_tenant(s, brand_id)
        pendant = service.product_def(s, service.get_product_by_sku(s, "DEMO-PENDANT").id)
        assert pendant.production_method == "engrave" and pendant.shape == "ellipse"
        assert pendant.zones[0].geometry.shape == "arc" and pendant.zones[0].rules.blocked_words
        card = service.product_def(s, service.get_product_by_sku(s, "DEMO-CARD").id)
        assert (
            card.bleed_mm == 3 and card.crop_marks and card.model3d and card.model3d.shape == "business_card"
        )
        shapes = {
            service.product_def(s, p.id).model3d.shape for p in s.execute(select(P)).scalars() if p.model3d
        }
        assert shapes == {"mug", "pendant", "phone_case", "business_card", "sign"}

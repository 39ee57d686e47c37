"""Issue 11 (trust): the publishable key sees the catalogue and its own shopper's objects only,
upload resource limits, `product_in_use`, private previews, foreign ids in bodies refused."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from tests.integration.commerce_helpers import priced_product, snapshot
from tests.integration.demo import pk, seed_catalog

SHOPPER_A = "shopper-aaaa-0123456789abcdef"
SHOPPER_B = "shopper-bbbb-0123456789abcdef"


@pytest.fixture(autouse=True)
def fresh_storage(settings):
    from luneo.platform.storage import set_storage

    set_storage(None)
    yield
    set_storage(None)


def png(size: tuple[int, int] = (600, 400), color: str = "#3366cc", mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color if mode == "RGB" else 128).save(buf, "PNG")
    return buf.getvalue()


def widget_upload(client, brand, token: str, data: bytes | None = None) -> dict[str, Any]:
    r = client.post(
        "/api/v1/widget/uploads",
        headers=pk(brand, token),
        files={"file": ("me.png", data or png(), "image/png")},
    )
    assert r.status_code in (200, 201), r.text
    return r.json()


def _pendant(name: str = "Emma") -> dict[str, Any]:
    return {"arc_text": {"text": name, "font": "fnt_serif"}, "initial": {"text": "E"}}


def run_render_jobs(db) -> None:
    from luneo.platform import jobs
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system

    for _ in range(10):
        with db.transaction(write=False) as s:
            bind_system(s)
            ids = list(s.execute(sa.select(Job.id).where(Job.status == "pending")).scalars())
        if not ids:
            return
        for job_id in ids:
            jobs.execute(db, job_id, worker_id="test-worker", watchdog=False)


# --- item 7: assets ------------------------------------------------------------------------------


def test_publishable_key_gets_no_asset_list(client, brand_a):
    widget_upload(client, brand_a, SHOPPER_A)
    r = client.get("/api/v1/assets", headers=pk(brand_a, SHOPPER_B))
    assert r.status_code in (403, 404), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/assets", headers=brand_a.h("sk")).json()["data"]  # the brand still lists


def test_shopper_upload_is_readable_by_its_shopper_and_the_brand_only(client, brand_a):
    asset_id = widget_upload(client, brand_a, SHOPPER_A)["asset_id"]
    assert client.get(f"/api/v1/assets/{asset_id}", headers=pk(brand_a, SHOPPER_A)).status_code == 200
    other = client.get(f"/api/v1/assets/{asset_id}", headers=pk(brand_a, SHOPPER_B))
    assert other.status_code == 404, other.text
    assert client.get(f"/api/v1/assets/{asset_id}", headers=brand_a.h("sk")).status_code == 200
    assert client.get(f"/api/v1/assets/{asset_id}", headers=brand_a.h()).status_code == 200


def test_same_photo_uploaded_by_two_shoppers_is_readable_by_both(client, brand_a):
    data = png(color="#aa3300")
    a = widget_upload(client, brand_a, SHOPPER_A, data)["asset_id"]
    b = widget_upload(client, brand_a, SHOPPER_B, data)["asset_id"]
    assert a == b  # content-addressed
    assert client.get(f"/api/v1/assets/{a}", headers=pk(brand_a, SHOPPER_B)).status_code == 200


def test_brand_assets_are_not_readable_by_publishable_key(client, brand_a):
    r = client.post("/api/v1/assets", headers=brand_a.h("sk"), files={"file": ("p.png", png(), "image/png")})
    assert r.status_code == 201, r.text
    got = client.get(f"/api/v1/assets/{r.json()['id']}", headers=pk(brand_a, SHOPPER_A))
    assert got.status_code == 404, got.text


# --- item 7: fonts ---------------------------------------------------------------------------------


def test_publishable_key_gets_font_metadata_without_file_url(client, brand_a):
    from luneo.design.fonts import font_bytes

    up = client.post(
        "/api/v1/fonts", headers=brand_a.h(), files={"file": ("mono.ttf", font_bytes("fnt_mono"), "font/ttf")}
    )
    assert up.status_code == 201, up.text
    font_id = up.json()["id"]
    listed = client.get("/api/v1/fonts", headers=pk(brand_a, SHOPPER_A))
    assert listed.status_code == 200, listed.text
    brand_fonts = [f for f in listed.json()["data"] if f["source"] == "brand"]
    assert [f["id"] for f in brand_fonts] == [font_id]
    assert brand_fonts[0]["url"] is None
    one = client.get(f"/api/v1/fonts/{font_id}", headers=pk(brand_a, SHOPPER_A))
    assert one.status_code == 200 and one.json()["url"] is None and one.json()["family"]
    assert client.get(f"/api/v1/fonts/{font_id}", headers=brand_a.h("sk")).json()["url"]


# --- item 7: specs, snapshots, designs, renders -------------------------------------------------


def test_spec_and_snapshot_bound_to_their_shopper(client, brand_a, cat_a):
    pid = cat_a["DEMO-PENDANT"]
    spec = client.post(
        "/api/v1/specs", json={"product_id": pid, "inputs": _pendant()}, headers=pk(brand_a, SHOPPER_A)
    )
    assert spec.status_code == 201, spec.text
    spec_hash = spec.json()["spec_hash"]
    assert client.get(f"/api/v1/specs/{spec_hash}", headers=pk(brand_a, SHOPPER_A)).status_code == 200
    assert client.get(f"/api/v1/specs/{spec_hash}", headers=pk(brand_a, SHOPPER_B)).status_code == 404
    assert client.get(f"/api/v1/specs/{spec_hash}", headers=brand_a.h("sk")).status_code == 200

    snap = client.post(
        "/api/v1/snapshots",
        json={"spec_hash": spec_hash, "provenance": {"source": "widget", "session_id": SHOPPER_A}},
        headers=pk(brand_a, SHOPPER_A),
    )
    assert snap.status_code == 201, snap.text
    snap_id = snap.json()["id"]
    assert client.get(f"/api/v1/snapshots/{snap_id}", headers=pk(brand_a, SHOPPER_A)).status_code == 200
    assert client.get(f"/api/v1/snapshots/{snap_id}", headers=pk(brand_a, SHOPPER_B)).status_code == 404
    assert client.get(f"/api/v1/snapshots/{snap_id}", headers=brand_a.h("sk")).status_code == 200
    assert client.get(f"/api/v1/snapshots/{snap_id}", headers=brand_a.h()).status_code == 200
    # B cannot snapshot A's spec by its hash (it never built it) ...
    stolen = client.post("/api/v1/snapshots", json={"spec_hash": spec_hash}, headers=pk(brand_a, SHOPPER_B))
    assert stolen.status_code == 404, stolen.text
    # ... but building the same design itself yields the snapshot, without A's provenance
    mine = client.post(
        "/api/v1/snapshots", json={"product_id": pid, "inputs": _pendant()}, headers=pk(brand_a, SHOPPER_B)
    )
    assert mine.status_code in (200, 201), mine.text
    assert mine.json()["id"] == snap_id
    assert SHOPPER_A not in mine.text
    assert client.get(f"/api/v1/snapshots/{snap_id}", headers=pk(brand_a, SHOPPER_B)).status_code == 200
    # a saved design cannot be made from another shopper's spec either
    dsg = client.post(
        "/api/v1/designs", json={"name": "x", "spec_hash": spec_hash}, headers=pk(brand_a, SHOPPER_A)
    )
    assert dsg.status_code == 201, dsg.text
    assert (
        client.get(f"/api/v1/designs/{dsg.json()['id']}", headers=pk(brand_a, SHOPPER_B)).status_code == 404
    )


def test_brand_snapshot_is_not_readable_by_publishable_key(client, brand_a, cat_a):
    pid = cat_a["DEMO-PENDANT"]
    snap = client.post(
        "/api/v1/snapshots", json={"product_id": pid, "inputs": _pendant("Brand")}, headers=brand_a.h("sk")
    )
    assert snap.status_code == 201, snap.text
    got = client.get(f"/api/v1/snapshots/{snap.json()['id']}", headers=pk(brand_a, SHOPPER_A))
    assert got.status_code == 404, got.text
    spec = client.get(f"/api/v1/specs/{snap.json()['spec_hash']}", headers=pk(brand_a, SHOPPER_A))
    assert spec.status_code == 404, spec.text


def test_render_bound_to_its_shopper_and_preview_is_private(client, brand_a, cat_a, db):
    pid = cat_a["DEMO-PENDANT"]
    spec_hash = client.post(
        "/api/v1/specs",
        json={"product_id": pid, "inputs": _pendant("Render")},
        headers=pk(brand_a, SHOPPER_A),
    ).json()["spec_hash"]
    r = client.post(
        "/api/v1/renders/preview", json={"spec_hash": spec_hash, "width": 256}, headers=pk(brand_a, SHOPPER_A)
    )
    assert r.status_code in (200, 202), r.text
    render_id = r.json()["render_id"]
    # B may not render A's spec by its hash
    b = client.post(
        "/api/v1/renders/preview", json={"spec_hash": spec_hash, "width": 256}, headers=pk(brand_a, SHOPPER_B)
    )
    assert b.status_code == 404, b.text
    run_render_jobs(db)
    st = client.get(f"/api/v1/renders/{render_id}/status", headers=pk(brand_a, SHOPPER_A))
    assert st.status_code == 200 and st.json()["status"] == "success", st.text
    assert (
        client.get(f"/api/v1/renders/{render_id}/status", headers=pk(brand_a, SHOPPER_B)).status_code == 404
    )
    assert client.get(f"/api/v1/renders/{render_id}/status", headers=brand_a.h("sk")).status_code == 200
    img = client.get(f"/api/v1/renders/{render_id}/preview", headers=pk(brand_a, SHOPPER_A))
    assert img.status_code == 200, img.text
    cc = img.headers["cache-control"]
    assert "private" in cc and "public" not in cc
    # the preview (also once cached in memory) is not served to another shopper
    assert (
        client.get(f"/api/v1/renders/{render_id}/preview", headers=pk(brand_a, SHOPPER_B)).status_code == 404
    )
    owner = client.get(f"/api/v1/renders/{render_id}/preview", headers=brand_a.h())
    assert owner.status_code == 200 and "public" not in owner.headers["cache-control"]


def test_spec_naming_another_shoppers_photo_is_refused(client, brand_a, cat_a, db):
    pid = cat_a["DEMO-MUG"]
    asset_id = widget_upload(client, brand_a, SHOPPER_A, png((1200, 900)))["asset_id"]
    inputs = {"photo": {"kind": "image", "asset_id": asset_id}, "name": {"text": "Léa"}}
    mine = client.post(
        "/api/v1/specs", json={"product_id": pid, "inputs": inputs}, headers=pk(brand_a, SHOPPER_A)
    )
    assert mine.status_code == 201, mine.text
    with db.transaction(write=False) as s:
        from luneo.platform.tenancy import bind_system

        bind_system(s)
        before = s.execute(sa.text("select count(*) from design_specs")).scalar()
    inputs["name"]["text"] = "Other"
    theirs = client.post(
        "/api/v1/specs", json={"product_id": pid, "inputs": inputs}, headers=pk(brand_a, SHOPPER_B)
    )
    assert theirs.status_code in (404, 422), theirs.text
    snap = client.post(
        "/api/v1/snapshots", json={"product_id": pid, "inputs": inputs}, headers=pk(brand_a, SHOPPER_B)
    )
    assert snap.status_code in (404, 422), snap.text
    with db.transaction(write=False) as s:
        from luneo.platform.tenancy import bind_system

        bind_system(s)
        assert s.execute(sa.text("select count(*) from design_specs")).scalar() == before


# --- item 19: foreign ids in bodies ---------------------------------------------------------------


def test_foreign_ids_in_bodies_are_refused_and_nothing_is_stored(client, brand_a, brand_b, cat_a, db):
    from luneo.design.fonts import font_bytes

    seed_catalog(brand_b)
    foreign_asset = client.post(
        "/api/v1/assets", headers=brand_b.h(), files={"file": ("p.png", png((1200, 900)), "image/png")}
    ).json()["id"]
    foreign_font = client.post(
        "/api/v1/fonts", headers=brand_b.h(), files={"file": ("m.ttf", font_bytes("fnt_mono"), "font/ttf")}
    ).json()["id"]
    body = {
        "sku": "FOREIGN-1",
        "name": "x",
        "width_mm": 100,
        "height_mm": 100,
        "mockup": {"asset_id": foreign_asset, "px_per_mm": 2},
    }
    assert client.post("/api/v1/products", json=body, headers=brand_a.h()).status_code in (404, 422)
    body = {
        "sku": "FOREIGN-2",
        "name": "x",
        "width_mm": 100,
        "height_mm": 100,
        "zones": [
            {
                "key": "t",
                "kind": "text",
                "default_font": foreign_font,
                "geometry": {"x_mm": 1, "y_mm": 1, "width_mm": 50, "height_mm": 20},
            }
        ],
    }
    assert client.post("/api/v1/products", json=body, headers=brand_a.h()).status_code in (404, 422)
    mug = cat_a["DEMO-MUG"]
    inputs = {"photo": {"kind": "image", "asset_id": foreign_asset}, "name": {"text": "Ann"}}
    assert client.post(
        "/api/v1/specs", json={"product_id": mug, "inputs": inputs}, headers=brand_a.h()
    ).status_code in (404, 422)
    inputs = {"arc_text": {"text": "Ann", "font": foreign_font}, "initial": {"text": "A"}}
    assert client.post(
        "/api/v1/snapshots", json={"product_id": cat_a["DEMO-PENDANT"], "inputs": inputs}, headers=brand_a.h()
    ).status_code in (404, 422)
    b_spec = client.post(
        "/api/v1/specs",
        json={"product_id": seed_catalog(brand_b)["DEMO-PENDANT"], "inputs": _pendant()},
        headers=brand_b.h(),
    ).json()["spec_hash"]
    assert (
        client.post("/api/v1/snapshots", json={"spec_hash": b_spec}, headers=brand_a.h()).status_code == 404
    )
    assert (
        client.post("/api/v1/renders/preview", json={"spec_hash": b_spec}, headers=brand_a.h()).status_code
        == 404
    )
    with db.transaction(write=False) as s:
        from luneo.platform.tenancy import bind_system

        bind_system(s)
        brand_rows = sa.text("select count(*) from {} where brand_id = :b")
        for table in ("products", "design_specs", "snapshots", "render_results"):
            n = s.execute(sa.text(str(brand_rows).format(table)), {"b": brand_a.id}).scalar()
            assert n == (6 if table == "products" else 0), table


# --- item 15: product_in_use ------------------------------------------------------------------------


def test_deleting_a_product_in_a_cart_is_409(client, brand_a):
    pid = priced_product(client, brand_a)
    snap = snapshot(client, brand_a, pid, {"name": {"text": "Ann"}}, pk(brand_a, SHOPPER_A))
    r = client.post(
        "/api/v1/cart/add",
        headers=pk(brand_a, SHOPPER_A),
        json={"product_id": pid, "quantity": 1, "snapshot_id": snap},
    )
    assert r.status_code == 201, r.text
    d = client.delete(f"/api/v1/products/{pid}", headers=brand_a.h())
    assert d.status_code == 409, d.text
    assert d.json()["code"] == "product_in_use"
    assert client.get(f"/api/v1/products/{pid}", headers=brand_a.h()).status_code == 200


def test_deleting_a_product_in_an_order_is_409(client, brand_a):
    pid = priced_product(client, brand_a, sku="ORD-1")
    snap = snapshot(client, brand_a, pid, {"name": {"text": "Bo"}})
    o = client.post(
        "/api/v1/orders",
        headers=brand_a.h("sk"),
        json={
            "items": [{"product_id": pid, "quantity": 1, "snapshot_id": snap}],
            "customer": {"email": "ada@example.com", "name": "Ada"},
        },
    )
    assert o.status_code == 201, o.text
    d = client.delete(f"/api/v1/products/{pid}", headers=brand_a.h())
    assert d.status_code == 409, d.text
    assert d.json()["code"] == "product_in_use"


def test_unused_product_still_deletes(client, brand_a):
    pid = priced_product(client, brand_a, sku="FREE-1")
    assert client.delete(f"/api/v1/products/{pid}", headers=brand_a.h()).status_code == 204


# --- item 16: shopper uploads ---------------------------------------------------------------------


def test_shopper_photo_over_25_megapixels_is_refused(client, brand_a):
    data = png((6000, 4400), mode="L")  # 26.4 MP: under the brand's 60 MP cap
    r = client.post(
        "/api/v1/widget/uploads",
        headers=pk(brand_a, SHOPPER_A),
        files={"file": ("big.png", data, "image/png")},
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "image_too_large"
    assert r.json()["max_pixels"] == 25_000_000


def test_image_decoding_is_capped_in_concurrency(client, brand_a, monkeypatch):
    from luneo.catalog import assets

    gate = threading.BoundedSemaphore(1)
    monkeypatch.setattr(assets, "_DECODE_SLOTS", gate)
    monkeypatch.setattr(assets, "DECODE_WAIT_S", 0.05)
    assert gate.acquire()
    try:
        r = client.post(
            "/api/v1/widget/uploads",
            headers=pk(brand_a, SHOPPER_A),
            files={"file": ("me.png", png(), "image/png")},
        )
    finally:
        gate.release()
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "uploads_busy"
    assert int(r.headers["retry-after"]) >= 1
    ok = client.post(
        "/api/v1/widget/uploads",
        headers=pk(brand_a, SHOPPER_A),
        files={"file": ("me.png", png(), "image/png")},
    )
    assert ok.status_code == 201, ok.text


def test_woff2_declaring_huge_sizes_is_refused_on_upload(client, brand_a):
    from tests.unit.catalog.test_font_limits import woff2_bomb

    r = client.post(
        "/api/v1/fonts", headers=brand_a.h(), files={"file": ("bomb.woff2", woff2_bomb(), "font/woff2")}
    )
    assert r.status_code in (413, 422), r.text
    assert r.json()["code"] == "font_too_large"


def test_upload_routes_are_rate_limited_per_client_ip(client, brand_a, monkeypatch):
    from luneo.platform.config import get_settings

    monkeypatch.setattr(get_settings(), "rate_limit_upload_ip", "3/minute")
    codes = [
        client.post(
            "/api/v1/widget/uploads",
            headers=pk(brand_a, SHOPPER_A),
            files={"file": ("me.png", png(color=c), "image/png")},
        ).status_code
        for c in ("#000001", "#000002", "#000003")
    ]
    assert codes == [201, 201, 201]
    over = client.post(
        "/api/v1/assets", headers=brand_a.h("sk"), files={"file": ("p.png", png(), "image/png")}
    )
    assert over.status_code == 429, over.text
    assert over.json()["code"] == "rate_limited" and int(over.headers["retry-after"]) >= 1
    font = client.post("/api/v1/fonts", headers=brand_a.h(), files={"file": ("f.ttf", b"x", "font/ttf")})
    assert font.status_code == 429
    assert client.get("/api/v1/fonts", headers=brand_a.h()).status_code == 200  # reads are not uploads


def test_cart_refuses_another_shoppers_snapshot(client, brand_a, cat_a):
    """A widget shopper cannot buy a snapshot another shopper made (404 like a missing one)."""
    pid = cat_a["DEMO-PENDANT"]
    snap = client.post(
        "/api/v1/snapshots",
        json={"product_id": pid, "inputs": _pendant("Alice")},
        headers=pk(brand_a, SHOPPER_A),
    )
    assert snap.status_code == 201, snap.text
    line = {"product_id": pid, "snapshot_id": snap.json()["id"], "quantity": 1}
    stolen = client.post("/api/v1/cart/add", json=line, headers=pk(brand_a, SHOPPER_B))
    assert stolen.status_code == 404, stolen.text
    assert client.get("/api/v1/cart", headers=pk(brand_a, SHOPPER_B)).json()["items"] == []
    mine = client.post("/api/v1/cart/add", json=line, headers=pk(brand_a, SHOPPER_A))
    assert mine.status_code in (200, 201), mine.text


def test_snapshot_provenance_never_stores_the_shopper_token(client, brand_a, cat_a):
    """The shopper token is a bearer credential for its cart: provenance keeps only a digest of it."""
    snap = client.post(
        "/api/v1/snapshots",
        json={
            "product_id": cat_a["DEMO-PENDANT"],
            "inputs": _pendant("Token"),
            "provenance": {"source": "widget", "session_id": SHOPPER_A},
        },
        headers=pk(brand_a, SHOPPER_A),
    )
    assert snap.status_code == 201, snap.text
    seen = client.get(f"/api/v1/snapshots/{snap.json()['id']}", headers=brand_a.h("sk"))
    assert seen.status_code == 200
    assert SHOPPER_A not in seen.text
    assert seen.json()["provenance"]["session_id"].startswith("shp_")


def test_secret_key_acting_for_a_shopper_can_cart_its_brands_snapshot(client, brand_a, cat_a):
    """A storefront backend (secret key) that sends `X-Shopper-Token` uses that shopper's cart; the
    brand's own snapshot can go into it (the brand vouches), and the shopper can then read it."""
    pid = cat_a["DEMO-PENDANT"]
    snap = client.post(
        "/api/v1/snapshots", json={"product_id": pid, "inputs": _pendant("Server")}, headers=brand_a.h("sk")
    )
    assert snap.status_code == 201, snap.text
    snap_id = snap.json()["id"]
    acting = brand_a.h("sk", **{"X-Shopper-Token": SHOPPER_A})
    added = client.post(
        "/api/v1/cart/add", json={"product_id": pid, "snapshot_id": snap_id, "quantity": 1}, headers=acting
    )
    assert added.status_code == 201, added.text
    assert [i["snapshot_id"] for i in added.json()["items"]] == [snap_id]
    cart = client.get("/api/v1/cart", headers=pk(brand_a, SHOPPER_A))
    assert [i["snapshot_id"] for i in cart.json()["items"]] == [snap_id]
    assert client.get(f"/api/v1/snapshots/{snap_id}", headers=pk(brand_a, SHOPPER_A)).status_code == 200
    # another shopper still cannot read it, nor add it with the publishable key
    assert client.get(f"/api/v1/snapshots/{snap_id}", headers=pk(brand_a, SHOPPER_B)).status_code == 404
    refused = client.post(
        "/api/v1/cart/add",
        json={"product_id": pid, "snapshot_id": snap_id, "quantity": 1},
        headers=pk(brand_a, SHOPPER_B),
    )
    assert refused.status_code == 404, refused.text

"""Mockups over HTTP: every demo product ships one, the preview's `view: "mockup"`, the placement's
422 problems, compatibility with the older affine mockup, and isolation between brands."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.integration.demo import upload_png
from tests.integration.test_rendering import demo_inputs, make_spec, run_jobs

API = "/api/v1"


@pytest.fixture(autouse=True)
def fresh_storage(settings):
    from luneo.platform.storage import set_storage

    set_storage(None)
    yield
    set_storage(None)


def _png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 200, 200)).save(buf, "PNG")
    return buf.getvalue()


def _mockup_asset(client, brand, w: int = 400, h: int = 300) -> str:
    r = client.post(
        f"{API}/assets",
        headers=brand.h(),
        data={"kind": "mockup"},
        files={"file": ("m.png", _png(w, h), "image/png")},
    )
    assert r.status_code in (200, 201), r.text
    return str(r.json()["id"])


def _preview(client, brand, spec_hash: str, db, **options: Any) -> tuple[str, Image.Image]:
    r = client.post(
        f"{API}/renders/preview", json={"spec_hash": spec_hash, "width": 512, **options}, headers=brand.h()
    )
    assert r.status_code in (200, 202), r.text
    render_id = r.json()["render_id"]
    run_jobs(db)
    img = client.get(f"{API}/renders/{render_id}/preview", headers=brand.h())
    assert img.status_code == 200, img.text
    return render_id, Image.open(io.BytesIO(img.content))


def test_every_demo_product_ships_a_project_made_mockup(client, brand_a, cat_a):
    for sku, product_id in cat_a.items():
        m = client.get(f"{API}/products/{product_id}", headers=brand_a.h()).json()["mockup"]
        assert m is not None, sku
        assert (m["corners"] is None) != (m["wrap"] is None), sku  # a quad, or the mug's cylinder
        assert m["px_per_mm"] is None
        asset = client.get(f"{API}/assets/{m['asset_id']}", headers=brand_a.h()).json()
        assert asset["kind"] == "mockup" and asset["width_px"] == m["width_px"]
    mug = client.get(f"{API}/products/{cat_a['DEMO-MUG']}", headers=brand_a.h()).json()["mockup"]
    assert 0 < mug["wrap"]["arc_deg"] < 360 and mug["shading_asset_id"]
    # A map in use is kept like the photo itself.
    r = client.delete(f"{API}/assets/{mug['shading_asset_id']}", headers=brand_a.h())
    assert r.status_code == 409 and r.json()["code"] == "asset_in_use"


def test_mockup_view_of_a_product_without_mockup_is_the_flat_preview(client, brand_a, cat_a, db):
    pid = cat_a["DEMO-SIGN"]
    assert (
        client.patch(f"{API}/products/{pid}", json={"mockup": None}, headers=brand_a.h()).status_code == 200
    )
    spec_hash = make_spec(client, brand_a, pid, demo_inputs(client, brand_a, "DEMO-SIGN", ""))
    _fid, flat = _preview(client, brand_a, spec_hash, db)
    _mid, mock = _preview(client, brand_a, spec_hash, db, view="mockup")
    assert mock.size == flat.size and np.array_equal(np.asarray(mock), np.asarray(flat))


def test_mockup_view_renders_the_design_on_the_photo(client, brand_a, cat_a, db):
    photo = upload_png(client, brand_a, size=(1600, 1600))["id"]
    for sku in ("DEMO-MUG", "DEMO-PENDANT", "DEMO-TSHIRT"):
        spec_hash = make_spec(client, brand_a, cat_a[sku], demo_inputs(client, brand_a, sku, photo))
        flat_id, _flat = _preview(client, brand_a, spec_hash, db)
        mock_id, mock = _preview(client, brand_a, spec_hash, db, view="mockup")
        assert flat_id != mock_id
        m = client.get(f"{API}/products/{cat_a[sku]}", headers=brand_a.h()).json()["mockup"]
        assert mock.width == 512 and mock.height == round(m["height_px"] * 512 / m["width_px"])
        # The photo shows around the design: its corners are the studio background, not transparent.
        rgb = np.asarray(mock.convert("RGBA"))
        assert rgb[2, 2, 3] == 255 and rgb[2, 2, :3].min() > 150
        # The older flag names the same render.
        r = client.post(
            f"{API}/renders/preview",
            json={"spec_hash": spec_hash, "width": 512, "mockup": True},
            headers=brand_a.h(),
        )
        assert r.status_code == 200 and r.json()["render_id"] == mock_id


def test_view_flat_with_mockup_true_is_refused(client, brand_a, cat_a):
    spec_hash = make_spec(client, brand_a, cat_a["DEMO-SIGN"], demo_inputs(client, brand_a, "DEMO-SIGN", ""))
    r = client.post(
        f"{API}/renders/preview",
        json={"spec_hash": spec_hash, "view": "flat", "mockup": True},
        headers=brand_a.h(),
    )
    assert r.status_code == 422
    bad = client.post(
        f"{API}/renders/preview", json={"spec_hash": spec_hash, "view": "3d"}, headers=brand_a.h()
    )
    assert bad.status_code == 422


def _patch_mockup(client, brand, product_id: str, mockup: dict[str, Any]) -> Any:
    return client.patch(f"{API}/products/{product_id}", json={"mockup": mockup}, headers=brand.h())


def test_mockup_placement_problems(client, brand_a, cat_a):
    asset = _mockup_asset(client, brand_a)
    pid = cat_a["DEMO-CARD"]

    def problem(mockup: dict[str, Any]) -> tuple[int, str, list[str]]:
        r = _patch_mockup(client, brand_a, pid, {"asset_id": asset, **mockup})
        body = r.json()
        return r.status_code, body.get("code"), [e.get("type") for e in body.get("errors", [])]

    status, code, types = problem({"corners": [[10, 10], [390, 10], [450, 290], [10, 290]]})
    assert (status, code, types) == (422, "invalid_mockup", ["corner_outside_image"])
    status, code, types = problem({"corners": [[10, 10], [200, 10], [390, 10], [10, 290]]})
    assert (status, code, types) == (422, "invalid_mockup", ["degenerate_quad"])
    status, code, types = problem({"corners": [[10, 10], [390, 290], [390, 10], [10, 290]]})  # bow-tie
    assert (status, code, types) == (422, "invalid_mockup", ["degenerate_quad"])
    status, code, types = problem({})
    assert (status, code, types) == (422, "invalid_mockup", ["placement_required"])
    wrap = {"left_px": 50, "right_px": 350, "top_px": 40, "bottom_px": 250, "arc_deg": 360}
    assert problem({"wrap": wrap})[:2] == (422, "validation_error")
    assert problem({"wrap": {**wrap, "arc_deg": 0}})[:2] == (422, "validation_error")
    status, code, types = problem({"wrap": {**wrap, "arc_deg": 200, "right_px": 420}})
    assert (status, code, types) == (422, "invalid_mockup", ["wrap_outside_image"])
    ok = _patch_mockup(client, brand_a, pid, {"asset_id": asset, "wrap": {**wrap, "arc_deg": 200}})
    assert ok.status_code == 200, ok.text
    assert ok.json()["mockup"]["wrap"]["arc_deg"] == 200


def test_older_affine_mockup_keeps_working(client, brand_a, cat_a, db):
    asset = _mockup_asset(client, brand_a, 400, 300)
    pid = cat_a["DEMO-CARD"]
    r = _patch_mockup(
        client, brand_a, pid, {"asset_id": asset, "px_per_mm": 4, "offset_x_px": 30, "offset_y_px": 40}
    )
    assert r.status_code == 200, r.text
    d = client.get(f"{API}/products/{pid}/definition", headers=brand_a.h()).json()["mockup"]
    assert set(d) == {"asset_sha256", "width_px", "height_px", "offset_x_px", "offset_y_px", "px_per_mm"}
    spec_hash = make_spec(client, brand_a, pid, demo_inputs(client, brand_a, "DEMO-CARD", ""))
    _rid, img = _preview(client, brand_a, spec_hash, db, view="mockup")
    a = np.asarray(img.convert("RGB")).astype(int)
    assert img.size == (512, 384)
    # The card (85 × 55 mm at 4 px/mm from (30, 40)) lands at ×1.28 on the 512 px preview; the grey
    # photo shows outside it, the navy name inside it.
    assert tuple(a[10, 10]) == (200, 200, 200)
    card = a[round(40 * 1.28) : round((40 + 220) * 1.28), round(30 * 1.28) : round((30 + 340) * 1.28)]
    assert (card[..., 2] - card[..., 0] > 40).any()


def test_other_brands_product_and_spec_are_not_found(client, brand_a, brand_b, cat_a):
    asset_b = _mockup_asset(client, brand_b)
    pid = cat_a["DEMO-CARD"]
    corners = [[10, 10], [390, 10], [390, 290], [10, 290]]
    r = _patch_mockup(client, brand_b, pid, {"asset_id": asset_b, "corners": corners})
    assert r.status_code == 404
    # brand A cannot use brand B's image either
    r = _patch_mockup(client, brand_a, pid, {"asset_id": asset_b, "corners": corners})
    assert r.status_code == 422 and r.json()["code"] == "unknown_asset"
    spec_hash = make_spec(client, brand_a, pid, demo_inputs(client, brand_a, "DEMO-CARD", ""))
    r = client.post(
        f"{API}/renders/preview", json={"spec_hash": spec_hash, "view": "mockup"}, headers=brand_b.h()
    )
    assert r.status_code == 404

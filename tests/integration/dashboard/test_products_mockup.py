"""Dashboard mockup editor: print-area corners or a wrap region placed on the product photo, saved
through the catalog service (same checks as the API), with a rendered mockup preview."""

from __future__ import annotations

import base64
import io
import json
import re
from typing import Any

import pytest
from PIL import Image

from .helpers import post, sign_in
from .test_products import _api_product, _create, _member, _png, _zone

QUAD = [(40, 20), (360, 30), (350, 160), (50, 170)]


def _corners_form(corners: list[tuple[float, float]], **over: Any) -> dict[str, Any]:
    form: dict[str, Any] = {"placement": "corners"}
    for i, (x, y) in enumerate(corners):
        form[f"corner_{i}_x"] = str(x)
        form[f"corner_{i}_y"] = str(y)
    return {**form, **over}


def _upload_mockup(client: Any, csrf: str, product_id: str, w: int = 400, h: int = 180) -> None:
    r = client.post(
        f"/dashboard/products/{product_id}/mockup",
        data={"csrf": csrf},
        files={"file": ("mug.png", _png(w, h, "#d8d4c8"), "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:1000]


def _save(client: Any, csrf: str, product_id: str, form: dict[str, Any], files: Any = None) -> Any:
    return client.post(
        f"/dashboard/products/{product_id}/mockup/placement",
        data={**form, "csrf": csrf},
        files=files,
        follow_redirects=False,
    )


@pytest.fixture
def owner(client: Any, brand_a: Any) -> str:
    return sign_in(client, brand_a.owner_email)


@pytest.fixture
def product_id(client: Any, owner: str) -> str:
    pid = _create(client, owner)
    _upload_mockup(client, owner, pid)
    return pid


def test_the_upload_leads_to_the_editor_with_the_photo_and_its_corners(
    client: Any, owner: str, product_id: str
) -> None:
    page = client.get(f"/dashboard/products/{product_id}/mockup")
    assert page.status_code == 200
    assert "products-mockup-editor.js" in page.text
    config = json.loads(
        re.search(
            r'<script type="application/json" id="mockup-config">(.*?)</script>', page.text, re.S
        ).group(1)  # type: ignore[union-attr]
    )
    assert config["width_px"] == 400 and config["height_px"] == 180
    assert config["corners"] == [[0, 0], [400, 0], [400, 180], [0, 180]]
    for label in ("Top-left corner", "Top-right corner", "Bottom-right corner", "Bottom-left corner"):
        assert f'aria-label="{label}' in page.text
    assert 'name="corner_3_y"' in page.text and 'name="arc_deg"' in page.text
    assert f"/dashboard/products/{product_id}/mockup" in client.get(f"/dashboard/products/{product_id}").text


def test_saving_corners_updates_the_products_mockup(
    client: Any, brand_a: Any, owner: str, product_id: str
) -> None:
    r = _save(client, owner, product_id, _corners_form(QUAD, effect="engrave", engrave_tone="lighten"))
    assert r.status_code == 303, r.text[:2000]
    assert r.headers["location"] == f"/dashboard/products/{product_id}/mockup?saved=1"
    mockup = _api_product(client, brand_a, product_id)["mockup"]
    assert mockup["corners"] == [list(c) for c in QUAD]
    assert mockup["effect"] == "engrave" and mockup["engrave_tone"] == "lighten"
    assert mockup["width_px"] == 400 and mockup.get("wrap") is None


def test_saving_a_wrap_region_with_a_shading_map(
    client: Any, brand_a: Any, owner: str, product_id: str
) -> None:
    form = {
        "placement": "wrap",
        "left_px": "60",
        "right_px": "340",
        "top_px": "30",
        "bottom_px": "160",
        "top_curve_px": "12",
        "bottom_curve_px": "14",
        "arc_deg": "200",
        "facing_deg": "10",
        "displacement_px": "4",
    }
    files = {"shading": ("shade.png", _png(400, 180, "#808080"), "image/png")}
    r = _save(client, owner, product_id, form, files)
    assert r.status_code == 303, r.text[:2000]
    mockup = _api_product(client, brand_a, product_id)["mockup"]
    assert mockup.get("corners") is None
    assert mockup["wrap"]["left_px"] == 60 and mockup["wrap"]["arc_deg"] == 200
    assert mockup["wrap"]["bottom_curve_px"] == 14 and mockup["wrap"]["facing_deg"] == 10
    assert mockup["shading_asset_id"] and mockup["displacement_px"] == 4
    # Saving again without a file keeps the map; ticking "remove" drops it.
    assert _save(client, owner, product_id, form).status_code == 303
    assert (
        _api_product(client, brand_a, product_id)["mockup"]["shading_asset_id"] == mockup["shading_asset_id"]
    )
    assert _save(client, owner, product_id, {**form, "remove_shading": "1"}).status_code == 303
    assert _api_product(client, brand_a, product_id)["mockup"].get("shading_asset_id") is None


@pytest.mark.parametrize(
    "form,field,message",
    [
        (
            _corners_form([(40, 20), (350, 160), (360, 30), (50, 170)]),
            "f-corners-error",
            "convex quadrilateral",
        ),
        (_corners_form([(40, 20), (460, 30), (350, 160), (50, 170)]), "f-corner_1-error", "outside"),
        (_corners_form(QUAD, corner_2_x="abc"), "f-corner_2-error", "number"),
        (
            {
                "placement": "wrap",
                "left_px": "300",
                "right_px": "100",
                "top_px": "10",
                "bottom_px": "100",
                "arc_deg": "180",
            },
            "f-wrap-error",
            "left_px",
        ),
        (
            {
                "placement": "wrap",
                "left_px": "0",
                "right_px": "900",
                "top_px": "0",
                "bottom_px": "90",
                "arc_deg": "90",
            },
            "f-wrap-error",
            "inside",
        ),
        (
            {
                "placement": "wrap",
                "left_px": "0",
                "right_px": "90",
                "top_px": "0",
                "bottom_px": "90",
                "arc_deg": "400",
            },
            "f-arc_deg-error",
            "360",
        ),
    ],
)
def test_an_invalid_placement_is_422_with_the_message_next_to_the_field_and_writes_nothing(
    client: Any, brand_a: Any, owner: str, product_id: str, form: dict[str, Any], field: str, message: str
) -> None:
    before = _api_product(client, brand_a, product_id)
    r = _save(client, owner, product_id, form)
    assert r.status_code == 422, r.text[:2000]
    found = re.search(rf'<p class="error" id="{field}">([^<]*)</p>', r.text)
    assert found, (field, r.text[:4000])
    assert message in found.group(1)
    assert 'role="alert"' in r.text
    after = _api_product(client, brand_a, product_id)
    assert after["mockup"] == before["mockup"] and after["version"] == before["version"]


def test_a_bad_shading_file_is_a_field_error(client: Any, brand_a: Any, owner: str, product_id: str) -> None:
    before = _api_product(client, brand_a, product_id)["mockup"]
    files = {"shading": ("x.png", b"not an image", "image/png")}
    r = _save(client, owner, product_id, _corners_form(QUAD), files)
    assert r.status_code == 422 and 'id="f-shading-error"' in r.text
    assert _api_product(client, brand_a, product_id)["mockup"] == before


def test_without_a_photo_the_editor_asks_for_one_and_saving_is_refused(
    client: Any, brand_a: Any, owner: str
) -> None:
    pid = _create(client, owner, sku="NOPHOTO")
    page = client.get(f"/dashboard/products/{pid}/mockup")
    assert page.status_code == 200 and 'id="f-mockup-file"' in page.text and "mockup-config" not in page.text
    r = _save(client, owner, pid, _corners_form(QUAD))
    assert r.status_code == 422 and _api_product(client, brand_a, pid)["mockup"] is None


def test_the_preview_renders_the_sample_design_on_the_photo(client: Any, owner: str, product_id: str) -> None:
    post(client, f"/dashboard/products/{product_id}/zones", owner, {"zones": json.dumps([_zone()])})
    assert _save(client, owner, product_id, _corners_form(QUAD)).status_code == 303
    page = client.get(f"/dashboard/products/{product_id}/mockup?saved=1")
    assert f'hx-get="/dashboard/products/{product_id}/mockup/preview"' in page.text
    r = client.get(f"/dashboard/products/{product_id}/mockup/preview", headers={"HX-Request": "true"})
    assert r.status_code == 200
    found = re.search(r'src="data:image/png;base64,([^"]+)"', r.text)
    assert found, r.text[:1000]
    img = Image.open(io.BytesIO(base64.b64decode(found.group(1)))).convert("RGB")
    assert img.width == 400 and img.height == 180  # the photo's frame
    # The sample text is drawn inside the quad (the plain photo colour is #d8d4c8 everywhere).
    inside = {img.getpixel((x, y)) for x in range(60, 340, 4) for y in range(40, 150, 4)}
    outside = {img.getpixel((x, 5)) for x in range(0, 400, 8)}
    assert len(inside) > 3 and len(outside) <= 2


def test_the_preview_leaves_a_required_photo_zone_empty_and_names_it(
    client: Any, owner: str, product_id: str
) -> None:
    photo = _zone("photo", kind="image", label="Photo", rules={"required": True})
    photo["geometry"] = {"shape": "rect", "x_mm": 100, "y_mm": 10, "width_mm": 80, "height_mm": 60}
    r = post(
        client, f"/dashboard/products/{product_id}/zones", owner, {"zones": json.dumps([_zone(), photo])}
    )
    assert r.status_code == 303, r.text[:1000]
    r = client.get(f"/dashboard/products/{product_id}/mockup/preview", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "data:image/png;base64," in r.text, r.text[:1000]
    assert "alert--warn" not in r.text and "Photo" in r.text


def test_another_brands_product_answers_404(client: Any, brand_a: Any, brand_b: Any) -> None:
    csrf_b = sign_in(client, brand_b.owner_email)
    product_b = _create(client, csrf_b, sku="B-1")
    _upload_mockup(client, csrf_b, product_b)
    before = _api_product(client, brand_b, product_b)["mockup"]
    client.cookies.clear()
    csrf_a = sign_in(client, brand_a.owner_email)
    for path in (
        f"/dashboard/products/{product_b}/mockup",
        f"/dashboard/products/{product_b}/mockup/preview",
    ):
        assert client.get(path).status_code == 404, path
    assert _save(client, csrf_a, product_b, _corners_form(QUAD)).status_code == 404
    assert _api_product(client, brand_b, product_b)["mockup"] == before


def test_a_viewer_sees_the_placement_read_only_and_cannot_save(
    client: Any, brand_a: Any, owner: str, product_id: str
) -> None:
    before = _api_product(client, brand_a, product_id)["mockup"]
    client.cookies.clear()
    csrf = sign_in(client, _member(brand_a, "viewer"))
    page = client.get(f"/dashboard/products/{product_id}/mockup")
    assert page.status_code == 200
    assert "Save placement" not in page.text and 'enctype="multipart/form-data"' not in page.text
    assert '"can_write": false' in page.text
    assert _save(client, csrf, product_id, _corners_form(QUAD)).status_code == 403
    assert _api_product(client, brand_a, product_id)["mockup"] == before

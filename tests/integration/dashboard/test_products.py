"""Dashboard products, zone editor, fonts and assets: same rules as the API, tenant isolation, roles."""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import event

from .helpers import post, sign_in

FONT = Path(__file__).resolve().parents[3] / "src/luneo/design/fonts/DejaVuSans.ttf"


def _png(w: int = 40, h: int = 30, colour: str = "#3b2f8f") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), colour).save(out, "PNG")
    return out.getvalue()


def _product_form(**over: Any) -> dict[str, Any]:
    return {
        "sku": "MUG-1",
        "name": "Mug",
        "description": "",
        "status": "draft",
        "price": "12.50",
        "currency": "EUR",
        "width_mm": "200",
        "height_mm": "90",
        "production_method": "print",
        "bleed_mm": "2",
        "palette_new": "#112233",
        **over,
    }


def _zone(key: str = "name", **over: Any) -> dict[str, Any]:
    return {
        "key": key,
        "label": key.title(),
        "kind": "text",
        "geometry": {"shape": "rect", "x_mm": 10, "y_mm": 10, "width_mm": 80, "height_mm": 30},
        "rules": {"max_chars": 12, "max_lines": 1, "required": True, "blocked_words": ["spam"]},
        **over,
    }


def _create(client: Any, csrf: str, **over: Any) -> str:
    r = post(client, "/dashboard/products/new", csrf, _product_form(**over))
    assert r.status_code == 303, r.text[:2000]
    found = re.match(r"/dashboard/products/(prd_[a-z0-9_]+)/zones", r.headers["location"])
    assert found, r.headers["location"]
    return found.group(1)


def _api_product(client: Any, brand: Any, product_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/products/{product_id}", headers=brand.h())
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def owner(client: Any, brand_a: Any) -> str:
    return sign_in(client, brand_a.owner_email)


def _member(brand: Any, role: str) -> str:
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.tenancy import service

    email = f"{role}@{brand.slug}.example"
    with get_db().transaction() as s:
        bind_system(s)
        user = service.create_user(s, email=email, password="correct horse battery")
        bind_tenant(s, brand.id)
        service.add_member(s, brand_id=brand.id, user_id=user.id, role=role)
    return email


# --------------------------------------------------------------------------- products


def test_create_shows_in_the_list_with_price_and_method(client: Any, brand_a: Any, owner: str) -> None:
    product_id = _create(client, owner)
    api = _api_product(client, brand_a, product_id)
    assert api["price_cents"] == 1250 and api["currency"] == "EUR" and api["width_mm"] == 200
    assert api["palette"] == ["#112233"] and api["bleed_mm"] == 2
    page = client.get("/dashboard/products")
    assert page.status_code == 200
    assert "MUG-1" in page.text and "Mug" in page.text and "12.50" in page.text
    assert f"/dashboard/products/{product_id}/zones" in page.text


def test_a_bad_form_shows_the_api_errors_next_to_the_fields_and_writes_nothing(
    client: Any, brand_a: Any, owner: str
) -> None:
    r = post(
        client, "/dashboard/products/new", owner, _product_form(sku="bad sku!", width_mm="-3", price="1.234")
    )
    assert r.status_code == 422
    assert 'id="f-sku-error"' in r.text and 'id="f-price-error"' in r.text
    assert client.get("/api/v1/products", headers=brand_a.h()).json()["data"] == []


def test_a_taken_sku_is_a_field_error(client: Any, owner: str) -> None:
    _create(client, owner)
    r = post(client, "/dashboard/products/new", owner, _product_form())
    assert r.status_code == 422 and 'id="f-sku-error"' in r.text


def test_edit_saves_and_an_invalid_edit_changes_nothing(client: Any, brand_a: Any, owner: str) -> None:
    product_id = _create(client, owner)
    r = post(client, f"/dashboard/products/{product_id}", owner, _product_form(name="Big mug", price="20"))
    assert r.status_code == 303
    assert _api_product(client, brand_a, product_id)["name"] == "Big mug"
    # A zone that fits 200 mm but not 50 mm: shrinking the product is refused as a whole.
    assert (
        post(
            client, f"/dashboard/products/{product_id}/zones", owner, {"zones": json.dumps([_zone()])}
        ).status_code
        == 303
    )
    r = post(client, f"/dashboard/products/{product_id}", owner, _product_form(name="Tiny", width_mm="50"))
    assert r.status_code == 422 and "does not fit" in r.text
    api = _api_product(client, brand_a, product_id)
    assert api["name"] == "Big mug" and api["width_mm"] == 200 and api["price_cents"] == 2000


def test_duplicate_copies_zones_under_a_free_sku_and_archive_toggles(
    client: Any, brand_a: Any, owner: str
) -> None:
    product_id = _create(client, owner)
    post(client, f"/dashboard/products/{product_id}/zones", owner, {"zones": json.dumps([_zone()])})
    r = post(client, f"/dashboard/products/{product_id}/duplicate", owner)
    assert r.status_code == 303
    copy_id = r.headers["location"].rsplit("/", 1)[-1]
    copy = _api_product(client, brand_a, copy_id)
    assert (
        copy["sku"] == "MUG-1-copy"
        and copy["status"] == "draft"
        and [z["key"] for z in copy["zones"]] == ["name"]
    )
    again = post(client, f"/dashboard/products/{product_id}/duplicate", owner)
    assert (
        _api_product(client, brand_a, again.headers["location"].rsplit("/", 1)[-1])["sku"] == "MUG-1-copy-2"
    )
    assert post(client, f"/dashboard/products/{product_id}/archive", owner).status_code == 303
    assert _api_product(client, brand_a, product_id)["status"] == "archived"


def test_mockup_upload_becomes_the_products_print_area(client: Any, brand_a: Any, owner: str) -> None:
    product_id = _create(client, owner)
    r = client.post(
        f"/dashboard/products/{product_id}/mockup",
        data={"csrf": owner},
        files={"file": ("mug.png", _png(400, 180), "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:1000]
    mockup = _api_product(client, brand_a, product_id)["mockup"]
    assert mockup["width_px"] == 400 and mockup["corners"] == [[0, 0], [400, 0], [400, 180], [0, 180]]
    bad = client.post(
        f"/dashboard/products/{product_id}/model",
        data={"csrf": owner},
        files={"file": ("m.glb", b"not a glb", "model/gltf-binary")},
        follow_redirects=False,
    )
    assert bad.status_code == 422 and _api_product(client, brand_a, product_id)["model3d"] is None


# --------------------------------------------------------------------------- zones


def test_zones_are_saved_with_their_rules(client: Any, brand_a: Any, owner: str) -> None:
    product_id = _create(client, owner)
    editor = client.get(f"/dashboard/products/{product_id}/zones")
    assert editor.status_code == 200 and "products-zone-editor.js" in editor.text
    zones = [_zone(), _zone("photo", kind="image", rules={"required": False})]
    r = post(client, f"/dashboard/products/{product_id}/zones", owner, {"zones": json.dumps(zones)})
    assert r.status_code == 303
    api = _api_product(client, brand_a, product_id)
    assert [z["key"] for z in api["zones"]] == ["name", "photo"]
    assert api["zones"][0]["rules"]["max_chars"] == 12 and api["zones"][0]["rules"]["blocked_words"] == [
        "spam"
    ]
    first_id = api["zones"][0]["id"]
    # Saving again keeps a kept key's id, drops the missing zone.
    post(
        client,
        f"/dashboard/products/{product_id}/zones",
        owner,
        {"zones": json.dumps([_zone(label="Prénom")])},
    )
    api = _api_product(client, brand_a, product_id)
    assert [(z["id"], z["label"]) for z in api["zones"]] == [(first_id, "Prénom")]


def test_an_invalid_zone_list_is_refused_whole_with_field_errors(
    client: Any, brand_a: Any, owner: str
) -> None:
    product_id = _create(client, owner)
    post(client, f"/dashboard/products/{product_id}/zones", owner, {"zones": json.dumps([_zone()])})
    before = _api_product(client, brand_a, product_id)
    bad_rule = [_zone(label="changed"), _zone("other", rules={"max_chars": 0})]
    r = post(client, f"/dashboard/products/{product_id}/zones", owner, {"zones": json.dumps(bad_rule)})
    assert r.status_code == 422 and "zones.other.rules.max_chars" in r.text
    out_of_bounds = [
        _zone(label="changed"),
        _zone("big", geometry={"x_mm": 150, "y_mm": 0, "width_mm": 100, "height_mm": 10}),
    ]
    r = post(client, f"/dashboard/products/{product_id}/zones", owner, {"zones": json.dumps(out_of_bounds)})
    assert r.status_code == 422 and "zones.big.geometry" in r.text and "does not fit" in r.text
    unknown_font = [_zone(rules={"allowed_fonts": ["fnt_nope"]})]
    r = post(client, f"/dashboard/products/{product_id}/zones", owner, {"zones": json.dumps(unknown_font)})
    assert r.status_code == 422 and "zones.name.fonts" in r.text
    r = post(client, f"/dashboard/products/{product_id}/zones", owner, {"zones": "{not json"})
    assert r.status_code == 422
    after = _api_product(client, brand_a, product_id)
    assert after["zones"] == before["zones"] and after["version"] == before["version"]


def test_the_preview_renders_the_draft_zones_through_the_pipeline(client: Any, owner: str) -> None:
    product_id = _create(client, owner)
    r = client.post(
        f"/dashboard/products/{product_id}/zones/preview",
        data={"zones": json.dumps([_zone()]), "sample": "Hello"},
        headers={"X-CSRF-Token": owner, "HX-Request": "true"},
    )
    assert r.status_code == 200
    found = re.search(r'src="data:image/png;base64,([^"]+)"', r.text)
    assert found, r.text[:500]
    import base64

    img = Image.open(io.BytesIO(base64.b64decode(found.group(1))))
    assert img.width == 480 and len(set(img.convert("L").getdata())) > 1  # not a blank image
    blocked = client.post(
        f"/dashboard/products/{product_id}/zones/preview",
        data={"zones": json.dumps([_zone()]), "sample": "spam"},
        headers={"X-CSRF-Token": owner},
    )
    assert "data:image/png" not in blocked.text and "alert--warn" in blocked.text
    bad = client.post(
        f"/dashboard/products/{product_id}/zones/preview",
        data={"zones": json.dumps([_zone(rules={"max_chars": 0})])},
        headers={"X-CSRF-Token": owner},
    )
    assert bad.status_code == 200 and "max_chars" in bad.text
    assert _api_product_zones_untouched(client, product_id)


def _api_product_zones_untouched(client: Any, product_id: str) -> bool:
    return client.get(f"/dashboard/products/{product_id}/zones").status_code == 200


# --------------------------------------------------------------------------- fonts and assets


def test_fonts_upload_with_licence_and_coverage(client: Any, owner: str) -> None:
    page = client.get("/dashboard/fonts")
    assert page.status_code == 200 and "Latin Extended-A" in page.text and "Arabic" in page.text
    r = client.post(
        "/dashboard/fonts",
        data={"csrf": owner, "family": "House Sans", "licence_note": "OFL via DejaVu"},
        files={"file": ("house.ttf", FONT.read_bytes(), "font/ttf")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:1000]
    page = client.get("/dashboard/fonts")
    assert "House Sans" in page.text and "OFL via DejaVu" in page.text
    font_id = re.search(r"/dashboard/fonts/(fnt_[a-z0-9_]+)/sample.png", page.text).group(1)  # type: ignore[union-attr]
    sample = client.get(f"/dashboard/fonts/{font_id}/sample.png")
    assert sample.status_code == 200 and sample.headers["content-type"] == "image/png"
    bad = client.post(
        "/dashboard/fonts",
        data={"csrf": owner},
        files={"file": ("x.ttf", b"nope", "font/ttf")},
        follow_redirects=False,
    )
    assert bad.status_code == 422 and 'id="f-font-file-error"' in bad.text


def test_assets_library_lists_uploads_with_previews(client: Any, owner: str) -> None:
    r = client.post(
        "/dashboard/assets",
        data={"csrf": owner, "kind": "upload"},
        files={"file": ("logo.png", _png(), "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get("/dashboard/assets")
    assert page.status_code == 200 and "logo.png" in page.text
    asset_id = re.search(r"/dashboard/assets/(ast_[a-z0-9_]+)", page.text).group(1)  # type: ignore[union-attr]
    assert client.get(f"/dashboard/assets/{asset_id}").status_code == 200
    bad = client.post(
        "/dashboard/assets",
        data={"csrf": owner},
        files={"file": ("x.png", b"nope", "image/png")},
        follow_redirects=False,
    )
    assert bad.status_code == 422 and "alert--error" in bad.text


# --------------------------------------------------------------------------- isolation and roles


def test_another_brands_ids_answer_404_on_every_route(client: Any, brand_a: Any, brand_b: Any) -> None:
    csrf_b = sign_in(client, brand_b.owner_email)
    product_b = _create(client, csrf_b, sku="B-1")
    client.post(
        "/dashboard/fonts", data={"csrf": csrf_b}, files={"file": ("b.ttf", FONT.read_bytes(), "font/ttf")}
    )
    client.post("/dashboard/assets", data={"csrf": csrf_b}, files={"file": ("b.png", _png(), "image/png")})
    font_b = re.search(
        r"/dashboard/fonts/(fnt_[a-z0-9_]+)/sample", client.get("/dashboard/fonts").text
    ).group(1)  # type: ignore[union-attr]
    asset_b = re.search(r"/dashboard/assets/(ast_[a-z0-9_]+)", client.get("/dashboard/assets").text).group(1)  # type: ignore[union-attr]
    client.cookies.clear()
    csrf_a = sign_in(client, brand_a.owner_email)
    for path in (
        f"/dashboard/products/{product_b}",
        f"/dashboard/products/{product_b}/zones",
        f"/dashboard/fonts/{font_b}/sample.png",
        f"/dashboard/assets/{asset_b}",
    ):
        assert client.get(path).status_code == 404, path
    writes = {
        f"/dashboard/products/{product_b}": _product_form(),
        f"/dashboard/products/{product_b}/duplicate": {},
        f"/dashboard/products/{product_b}/archive": {},
        f"/dashboard/products/{product_b}/zones": {"zones": json.dumps([_zone()])},
        f"/dashboard/products/{product_b}/zones/preview": {"zones": "[]"},
    }
    for path, data in writes.items():
        assert post(client, path, csrf_a, data).status_code == 404, path
    for path in (f"/dashboard/products/{product_b}/mockup", f"/dashboard/products/{product_b}/model"):
        r = client.post(path, data={"csrf": csrf_a}, files={"file": ("a.png", _png(), "image/png")})
        assert r.status_code == 404, path
    assert _api_product(client, brand_b, product_b)["zones"] == []
    assert _api_product(client, brand_b, product_b)["status"] == "draft"


def test_a_viewer_reads_but_cannot_write(client: Any, brand_a: Any) -> None:
    csrf_owner = sign_in(client, brand_a.owner_email)
    product_id = _create(client, csrf_owner)
    client.cookies.clear()
    csrf = sign_in(client, _member(brand_a, "viewer"))
    for path in (
        "/dashboard/products",
        f"/dashboard/products/{product_id}",
        f"/dashboard/products/{product_id}/zones",
        "/dashboard/fonts",
        "/dashboard/assets",
    ):
        r = client.get(path)
        assert r.status_code == 200, path
        assert (
            'enctype="multipart/form-data"' not in r.text
            and "Save zones" not in r.text
            and "New product" not in r.text
        ), path
    assert client.get("/dashboard/products/new").status_code == 403
    for path, data in {
        "/dashboard/products/new": _product_form(sku="V-1"),
        f"/dashboard/products/{product_id}": _product_form(name="hacked"),
        f"/dashboard/products/{product_id}/duplicate": {},
        f"/dashboard/products/{product_id}/archive": {},
        f"/dashboard/products/{product_id}/zones": {"zones": json.dumps([_zone()])},
    }.items():
        assert post(client, path, csrf, data).status_code == 403, path
    for path in ("/dashboard/fonts", "/dashboard/assets", f"/dashboard/products/{product_id}/mockup"):
        assert (
            client.post(path, data={"csrf": csrf}, files={"file": ("a.png", _png(), "image/png")}).status_code
            == 403
        )
    api = _api_product(client, brand_a, product_id)
    assert api["name"] == "Mug" and api["zones"] == []


@contextmanager
def _count_queries() -> Iterator[list[str]]:
    from luneo.platform.database import get_db

    engine = get_db().engine
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_product_list_query_count_does_not_grow_with_products(
    client: Any, brand_a: Any, owner: str
) -> None:
    def seed(n: int, start: int) -> None:
        for i in range(start, start + n):
            body = {"sku": f"P-{i}", "name": f"P {i}", "width_mm": 100, "height_mm": 50, "zones": [_zone()]}
            assert client.post("/api/v1/products", json=body, headers=brand_a.h()).status_code == 201

    seed(2, 0)
    client.get("/dashboard/products")
    with _count_queries() as few:
        assert client.get("/dashboard/products").status_code == 200
    seed(28, 2)
    with _count_queries() as many:
        page = client.get("/dashboard/products")
    assert page.text.count("<tr>") == 31
    assert len(many) == len(few), (len(few), len(many))
    assert len(many) <= 15


def test_the_fonts_and_assets_pages_query_count_does_not_grow_with_rows(
    client: Any, brand_a: Any, owner: str
) -> None:
    from luneo.design.fonts import BUNDLED_FONTS
    from luneo.design.fonts import font_bytes as bundled_bytes

    fonts = [f for f in BUNDLED_FONTS.values() if f.id not in ("fnt_cjk", "fnt_emoji")][:4]

    def seed(start: int, stop: int) -> None:
        for i in range(start, stop):
            r = client.post(
                "/dashboard/assets",
                data={"csrf": owner, "kind": "upload"},
                files={"file": (f"a{i}.png", _png(20 + i, 20), "image/png")},
                follow_redirects=False,
            )
            assert r.status_code == 303, r.text[:300]
        for f in fonts[start // 3 : stop // 3]:
            r = client.post(
                "/dashboard/fonts",
                data={"csrf": owner, "family": f"House {f.id}", "licence_note": "OFL"},
                files={"file": (f"{f.id}.ttf", bundled_bytes(f.id), "font/ttf")},
                follow_redirects=False,
            )
            assert r.status_code == 303, r.text[:300]

    counts: dict[str, list[int]] = {"/dashboard/assets": [], "/dashboard/fonts": []}
    seed(0, 3)
    for path in counts:
        client.get(path)  # warm the per-process caches
    for start, stop in ((3, 3), (3, 12)):
        seed(start, stop)
        for path, seen_counts in counts.items():
            with _count_queries() as seen:
                assert client.get(path).status_code == 200
            seen_counts.append(len(seen))
    assert client.get("/dashboard/assets").text.count("a11.png") >= 1
    listed = client.get("/dashboard/fonts").text
    assert len(fonts) == 4 and all(f"House {f.id}" in listed for f in fonts)
    for path, (few, many) in counts.items():
        assert few == many and few <= 15, (path, few, many)


# --------------------------------------------------------------------------- CMYK profile, thin strokes


def _cmyk_product(client: Any, brand: Any, **over: Any) -> str:
    """A print product with CMYK output, made through the API (the dashboard has no colour-mode field)."""
    body = {
        "sku": "CARD-1",
        "name": "Card",
        "width_mm": 85,
        "height_mm": 55,
        "production_method": "print",
        "color_mode": "cmyk",
        **over,
    }
    r = client.post("/api/v1/products", json=body, headers=brand.h())
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_a_cmyk_print_product_picks_its_cmyk_profile(client: Any, brand_a: Any, owner: str) -> None:
    product_id = _cmyk_product(client, brand_a)
    page = client.get(f"/dashboard/products/{product_id}")
    assert page.status_code == 200
    assert 'id="f-cmyk_profile"' in page.text and 'aria-describedby="f-cmyk_profile-hint"' in page.text
    assert re.search(r'<option value="coated"\s+selected', page.text)
    form = _product_form(sku="CARD-1", name="Card", width_mm="85", height_mm="55", cmyk_profile="uncoated")
    r = post(client, f"/dashboard/products/{product_id}", owner, form)
    assert r.status_code == 303, r.text[:2000]
    api = _api_product(client, brand_a, product_id)
    assert api["cmyk_profile"] == "uncoated" and api["color_mode"] == "cmyk"
    assert re.search(
        r'<option value="uncoated"\s+selected', client.get(f"/dashboard/products/{product_id}").text
    )
    # An unknown profile: the API's 422 next to the field, nothing written.
    r = post(
        client, f"/dashboard/products/{product_id}", owner, {**form, "cmyk_profile": "glossy", "name": "X"}
    )
    assert r.status_code == 422
    assert 'id="f-cmyk_profile-error"' in r.text and 'aria-invalid="true"' in r.text
    api = _api_product(client, brand_a, product_id)
    assert api["cmyk_profile"] == "uncoated" and api["name"] == "Card"


def test_the_cmyk_profile_is_offered_only_for_cmyk_print_products(
    client: Any, brand_a: Any, owner: str
) -> None:
    rgb = _create(client, owner)
    assert 'id="f-cmyk_profile"' not in client.get(f"/dashboard/products/{rgb}").text
    assert 'id="f-cmyk_profile"' not in client.get("/dashboard/products/new").text
    engraved = _cmyk_product(client, brand_a, sku="ENG-1", production_method="engrave")
    assert 'id="f-cmyk_profile"' not in client.get(f"/dashboard/products/{engraved}").text
    # Saving a form without the field keeps the stored profile.
    card = _cmyk_product(client, brand_a, sku="CARD-2", cmyk_profile="uncoated")
    form = _product_form(sku="CARD-2", name="Card 2", width_mm="85", height_mm="55")
    assert post(client, f"/dashboard/products/{card}", owner, form).status_code == 303
    assert _api_product(client, brand_a, card)["cmyk_profile"] == "uncoated"


def test_the_zone_editor_offers_the_thin_stroke_rule_and_saves_it(
    client: Any, brand_a: Any, owner: str
) -> None:
    product_id = _create(client, owner, production_method="engrave")
    editor = client.get(f"/dashboard/products/{product_id}/zones")
    assert 'id="z-thin-stroke"' in editor.text and 'data-rule="thin_stroke"' in editor.text
    assert 'aria-describedby="z-thin-stroke-hint"' in editor.text
    # the default option names what this product's method does
    assert re.search(r'<option value="">[^<]*refuse', editor.text), editor.text
    zones = [_zone(rules={"max_chars": 12, "thin_stroke": "warn"})]
    r = post(client, f"/dashboard/products/{product_id}/zones", owner, {"zones": json.dumps(zones)})
    assert r.status_code == 303
    assert _api_product(client, brand_a, product_id)["zones"][0]["rules"]["thin_stroke"] == "warn"
    assert '"thin_stroke": "warn"' in html.unescape(
        client.get(f"/dashboard/products/{product_id}/zones").text
    )
    bad = [_zone(rules={"thin_stroke": "ignore"})]
    r = post(client, f"/dashboard/products/{product_id}/zones", owner, {"zones": json.dumps(bad)})
    assert r.status_code == 422 and "zones.name.rules.thin_stroke" in r.text
    assert _api_product(client, brand_a, product_id)["zones"][0]["rules"]["thin_stroke"] == "warn"
    printed = _create(client, owner, sku="MUG-2")
    assert re.search(r'<option value="">[^<]*warn', client.get(f"/dashboard/products/{printed}/zones").text)
